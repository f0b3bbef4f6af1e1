"""KServe v2 REST: every endpoint over HTTP, values against python3-torch."""
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from conftest import Tessera, make_repository, torch_reference, write_config

RTOL = 1e-5
ATOL = 1e-6
HEADER_LENGTH = "Inference-Header-Content-Length"
DTYPES = {"FP32": np.float32, "INT64": np.int64, "BOOL": np.bool_}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("kserve_rest"))
    write_config(root / "config.json", [
        {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
        {"name": "add_sub", "base_path": "add_sub"},
        {"name": "int_ops", "base_path": "int_ops"},
    ])
    s = Tessera(["--config_path", str(root / "config.json"), "--rest_workers", "2"], root).start()
    s.root = root
    s.http = requests.Session()
    yield s
    s.http.close()
    assert s.stop() == 0, s.logs()


def url(server, path):
    return server.rest_url + path


def get(server, path):
    return server.http.get(url(server, path), timeout=30)


def post_json(server, path, body):
    return server.http.post(url(server, path), data=json.dumps(body), timeout=30,
                            headers={"Content-Type": "application/json"})


def infer(server, model, body, version=None):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    return post_json(server, path, body)


def json_input(name, array, datatype, nested=True):
    data = array.tolist() if nested else array.ravel().tolist()
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def output_array(reply, name):
    for out in reply["outputs"]:
        if out["name"] == name:
            return np.array(out["data"], dtype=DTYPES[out["datatype"]]).reshape(out["shape"])
    raise KeyError(name)


def binary_body(header, arrays):
    """JSON header + raw tensors; returns (body, headers)."""
    text = json.dumps(header).encode()
    body = text + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
    return body, {HEADER_LENGTH: str(len(text)), "Content-Type": "application/octet-stream"}


def split_binary_reply(resp):
    """(json header dict, {name: array}) of a reply with binary outputs."""
    assert resp.headers["Content-Type"] == "application/octet-stream"
    n = int(resp.headers[HEADER_LENGTH])
    header = json.loads(resp.content[:n])
    arrays, offset = {}, n
    for out in header["outputs"]:
        if "binary_data_size" not in out.get("parameters", {}):
            continue  # a JSON output
        size = out["parameters"]["binary_data_size"]
        raw = resp.content[offset:offset + size]
        offset += size
        arrays[out["name"]] = np.frombuffer(raw, DTYPES[out["datatype"]]).reshape(out["shape"])
    assert offset == len(resp.content)
    return header, arrays


def expect_error(resp, status, text):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    message = resp.json()["error"]
    assert text in message, message
    return message


def test_health(server):
    for path in ["/v2/health/live", "/v2/health/ready", "/V2/HEALTH/READY"]:
        resp = get(server, path)
        assert resp.status_code == 200
        assert resp.content == b""


def test_server_metadata(server):
    resp = get(server, "/v2")
    assert resp.status_code == 200
    md = resp.json()
    assert md["name"] == "tessera"
    assert md["version"]
    assert "binary_tensor_data" in md["extensions"]


def test_model_metadata(server):
    md = get(server, "/v2/models/dense").json()
    assert md == {
        "name": "dense", "versions": ["1", "2"], "platform": "pytorch_torchscript",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}],
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 4]}],
    }
    assert get(server, "/v2/models/dense/versions/1").json()["name"] == "dense"
    md = get(server, "/v2/models/add_sub").json()
    assert [t["name"] for t in md["inputs"]] == ["a", "b"]
    assert [t["name"] for t in md["outputs"]] == ["sum", "diff"]
    md = get(server, "/v2/models/int_ops").json()
    assert [(t["name"], t["datatype"]) for t in md["outputs"]] == [("y", "INT64"), ("mask", "BOOL")]
    expect_error(get(server, "/v2/models/nope"), 404, "Model with requested name is not found")
    expect_error(get(server, "/v2/models/dense/versions/7"), 404,
                 "Model with requested version is not found")
    expect_error(get(server, "/v2/models/dense/versions/abc"), 400, "abc")


def test_model_ready(server):
    for path in ["/v2/models/dense/ready", "/v2/models/dense/versions/1/ready",
                 "/v2/MODELS/dense/Ready"]:
        resp = get(server, path)
        assert resp.status_code == 200, path
        assert resp.content == b""
    expect_error(get(server, "/v2/models/nope/ready"), 404, "Model with requested name is not found")
    expect_error(get(server, "/v2/models/dense/versions/7/ready"), 404,
                 "Model with requested version is not found")


@pytest.mark.parametrize("version", ["1", "2", None])
def test_json_infer_matches_torch(server, version):
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    resp = infer(server, "dense", {"id": "req-7", "inputs": [json_input("x", x, "FP32")]}, version)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    reply = resp.json()
    used = version or "2"
    assert reply["model_name"] == "dense"
    assert reply["model_version"] == used
    assert reply["id"] == "req-7"
    assert [(o["name"], o["datatype"], o["shape"]) for o in reply["outputs"]] == [("y", "FP32", [3, 4])]
    (expected,) = torch_reference(server.root / "dense" / used / "model.pt", x)
    np.testing.assert_allclose(output_array(reply, "y"), expected, rtol=RTOL, atol=ATOL)


