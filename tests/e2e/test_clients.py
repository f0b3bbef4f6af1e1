"""What clients the project did not write send, reproduced byte for byte:
version "0" (OVMS's samples), KServe binary inputs without binary_data_size
(OVMS's docs), and gzip/deflate bodies and replies (tritonclient's
request_compression_algorithm / response_compression_algorithm)."""
import gzip
import json
import socket
import struct
import zlib

import cv2
import numpy as np
import pytest
import requests

import make_example_models as models
from conftest import Tessera, kpb, torch_reference, write_config
from four_doors import HEADER_LENGTH, kserve_grpc_infer
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

RTOL = 1e-5
ATOL = 1e-6
# Small enough that a bomb is refused after inflating little; large enough for
# every request below.
MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("clients")
    models.make_dense(str(root / "dense" / "1"), seed=1)
    models.make_dense(str(root / "dense" / "2"), seed=2)
    models.make_add_sub(str(root / "add_sub" / "1"))
    models.make_classifier(str(root / "classifier" / "1"))
    write_config(root / "config.json", [
        {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
        {"name": "add_sub", "base_path": "add_sub"},
        {"name": "classifier", "base_path": "classifier", "layout": "NHWC:NCHW"},
    ])
    s = Tessera(["--config_path", str(root / "config.json"),
                 "--rest_max_body_bytes", str(MAX_BODY)], root).start()
    s.root = root
    s.http = requests.Session()
    yield s
    s.http.close()
    assert s.stop() == 0, s.logs()


def dense_expected(server, version, x):
    return torch_reference(server.root / "dense" / str(version) / "model.pt", x)[0]


def post(server, path, data, headers=None):
    return server.http.post(server.rest_url + path, data=data, headers=headers or {}, timeout=60)


X = np.arange(32, dtype=np.float32).reshape(2, 16) / 10


# --- version "0" is the default version (here 2) -----------------------------

def test_kserve_grpc_version_zero(server):
    req = kpb.ModelInferRequest(model_name="dense", model_version="0")
    req.inputs.add(name="x", datatype="FP32", shape=[2, 16])
    req.raw_input_contents.append(X.tobytes())
    resp = server.stub.ModelInfer(req, timeout=30)
    assert resp.model_version == "2"
    got = np.frombuffer(resp.raw_output_contents[0], np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)
    assert server.stub.ModelReady(kpb.ModelReadyRequest(name="dense", version="0"),
                                  timeout=30).ready
    meta = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense", version="0"),
                                     timeout=30)
    assert list(meta.versions) == ["1", "2"]


def test_kserve_rest_version_zero(server):
    body = {"inputs": [{"name": "x", "shape": [2, 16], "datatype": "FP32",
                        "data": X.ravel().tolist()}]}
    resp = post(server, "/v2/models/dense/versions/0/infer", json.dumps(body))
    assert resp.status_code == 200, resp.text
    reply = resp.json()
    assert reply["model_name"] == "dense" and reply["model_version"] == "2"
    got = np.array(reply["outputs"][0]["data"], np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)
    assert server.http.get(server.rest_url + "/v2/models/dense/versions/0/ready",
                           timeout=30).status_code == 200
    meta = server.http.get(server.rest_url + "/v2/models/dense/versions/0", timeout=30)
    assert meta.status_code == 200 and meta.json()["versions"] == ["1", "2"]
    bad = post(server, "/v2/models/dense/versions/-1/infer", json.dumps(body))
    assert bad.status_code == 400
    assert bad.json() == {"error": "Invalid model version '-1': expected a non-negative "
                                   "integer (0 = the default version)"}


@pytest.mark.parametrize("set_version", [True, False])
def test_tfs_grpc_version_zero_and_unset(server, set_version):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = "dense"
    if set_version:
        req.model_spec.version.value = 0
    req.inputs["x"].CopyFrom(tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, tensor_content=X.tobytes(),
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in X.shape])))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(server.channel)
    resp = stub.Predict(req, timeout=30)
    assert resp.model_spec.version.value == 2
    got = np.frombuffer(resp.outputs["y"].tensor_content, np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)


def test_tfs_rest_version_zero(server):
    resp = post(server, "/v1/models/dense/versions/0:predict", json.dumps({"instances": X.tolist()}))
    assert resp.status_code == 200, resp.text
    np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32),
                               dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)
    status = server.http.get(server.rest_url + "/v1/models/dense/versions/0", timeout=30).json()
    assert [v["version"] for v in status["model_version_status"]] == ["1", "2"]
    meta = server.http.get(server.rest_url + "/v1/models/dense/versions/0/metadata", timeout=30)
    assert meta.json()["model_spec"]["version"] == "2"


# --- binary inputs without binary_data_size ----------------------------------

