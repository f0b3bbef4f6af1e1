"""gRPC and REST over TLS, and mutual TLS: certificates are made here with the
openssl command line (a CA, a server certificate for 127.0.0.1/localhost, a
client certificate the CA signed, and a self-signed rogue client)."""
import socket
import subprocess
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import kgrpc, kpb, output_array, raw_request, run_tessera
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

A = np.arange(8, dtype=np.float32).reshape(1, 8) - 3
B = np.full((1, 8), 0.25, dtype=np.float32)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=Tessera Test CA", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                  "extendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={'localhost' if name == 'server' else 'test client'}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem",
            "-days", "2", "-subj", "/CN=rogue client", cwd=d)
    return d


def tls_args(certs, mutual=False):
    args = []
    for door in ("grpc", "rest"):
        args += [f"--{door}_tls_cert", str(certs / "server.pem"), f"--{door}_tls_key", str(certs / "server.key")]
        if mutual:
            args += [f"--{door}_tls_client_ca", str(certs / "ca.pem")]
    return args


def channel(server, certs, client=None):
    """A TLS channel to the gRPC port; `client` is "client" or "rogue" for a client certificate."""
    key = cert = None
    if client:
        key, cert = (certs / f"{client}.key").read_bytes(), (certs / f"{client}.pem").read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=(certs / "ca.pem").read_bytes(),
                                         private_key=key, certificate_chain=cert)
    return grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", creds,
                               options=[("grpc.ssl_target_name_override", "localhost")])


def https(server):
    return f"https://127.0.0.1:{server.rest_port}"


def start_tls(start_tessera, repo, certs, mutual=False):
    server = start_tessera("--model_name", "add_sub", "--model_path", str(repo / "add_sub"),
                           *tls_args(certs, mutual), wait_ready=False)
    client = (str(certs / "client.pem"), str(certs / "client.key")) if mutual else None
    deadline = time.time() + 60
    while True:
        assert server.proc.poll() is None, server.logs()
        try:
            if requests.get(f"{https(server)}/v2/health/ready", verify=str(certs / "ca.pem"),
                            cert=client, timeout=2).status_code == 200:
                # The server turns ready just before gRPC starts listening
                # (no gRPC call may see "not ready"): wait for that port too.
                with socket.create_connection(("127.0.0.1", server.grpc_port), timeout=2):
                    return server
        except (requests.ConnectionError, ConnectionRefusedError):
            pass
        assert time.time() < deadline, server.logs()
        time.sleep(0.2)


def kserve_grpc_infer(ch):
    stub = kgrpc.GRPCInferenceServiceStub(ch)
    reply = stub.ModelInfer(raw_request("add_sub", {"a": A, "b": B}, {"a": "FP32", "b": "FP32"}), timeout=10)
    np.testing.assert_array_equal(output_array(reply, "sum"), A + B)
    np.testing.assert_array_equal(output_array(reply, "diff"), A - B)


def tfs_grpc_predict(ch):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = "add_sub"
    for name, array in (("a", A), ("b", B)):
        req.inputs[name].CopyFrom(tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in array.shape]),
            tensor_content=array.tobytes()))
    reply = prediction_service_pb2_grpc.PredictionServiceStub(ch).Predict(req, timeout=10)
    got = np.frombuffer(reply.outputs["diff"].tensor_content, np.float32).reshape(1, 8)
    np.testing.assert_array_equal(got, A - B)


def rest_calls(server, certs, client=None):
    ca = str(certs / "ca.pem")
    body = {"inputs": [{"name": "a", "datatype": "FP32", "shape": [1, 8], "data": A.ravel().tolist()},
                       {"name": "b", "datatype": "FP32", "shape": [1, 8], "data": B.ravel().tolist()}]}
    r = requests.post(f"{https(server)}/v2/models/add_sub/infer", json=body, verify=ca, cert=client, timeout=10)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o["data"] for o in r.json()["outputs"]}
    np.testing.assert_array_equal(np.array(outputs["sum"], np.float32), (A + B).ravel())
    r = requests.post(f"{https(server)}/v1/models/add_sub:predict",
                      json={"inputs": {"a": A.tolist(), "b": B.tolist()}}, verify=ca, cert=client, timeout=10)
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.array(r.json()["outputs"]["diff"], np.float32), A - B)


def assert_grpc_refused(ch):
    with pytest.raises(grpc.RpcError) as e:
        kgrpc.GRPCInferenceServiceStub(ch).ServerLive(kpb.ServerLiveRequest(), timeout=5)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    ch.close()


def test_all_four_doors_over_tls_and_plaintext_is_refused(start_tessera, repo, certs):
    server = start_tls(start_tessera, repo, certs)
    with channel(server, certs) as ch:
        kserve_grpc_infer(ch)
        tfs_grpc_predict(ch)
    rest_calls(server, certs)
    # The server certificate is checked by the clients: it names 127.0.0.1.
    r = requests.get(f"{https(server)}/v2/health/live", verify=str(certs / "ca.pem"), timeout=10)
    assert r.status_code == 200
    # Plaintext clients get no answer on the TLS ports.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.rest_port}/v2/health/live", timeout=10)
    assert_grpc_refused(grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    # A client that does not trust the CA refuses the server.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https(server)}/v2/health/live", timeout=10)
    rest_calls(server, certs)


def test_mutual_tls_needs_a_client_certificate_the_ca_signed(start_tessera, repo, certs):
    server = start_tls(start_tessera, repo, certs, mutual=True)
    good = (str(certs / "client.pem"), str(certs / "client.key"))
    rogue = (str(certs / "rogue.pem"), str(certs / "rogue.key"))
    with channel(server, certs, "client") as ch:
        kserve_grpc_infer(ch)
        tfs_grpc_predict(ch)
    rest_calls(server, certs, good)
    assert_grpc_refused(channel(server, certs))
    assert_grpc_refused(channel(server, certs, "rogue"))
    for cert in (None, rogue):
        with pytest.raises(requests.ConnectionError):
            rest_calls(server, certs, cert)
    rest_calls(server, certs, good)


@pytest.mark.parametrize("door", ["grpc", "rest"])
def test_bad_tls_files_stop_start_up_naming_the_flag(repo, certs, door):
    base = ["--model_name", "add_sub", "--model_path", str(repo / "add_sub"), "--rest_port", "0"]
    if door == "rest":
        base = ["--model_name", "add_sub", "--model_path", str(repo / "add_sub"), "--port", "0",
                "--rest_port", "1"]
    cert, key = str(certs / "server.pem"), str(certs / "server.key")
    cases = [
        ([f"--{door}_tls_cert", str(certs / "missing.pem"), f"--{door}_tls_key", key],
         f"--{door}_tls_cert: cannot read {certs / 'missing.pem'}: No such file or directory"),
        ([f"--{door}_tls_cert", cert, f"--{door}_tls_key", str(certs / "client.key")],
         f"--{door}_tls_key: {certs / 'client.key'} does not match the certificate in --{door}_tls_cert"),
        ([f"--{door}_tls_cert", cert, f"--{door}_tls_key", key, f"--{door}_tls_client_ca", str(certs / "server.ext")],
         f"--{door}_tls_client_ca: {certs / 'server.ext'} holds no PEM certificate"),
        ([f"--{door}_tls_cert", cert], f"--{door}_tls_cert requires --{door}_tls_key"),
    ]
    for args, message in cases:
        done = run_tessera(base + args)
        assert done.returncode == 1, done.stderr
        lines = [l for l in (done.stdout + done.stderr).splitlines() if l.strip()]
        assert any(l.endswith(message) for l in lines), (message, done.stdout, done.stderr)