def test_flat_data_and_no_id(server):
    x = np.arange(32, dtype=np.float32).reshape(2, 16) / 10
    reply = infer(server, "dense", {"inputs": [json_input("x", x, "FP32", nested=False)]}).json()
    assert "id" not in reply
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(output_array(reply, "y"), expected, rtol=RTOL, atol=ATOL)


def test_integer_and_bool_outputs(server):
    x = np.array([[-2, 0, 5, 7], [9, -1, 3, 0]], np.int64)
    reply = infer(server, "int_ops", {"inputs": [json_input("x", x, "INT64")]}).json()
    y, mask = torch_reference(server.root / "int_ops" / "1" / "model.pt", x)
    assert [o["datatype"] for o in reply["outputs"]] == ["INT64", "BOOL"]
    assert reply["outputs"][1]["data"][:4] == [False, False, True, True]
    np.testing.assert_array_equal(output_array(reply, "y"), y)
    np.testing.assert_array_equal(output_array(reply, "mask"), mask)


def test_requested_outputs(server):
    a = np.full((2, 8), 3, np.float32)
    b = np.arange(16, dtype=np.float32).reshape(2, 8)
    body = {"inputs": [json_input("b", b, "FP32"), json_input("a", a, "FP32")],
            "outputs": [{"name": "diff"}]}
    reply = infer(server, "add_sub", body).json()
    assert [o["name"] for o in reply["outputs"]] == ["diff"]
    np.testing.assert_allclose(output_array(reply, "diff"), a - b)
    del body["outputs"]
    reply = infer(server, "add_sub", body).json()
    assert [o["name"] for o in reply["outputs"]] == ["sum", "diff"]
    np.testing.assert_allclose(output_array(reply, "sum"), a + b)


def test_binary_inputs_and_outputs(server):
    x = np.random.default_rng(2).standard_normal((4, 16)).astype(np.float32)
    header = {"inputs": [{"name": "x", "shape": [4, 16], "datatype": "FP32",
                          "parameters": {"binary_data_size": x.nbytes}}],
              "parameters": {"binary_data_output": True}}
    body, headers = binary_body(header, [x])
    resp = server.http.post(url(server, "/v2/models/dense/versions/1/infer"), data=body,
                            headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    reply, arrays = split_binary_reply(resp)
    assert reply["model_version"] == "1"
    assert reply["outputs"][0]["parameters"]["binary_data_size"] == 4 * 4 * 4
    (expected,) = torch_reference(server.root / "dense" / "1" / "model.pt", x)
    np.testing.assert_allclose(arrays["y"], expected, rtol=RTOL, atol=ATOL)


def test_binary_and_json_mixed(server):
    a = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    b = np.random.default_rng(4).standard_normal((2, 8)).astype(np.float32)
    header = {"inputs": [{"name": "a", "shape": [2, 8], "datatype": "FP32",
                          "parameters": {"binary_data_size": a.nbytes}},
                         json_input("b", b, "FP32")],
              "outputs": [{"name": "sum", "parameters": {"binary_data": True}},
                          {"name": "diff"}]}
    body, headers = binary_body(header, [a])
    resp = server.http.post(url(server, "/v2/models/add_sub/infer"), data=body, headers=headers,
                            timeout=30)
    assert resp.status_code == 200, resp.text
    reply, arrays = split_binary_reply(resp)
    s, d = torch_reference(server.root / "add_sub" / "1" / "model.pt", a, b)
    np.testing.assert_allclose(arrays["sum"], s, rtol=RTOL, atol=ATOL)
    assert "data" not in reply["outputs"][0]
    np.testing.assert_allclose(output_array(reply, "diff"), d, rtol=RTOL, atol=ATOL)


def test_raw_binary_request(server):
    x = np.random.default_rng(5).standard_normal((1, 16)).astype(np.float32)
    resp = server.http.post(url(server, "/v2/models/dense/infer"), data=x.tobytes(), timeout=30,
                            headers={HEADER_LENGTH: "0", "Content-Type": "application/octet-stream"})
    assert resp.status_code == 200, resp.text
    reply, arrays = split_binary_reply(resp)
    assert reply["outputs"][0]["shape"] == [1, 4]
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(arrays["y"], expected, rtol=RTOL, atol=ATOL)
    resp = server.http.post(url(server, "/v2/models/add_sub/infer"), data=x.tobytes(), timeout=30,
                            headers={HEADER_LENGTH: "0"})
    expect_error(resp, 400, "exactly one input")
    resp = server.http.post(url(server, "/v2/models/dense/infer"), data=x.tobytes()[:-4],
                            timeout=30, headers={HEADER_LENGTH: "0"})
    expect_error(resp, 400, "Expected: 64 bytes; Actual: 60 bytes")


def test_request_errors(server):
    x = np.ones((1, 16), np.float32)
    good = {"inputs": [json_input("x", x, "FP32")]}
    post = lambda body: server.http.post(url(server, "/v2/models/dense/infer"), data=body, timeout=30)
    expect_error(post(b'{"inputs": [{"name": "x",'), 400, "Invalid JSON at offset")
    expect_error(post(b"not json"), 400, "Invalid JSON")
    bad_type = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": ["a"] * 16}]}
    expect_error(infer(server, "dense", bad_type), 400,
                 "Invalid data in input 'x': expected a number for datatype FP32")
    ragged = {"inputs": [{"name": "x", "shape": [2, 16], "datatype": "FP32",
                          "data": [[1.0] * 16, [1.0] * 15]}]}
    expect_error(infer(server, "dense", ragged), 400, "ragged")
    count = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": [1.0] * 15}]}
    expect_error(infer(server, "dense", count), 400, "15 elements for shape (1,16)")
    out_of_range = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT64",
                                "data": [1, 2, 3, 2 ** 63]}]}
    expect_error(infer(server, "int_ops", out_of_range), 400, "out of range for datatype INT64")
    not_int = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4.5]}]}
    expect_error(infer(server, "int_ops", not_int), 400, "expected an integer")
    shape = {"inputs": [json_input("x", np.ones((1, 15), np.float32), "FP32")]}
    expect_error(infer(server, "dense", shape), 400,
                 "Invalid input shape - Expected: (-1,16); Actual: (1,15); input name: x")
    expect_error(infer(server, "dense", {"inputs": [json_input("x", x.astype(np.float64), "FP64")]}),
                 400, "Invalid input precision - Expected: FP32; Actual: FP64; input name: x")
    expect_error(infer(server, "dense", {"outputs": []}), 400, "Missing 'inputs'")
    expect_error(infer(server, "dense", dict(good, outputs=[{"name": "zz"}])), 400,
                 "Invalid output name: zz")
    expect_error(infer(server, "nope", good), 404, "Model with requested name is not found")
    expect_error(infer(server, "dense", good, version="9"), 404,
                 "Model with requested version is not found")
    # Data both in JSON and in the binary part.
    header = {"inputs": [dict(json_input("x", x, "FP32"), parameters={"binary_data_size": 64})]}
    body, headers = binary_body(header, [x])
    resp = server.http.post(url(server, "/v2/models/dense/infer"), data=body, headers=headers,
                            timeout=30)
    expect_error(resp, 400, "has both JSON 'data' and binary data")


