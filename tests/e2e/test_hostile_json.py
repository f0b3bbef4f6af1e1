"""Hostile JSON over the wire: nesting far past the 64-level bound on both
REST APIs, and integers one past a type's range, answered 400 with the
documented message; after each, the server still serves correct values.
Also a config.json nested too deep stops the server at start with one line."""
import json

import numpy as np
import pytest
import requests

from conftest import (Tessera, free_port, make_repository, run_tessera, torch_reference,
                      write_config)

RTOL = 1e-5
ATOL = 1e-6
INT64_BELOW_MIN = "-9223372036854775809"


def too_deep(offset):
    return f"JSON nesting deeper than 64 levels at offset {offset}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("hostile_json"))
    write_config(root / "config.json", [
        {"name": "dense", "base_path": "dense"},
        {"name": "int_ops", "base_path": "int_ops"},
    ])
    s = Tessera(["--config_path", str(root / "config.json"), "--rest_workers", "2"], root).start()
    s.root = root
    s.http = requests.Session()
    yield s
    s.http.close()
    assert s.stop() == 0, s.logs()


def post(server, path, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return server.http.post(server.rest_url + path, data=data, timeout=120,
                            headers={"Content-Type": "application/json"})


def expect_error(resp, status, message):
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"error": message}
    assert resp.headers.get("Connection", "").lower() != "close"  # a plain 400


def assert_still_serves(server):
    """The process is alive and both REST APIs answer a normal request
    correctly (dense, another model than the one attacked)."""
    assert server.proc.poll() is None, server.logs()
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(2, 16)
    # The latest version is the one served.
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    resp = post(server, "/v2/models/dense/infer", {"inputs": [
        {"name": "x", "shape": [2, 16], "datatype": "FP32", "data": x.ravel().tolist()}]})
    assert resp.status_code == 200, resp.text
    (out,) = resp.json()["outputs"]
    assert out["shape"] == [2, 4]
    np.testing.assert_allclose(np.array(out["data"], np.float32).reshape(2, 4), expected,
                               rtol=RTOL, atol=ATOL)
    resp = post(server, "/v1/models/dense:predict", {"instances": x.tolist()})
    assert resp.status_code == 200, resp.text
    np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32), expected,
                               rtol=RTOL, atol=ATOL)


# --- KServe v2 REST -------------------------------------------------------------

KSERVE_DATA = '{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":'
KSERVE_PARAMS = '{"parameters":{"p":'

KSERVE_BODIES = {
    # Level 65 is the 62nd '[' of "data" (3 levels enclose it).
    "data": (KSERVE_DATA + "[" * 100000 + "]" * 100000 + "}]}", len(KSERVE_DATA) + 61),
    # Values of keys the server ignores count as well.
    "parameters": (KSERVE_PARAMS + "[" * 100000 + "]" * 100000 + "}}", len(KSERVE_PARAMS) + 62),
    "objects": ('{"a":' * 1000000, 5 * 64),
}


@pytest.mark.parametrize("case", sorted(KSERVE_BODIES))
def test_kserve_deep_nesting_is_400(server, case):
    body, offset = KSERVE_BODIES[case]
    expect_error(post(server, "/v2/models/int_ops/infer", body), 400, too_deep(offset))
    assert_still_serves(server)


def test_kserve_nesting_at_the_limit_is_read(server):
    # 3 enclosing levels + 61 in "data" = 64: read, then refused for its
    # element count, not its depth.
    body = ('{"inputs":[{"name":"x","shape":[1,4],"datatype":"INT64","data":' +
            "[" * 61 + "1" + "]" * 61 + "}]}")
    expect_error(post(server, "/v2/models/int_ops/infer", body), 400,
                 "Invalid data in input 'x': 1 elements for shape (1,4) (4 expected)")
    assert_still_serves(server)


