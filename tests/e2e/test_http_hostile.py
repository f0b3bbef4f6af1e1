"""Hostile HTTP clients against the real REST server: stalled bodies, slow
headers, connection floods, escaped separators in URLs, missing Host. After
each, the server must still answer a normal predict with correct values."""
import json
import socket
import time

import numpy as np
import pytest
import requests

from conftest import write_config

BODY_TIMEOUT = 2
HEADER_TIMEOUT = 3
MAX_CONNECTIONS = 4
A = np.arange(8, dtype=np.float32).reshape(1, 8)
B = np.full((1, 8), 0.5, dtype=np.float32)


@pytest.fixture
def server(start_tessera, repo):
    write_config(repo / "config.json", [
        {"name": "add_sub", "base_path": str(repo / "add_sub")},
        # Names holding the separators, to show escapes reach the model name.
        {"name": "beta:predict", "base_path": str(repo / "add_sub")},
        {"name": "beta/infer", "base_path": str(repo / "add_sub")},
    ])
    return start_tessera("--config_path", str(repo / "config.json"),
                         "--rest_body_timeout_seconds", str(BODY_TIMEOUT),
                         "--rest_header_timeout_seconds", str(HEADER_TIMEOUT),
                         "--rest_max_connections", str(MAX_CONNECTIONS))


def assert_predicts(server, model="add_sub"):
    """A normal KServe and TFS predict answer a+b and a-b exactly."""
    body = {"inputs": [{"name": "a", "datatype": "FP32", "shape": [1, 8], "data": A.ravel().tolist()},
                       {"name": "b", "datatype": "FP32", "shape": [1, 8], "data": B.ravel().tolist()}]}
    quoted = requests.utils.quote(model, safe="")
    r = requests.post(f"{server.rest_url}/v2/models/{quoted}/infer", json=body, timeout=10)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: np.array(o["data"], np.float32) for o in r.json()["outputs"]}
    np.testing.assert_array_equal(outputs["sum"], (A + B).ravel())
    np.testing.assert_array_equal(outputs["diff"], (A - B).ravel())
    r = requests.post(f"{server.rest_url}/v1/models/{quoted}:predict",
                      json={"inputs": {"a": A.tolist(), "b": B.tolist()}}, timeout=10)
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.array(r.json()["outputs"]["sum"], np.float32), A + B)


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
    return s


def read_response(sock):
    """(status, headers, body bytes) of one response with Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def assert_closed(sock, within):
    """The server closes the connection (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass


@pytest.mark.parametrize("announced", [1 << 30, 100])
def test_stalled_body_is_408_json_and_closed_within_the_timeout(server, announced):
    sock = connect(server)
    start = time.monotonic()
    sock.sendall(b"POST /v2/models/add_sub/infer HTTP/1.1\r\nHost: localhost\r\n"
                 b"Content-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n0123456789" % announced)
    sock.settimeout(BODY_TIMEOUT + 5)
    status, headers, body = read_response(sock)
    elapsed = time.monotonic() - start
    assert status == 408
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {"error": f"Timed out reading the request body (limit {BODY_TIMEOUT} s)"}
    assert BODY_TIMEOUT - 0.5 <= elapsed < BODY_TIMEOUT + 5
    assert_closed(sock, 3)
    sock.close()
    assert_predicts(server)


def test_slow_headers_are_408_json_and_closed(server):
    sock = connect(server)
    start = time.monotonic()
    sock.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: localhost\r\n")
    status = None
    sock.settimeout(0.2)
    # One header line every 200 ms, never finished: bounded by the header timeout.
    for i in range(100):
        try:
            sock.sendall(b"X-Slow-%d: y\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            status, headers, body = read_response(sock)
            break
        except socket.timeout:
            continue
    assert status == 408, "slow headers were not answered"
    assert json.loads(body) == {
        "error": f"Timed out reading the request header (limit {HEADER_TIMEOUT} s)"}
    assert time.monotonic() - start < HEADER_TIMEOUT + 5
    sock.close()
    assert_predicts(server)


def test_connection_limit_refuses_clearly_then_recovers(server):
    idle = [connect(server) for _ in range(MAX_CONNECTIONS)]
    # The idle ones are accepted and counted before the next one arrives.
    for sock in idle:
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert read_response(sock)[0] == 200
    extra = connect(server)
    extra.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
    status, headers, body = read_response(extra)
    assert status == 503
    assert headers["connection"] == "close"
    assert json.loads(body) == {"error": f"Too many connections (limit {MAX_CONNECTIONS})"}
    assert_closed(extra, 3)
    extra.close()
    # The open ones still work.
    idle[0].sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert read_response(idle[0])[0] == 200
    for sock in idle:
        sock.close()
    deadline = time.monotonic() + 10
    while True:  # the server sees the closes asynchronously
        try:
            assert_predicts(server)
            break
        except (AssertionError, requests.ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    fresh = [connect(server) for _ in range(MAX_CONNECTIONS)]
    for sock in fresh:
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert read_response(sock)[0] == 200
        sock.close()


def test_escaped_separators_are_part_of_the_model_name(server):
    url = server.rest_url
    # "alpha%2Finfer" is one segment: the model "alpha/infer", not /infer.
    r = requests.get(f"{url}/v2/models/alpha%2Finfer", timeout=10)
    assert r.status_code == 404
    assert r.json() == {"error": "Model with requested name is not found"}
    r = requests.post(f"{url}/v2/models/alpha%2Finfer", json={"inputs": []}, timeout=10)
    assert r.status_code == 405  # the metadata URL of "alpha/infer" is GET only
    assert r.headers["Allow"] == "GET"
    # "alpha%3Apredict" is the model "alpha:predict" on its status URL.
    r = requests.get(f"{url}/v1/models/alpha%3Apredict", timeout=10)
    assert r.status_code == 404
    assert r.json() == {"error": "Model with requested name is not found"}
    r = requests.post(f"{url}/v1/models/alpha%3Apredict", json={"instances": [[1]]}, timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    # The literal names reach the models: these exist and answer.
    r = requests.get(f"{url}/v2/models/beta%2Finfer", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "beta/infer"
    r = requests.get(f"{url}/v1/models/beta%3Apredict", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["model_version_status"][0]["state"] == "AVAILABLE"
    assert_predicts(server, "beta:predict")
    assert_predicts(server, "beta/infer")
    assert_predicts(server)


def test_http11_without_host_is_400_and_http10_is_served(server):
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\n\r\n")
    status, headers, body = read_response(sock)
    assert status == 400
    assert json.loads(body) == {"error": "Missing Host header"}
    assert_closed(sock, 3)
    sock.close()
    sock = connect(server)
    sock.sendall(b"GET /v2/health/live HTTP/1.0\r\n\r\n")
    assert read_response(sock)[0] == 200
    sock.close()
    assert_predicts(server)