def test_unknown_urls_and_wrong_methods(server):
    for path in ["/v2/nothing", "/v2/models/dense/versions/1/explain", "/v3", "/"]:
        expect_error(get(server, path), 404, "Not Found")
    resp = server.http.get(url(server, "/v2/models/dense/infer"), timeout=30)
    expect_error(resp, 405, "Method not allowed")
    assert resp.headers["Allow"] == "POST"
    resp = server.http.post(url(server, "/v2/health/live"), timeout=30)
    expect_error(resp, 405, "Method not allowed")
    assert resp.headers["Allow"] == "GET"
    expect_error(server.http.delete(url(server, "/v2/models/dense"), timeout=30), 405, "")


def test_oversized_body_is_413_before_it_is_sent(server):
    # Only the headers are sent: the server answers from Content-Length alone.
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as s:
        s.sendall(b"POST /v2/models/dense/infer HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 2147483648\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply
    assert "larger than the limit of 1073741824 bytes" in json.loads(body)["error"]


def test_malformed_http_is_400(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as s:
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400"), reply


def test_keep_alive_and_concurrent_clients(server):
    x = np.random.default_rng(6).standard_normal((2, 16)).astype(np.float32)
    (expected,) = torch_reference(server.root / "dense" / "1" / "model.pt", x)
    body = json.dumps({"inputs": [json_input("x", x, "FP32")]})

    def client(_):
        with requests.Session() as session:
            results = []
            for _ in range(8):  # one connection, many requests
                resp = session.post(url(server, "/v2/models/dense/versions/1/infer"), data=body,
                                    timeout=30)
                assert resp.status_code == 200, resp.text
                results.append(output_array(resp.json(), "y"))
            return results

    with ThreadPoolExecutor(8) as pool:
        for results in pool.map(client, range(8)):
            for y in results:
                np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)


def test_still_serving_after_errors_and_grpc_too(server):
    x = np.ones((1, 16), np.float32)
    reply = infer(server, "dense", {"inputs": [json_input("x", x, "FP32")]}).json()
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(output_array(reply, "y"), expected, rtol=RTOL, atol=ATOL)
    assert get(server, "/v2/health/live").status_code == 200
    assert f"REST listening on 127.0.0.1:{server.rest_port}" in server.logs()