def test_kserve_int64_out_of_range_is_400(server):
    body = ('{"inputs":[{"name":"x","shape":[1,4],"datatype":"INT64","data":[' +
            INT64_BELOW_MIN + ",1,2,3]}]}")
    expect_error(post(server, "/v2/models/int_ops/infer", body), 400,
                 f"Invalid data in input 'x': value {INT64_BELOW_MIN} is out of range "
                 "for datatype INT64")
    assert_still_serves(server)


# --- TensorFlow Serving REST ----------------------------------------------------

TFS_INSTANCES = '{"instances":'
TFS_INPUTS = '{"inputs":'
TFS_OTHER = '{"other":'

TFS_BODIES = {
    # Level 65 is the 64th '[' (the root object is level 1).
    "instances": (TFS_INSTANCES + "[" * 100000 + "]" * 100000 + "}", len(TFS_INSTANCES) + 63),
    "inputs": (TFS_INPUTS + "[" * 1000000, len(TFS_INPUTS) + 63),
    "ignored key": (TFS_OTHER + "[" * 100000 + "]" * 100000 + "}", len(TFS_OTHER) + 63),
    "objects": ('{"a":' * 1000000, 5 * 64),
}


@pytest.mark.parametrize("case", sorted(TFS_BODIES))
def test_tfs_deep_nesting_is_400(server, case):
    body, offset = TFS_BODIES[case]
    expect_error(post(server, "/v1/models/int_ops:predict", body), 400, too_deep(offset))
    assert_still_serves(server)


def test_tfs_nesting_at_the_limit_is_read(server):
    # The root object + 63 lists = 64 levels: read, then refused for its
    # shape, not its depth.
    body = TFS_INPUTS + "[" * 63 + "1" + "]" * 63 + "}"
    resp = post(server, "/v1/models/int_ops:predict", body)
    assert resp.status_code == 400, resp.text
    assert "nesting" not in resp.json()["error"], resp.json()
    assert_still_serves(server)


@pytest.mark.parametrize("row", [
    f"[{INT64_BELOW_MIN},1,2]",    # as reported
    f"[{INT64_BELOW_MIN},1,2,3]",  # the model's width: only the value is wrong
    f"[{INT64_BELOW_MIN}.0,1,2,3]",
])
def test_tfs_int64_below_min_is_400(server, row):
    value = row[1:].split(",")[0]
    expect_error(post(server, "/v1/models/int_ops:predict", '{"instances": [' + row + "]}"), 400,
                 f"Input x: value {value} at [0,0] is out of range for DT_INT64")
    assert_still_serves(server)


def test_tfs_int64_ends_are_exact(server):
    x = np.array([[-(2 ** 63), 2 ** 63 - 1, 0, 1]], np.int64)
    y, mask = torch_reference(server.root / "int_ops" / "1" / "model.pt", x)
    resp = post(server, "/v1/models/int_ops:predict",
                '{"instances": [[-9223372036854775808, 9223372036854775807, 0, 1]]}')
    assert resp.status_code == 200, resp.text
    assert resp.json()["predictions"] == [{"y": y[0].tolist(), "mask": mask[0].tolist()}]
    expect_error(post(server, "/v1/models/int_ops:predict",
                      '{"instances": [[0, 9223372036854775808, 0, 1]]}'), 400,
                 "Input x: value 9223372036854775808 at [0,1] is out of range for DT_INT64")
    assert_still_serves(server)


# --- Files read at start ---------------------------------------------------------

def test_deep_config_stops_the_server_with_one_line(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"model_config_list": [' + "[" * 1000000 + "]" * 1000000 + "]}")
    # The root object and the list enclose the brackets: level 65 is the 63rd.
    result = run_tessera(["--config_path", str(config), "--port", str(free_port()),
                          "--rest_port", str(free_port())])
    assert result.returncode == 1, result.stderr
    assert ("Invalid JSON in config: nesting deeper than 64 levels at offset 85 "
            "(line 1, column 86)") in result.stderr, result.stderr