def jpeg(seed):
    y, x = np.mgrid[0:32, 0:32]
    img = np.stack([(40 * seed + 3 * x + 5 * y + 60 * c) % 256 for c in range(3)], -1)
    ok, buf = cv2.imencode(".jpg", img.astype(np.uint8))
    assert ok
    return buf.tobytes()


def test_the_ovms_docs_single_image_request(server):
    image = jpeg(1)
    header = json.dumps({"inputs": [{"name": "data", "shape": [1], "datatype": "BYTES"}]},
                        separators=(",", ":")).encode()
    body = header + struct.pack("<I", len(image)) + image
    resp = post(server, "/v2/models/classifier/versions/0/infer", body,
                {HEADER_LENGTH: str(len(header)), "Content-Type": "application/octet-stream"})
    assert resp.status_code == 200, resp.text
    reply = resp.json()
    assert reply["model_version"] == "1"
    got = np.array(reply["outputs"][0]["data"], np.float32).reshape(reply["outputs"][0]["shape"])
    # The same image with binary_data_size gives the same answer.
    sized = kserve_grpc_infer(server, "classifier", images=[image])["probs"]
    assert got.shape == (1, 10)
    np.testing.assert_allclose(got, sized, rtol=RTOL, atol=ATOL)


def test_fixed_size_inputs_without_binary_data_size(server):
    a = np.arange(8, dtype=np.float32).reshape(1, 8)
    b = np.full((1, 8), 0.5, np.float32)
    header = json.dumps({"inputs": [
        {"name": "a", "shape": [1, 8], "datatype": "FP32"},
        {"name": "b", "shape": [1, 8], "datatype": "FP32"}]}).encode()
    resp = post(server, "/v2/models/add_sub/infer", header + a.tobytes() + b.tobytes(),
                {HEADER_LENGTH: str(len(header))})
    assert resp.status_code == 200, resp.text
    out = {o["name"]: np.array(o["data"], np.float32) for o in resp.json()["outputs"]}
    np.testing.assert_allclose(out["sum"], (a + b).ravel())
    np.testing.assert_allclose(out["diff"], (a - b).ravel())


@pytest.mark.parametrize("extra,error", [
    (b"x", "The binary part of the body has 65 bytes but the inputs take 64 "
           "(binary_data_size, or shape x datatype size)"),
    (None, "Binary data of input 'b' (32 bytes) runs past the end of the body"),
])
def test_binary_sizes_that_do_not_add_up(server, extra, error):
    header = json.dumps({"inputs": [
        {"name": "a", "shape": [1, 8], "datatype": "FP32"},
        {"name": "b", "shape": [1, 8], "datatype": "FP32"}]}).encode()
    binary = bytes(64) + extra if extra else bytes(40)
    resp = post(server, "/v2/models/add_sub/infer", header + binary,
                {HEADER_LENGTH: str(len(header))})
    assert resp.status_code == 400
    assert resp.json() == {"error": error}


# --- Content-Encoding gzip / deflate -----------------------------------------

def compress(coding, data):
    return gzip.compress(data) if coding == "gzip" else zlib.compress(data)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_kserve_json_request(server, coding):
    body = json.dumps({"inputs": [{"name": "x", "shape": [2, 16], "datatype": "FP32",
                                   "data": X.ravel().tolist()}]}).encode()
    resp = post(server, "/v2/models/dense/infer", compress(coding, body),
                {"Content-Encoding": coding, "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.text
    got = np.array(resp.json()["outputs"][0]["data"], np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_kserve_binary_request_as_tritonclient_sends_it(server, coding):
    # tritonclient compresses the whole body (JSON + binary part);
    # Inference-Header-Content-Length counts the uncompressed JSON.
    header = json.dumps({"inputs": [{"name": "x", "shape": [2, 16], "datatype": "FP32",
                                     "parameters": {"binary_data_size": X.nbytes}}],
                         "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}).encode()
    resp = post(server, "/v2/models/dense/versions/1/infer", compress(coding, header + X.tobytes()),
                {"Content-Encoding": coding, HEADER_LENGTH: str(len(header)),
                 "Accept-Encoding": "identity"})
    assert resp.status_code == 200, resp.text
    assert "Content-Encoding" not in resp.headers
    json_size = int(resp.headers[HEADER_LENGTH])
    got = np.frombuffer(resp.content[json_size:], np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, dense_expected(server, 1, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_tfs_request(server, coding):
    body = json.dumps({"instances": X.tolist()}).encode()
    resp = post(server, "/v1/models/dense:predict", compress(coding, body),
                {"Content-Encoding": coding})
    assert resp.status_code == 200, resp.text
    np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32),
                               dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)


def raw_reply(server, method, path, body=b"", headers=()):
    """The reply's status, headers and body bytes as sent (nothing decoded)."""
    resp = server.http.request(method, server.rest_url + path, data=body, timeout=60,
                               headers=dict(headers), stream=True)
    data = resp.raw.read(decode_content=False)
    return resp.status_code, resp.headers, data


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
@pytest.mark.parametrize("door", ["kserve", "tfs"])
def test_replies_are_compressed_when_accepted(server, coding, door):
    x = np.linspace(-1, 1, 64 * 16, dtype=np.float32).reshape(64, 16)  # a reply > 1 KiB
    if door == "kserve":
        path = "/v2/models/dense/infer"
        body = json.dumps({"inputs": [{"name": "x", "shape": [64, 16], "datatype": "FP32",
                                       "data": x.ravel().tolist()}]}).encode()
    else:
        path = "/v1/models/dense:predict"
        body = json.dumps({"instances": x.tolist()}).encode()
    status, headers, data = raw_reply(server, "POST", path, body, {"Accept-Encoding": coding})
    assert status == 200
    assert headers["Content-Encoding"] == coding
    assert headers["Vary"] == "Accept-Encoding"
    plain = gzip.decompress(data) if coding == "gzip" else zlib.decompress(data)
    assert len(plain) > len(data)
    reply = json.loads(plain)
    got = np.array(reply["outputs"][0]["data"] if door == "kserve" else reply["predictions"],
                   np.float32).reshape(64, 4)
    np.testing.assert_allclose(got, dense_expected(server, 2, x), rtol=RTOL, atol=ATOL)
    # Not accepted: plain.
    status, headers, data = raw_reply(server, "POST", path, body, {"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in headers and json.loads(data) == reply


def test_small_replies_are_not_compressed(server):
    status, headers, data = raw_reply(server, "GET", "/v2/models/dense/ready", b"",
                                      {"Accept-Encoding": "gzip"})
    assert status == 200 and "Content-Encoding" not in headers and data == b""
    status, headers, data = raw_reply(server, "GET", "/v1/models/dense", b"",
                                      {"Accept-Encoding": "gzip"})
    assert status == 200 and "Content-Encoding" not in headers
    assert len(json.loads(data)["model_version_status"]) == 2


def test_unknown_content_encoding_is_415(server):
    resp = post(server, "/v2/models/dense/infer", b"{}", {"Content-Encoding": "br"})
    assert resp.status_code == 415
    assert resp.headers["Accept-Encoding"] == "gzip, deflate"
    assert resp.json() == {"error": "Unsupported Content-Encoding 'br'; supported: gzip, "
                                    "deflate, identity"}


@pytest.mark.parametrize("door", ["/v2/models/dense/infer", "/v1/models/dense:predict"])
def test_corrupt_compressed_bodies_are_400(server, door):
    resp = post(server, door, b'{"inputs": []}', {"Content-Encoding": "gzip"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "Invalid gzip request body: incorrect header check"}
    truncated = gzip.compress(b'{"instances": [[1]]}')[:-4]
    resp = post(server, door, truncated, {"Content-Encoding": "gzip"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "Invalid gzip request body: truncated data"}
    resp = post(server, door, zlib.compress(b"{}") + b"more", {"Content-Encoding": "deflate"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "Invalid deflate request body: 4 bytes after the end of "
                                    "the compressed data"}


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_body_inflating_past_the_limit_is_413(server, coding):
    # Just over the limit, and a bomb: 64 MiB of zeros in ~64 KB. Both are
    # refused once MAX_BODY + 1 bytes are inflated, never more.
    for plain in (bytes(MAX_BODY + 1), bytes(64 << 20)):
        body = compress(coding, plain)
        assert len(body) < MAX_BODY
        for door in ("/v2/models/dense/infer", "/v1/models/dense:predict"):
            resp = post(server, door, body, {"Content-Encoding": coding})
            assert resp.status_code == 413
            assert resp.json() == {"error": "Decompressed request body is larger than the "
                                            f"limit of {MAX_BODY} bytes"}
    # Exactly at the limit is inflated (and then read as a bad request body).
    resp = post(server, "/v1/models/dense:predict", compress(coding, b" " * MAX_BODY),
                {"Content-Encoding": coding})
    assert resp.status_code == 400


def test_keep_alive_survives_encoding_errors(server):
    # One connection: an error about the coding answers that request only.
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as sock:
        def send(headers, body):
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            sock.sendall(f"POST /v1/models/dense:predict HTTP/1.1\r\nHost: x\r\n{head}"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int([l for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length")][0].split(b":")[1])
            while len(rest) < length:
                rest += sock.recv(65536)
            return int(head.split()[1]), rest
        assert send({"Content-Encoding": "br"}, b"{}")[0] == 415
        assert send({"Content-Encoding": "gzip"}, b"nope")[0] == 400
        status, body = send({"Content-Encoding": "gzip"},
                            gzip.compress(json.dumps({"instances": X.tolist()}).encode()))
        assert status == 200
        np.testing.assert_allclose(np.array(json.loads(body)["predictions"], np.float32),
                                   dense_expected(server, 2, X), rtol=RTOL, atol=ATOL)
