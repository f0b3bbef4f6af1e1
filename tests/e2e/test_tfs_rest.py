"""TensorFlow Serving REST (/v1): status, metadata, predict in row and column
form, config reload and every error case, over HTTP; values against
python3-torch."""
import base64
import json
import os
import shutil
import threading
import time

import numpy as np
import pytest
import requests

from conftest import Tessera, make_repository, torch_reference, wait_until, write_config

RTOL = 1e-5
ATOL = 1e-6
UNKNOWN_ORDER = "Invalid JSON structure. Could not detect row or column format"


def ok_status(version, state="AVAILABLE"):
    return {"version": str(version), "state": state,
            "status": {"error_code": "OK", "error_message": ""}}


class Rest:
    """Small client for one server's /v1 API."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()

    def get(self, path):
        return self.http.get(self.server.rest_url + path, timeout=60)

    def post(self, path, body=None, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.http.post(self.server.rest_url + path, data=data, timeout=120,
                              headers={"Content-Type": "application/json"})

    def predict(self, model, body, version=None):
        path = f"/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
        return self.post(path, body)

    def reload(self):
        return self.post("/v1/config/reload", raw=b"")


def expect_error(resp, status, text):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert list(body) == ["error"], body
    assert text in body["error"], body["error"]
    return body["error"]


def start_server(root, models_config, *extra):
    write_config(root / "config.json", models_config)
    s = Tessera(["--config_path", str(root / "config.json"), *extra], root).start()
    s.root = root
    return s


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("tfs_rest"))
    s = start_server(root, [
        {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
        {"name": "add_sub", "base_path": "add_sub"},
        {"name": "int_ops", "base_path": "int_ops"},
    ], "--rest_workers", "2")
    client = Rest(s)
    yield client
    client.http.close()
    assert s.stop() == 0, s.logs()


def dense_reference(rest, version, x):
    (y,) = torch_reference(rest.server.root / "dense" / str(version) / "model.pt", x)
    return y


# --- Status and metadata ------------------------------------------------------

def test_model_status(rest):
    resp = rest.get("/v1/models/dense")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"model_version_status": [ok_status(1), ok_status(2)]}
    assert rest.get("/v1/models/dense/versions/1").json() == {
        "model_version_status": [ok_status(1)]}
    assert rest.get("/V1/MODELS/add_sub/VERSIONS/1").json() == {
        "model_version_status": [ok_status(1)]}


def test_model_status_errors(rest):
    expect_error(rest.get("/v1/models/nope"), 404, "Model with requested name is not found")
    expect_error(rest.get("/v1/models/DENSE"), 404, "Model with requested name is not found")
    expect_error(rest.get("/v1/models/dense/versions/3"), 404,
                 "Model with requested version is not found")
    expect_error(rest.get("/v1/models/dense/labels/stable"), 400,
                 "Version labels are not supported (label: stable)")
    expect_error(rest.get("/v1/models"), 400, "Missing model name in request.")
    expect_error(rest.get("/v1/models/dense/versions/x"), 404, "")
    resp = rest.post("/v1/models/dense", {})
    expect_error(resp, 405, "")
    assert resp.headers["Allow"] == "GET"


def test_metadata(rest):
    resp = rest.get("/v1/models/dense/versions/1/metadata")
    assert resp.status_code == 200

    def info(name, dims):
        return {"name": name, "dtype": "DT_FLOAT",
                "tensor_shape": {"dim": [{"size": str(d), "name": ""} for d in dims],
                                 "unknown_rank": False}}

    assert resp.json() == {
        "model_spec": {"name": "dense", "signature_name": "", "version": "1"},
        "metadata": {"signature_def": {"signature_def": {"serving_default": {
            "inputs": {"x": info("x", [-1, 16])},
            "outputs": {"y": info("y", [-1, 4])},
            "method_name": "tensorflow/serving/predict"}}}}}
    assert rest.get("/v1/models/dense/metadata").json()["model_spec"]["version"] == "2"
    sig = rest.get("/v1/models/int_ops/metadata").json()[
        "metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["inputs"]["x"]["dtype"] == "DT_INT64"
    assert list(sig["outputs"]) == ["y", "mask"]
    assert sig["outputs"]["mask"]["dtype"] == "DT_BOOL"
    expect_error(rest.get("/v1/models/nope/metadata"), 404,
                 "Model with requested name is not found")
    expect_error(rest.get("/v1/models/dense/versions/9/metadata"), 404,
                 "Model with requested version is not found")


# --- Predict ------------------------------------------------------------------

@pytest.mark.parametrize("version", [None, 1, 2])
def test_predict_row_matches_torch(rest, version):
    x = np.random.default_rng(1).standard_normal((3, 16)).astype(np.float32)
    resp = rest.predict("dense", {"instances": x.tolist()}, version=version)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == ["predictions"]
    expected = dense_reference(rest, version or 2, x)
    np.testing.assert_allclose(np.array(body["predictions"], np.float32), expected,
                               rtol=RTOL, atol=ATOL)


def test_predict_column_matches_torch(rest):
    x = np.random.default_rng(2).standard_normal((2, 16)).astype(np.float32)
    resp = rest.predict("dense", {"signature_name": "serving_default", "inputs": x.tolist()})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == ["outputs"]
    np.testing.assert_allclose(np.array(body["outputs"], np.float32),
                               dense_reference(rest, 2, x), rtol=RTOL, atol=ATOL)


def test_named_and_unnamed_forms_agree(rest):
    x = np.random.default_rng(3).standard_normal((2, 16)).astype(np.float32)
    expected = dense_reference(rest, 2, x)
    for body, key in [({"instances": x.tolist()}, "predictions"),
                      ({"instances": [{"x": row} for row in x.tolist()]}, "predictions"),
                      ({"inputs": x.tolist()}, "outputs"),
                      ({"inputs": {"x": x.tolist()}}, "outputs")]:
        resp = rest.predict("dense", body)
        assert resp.status_code == 200, resp.text
        np.testing.assert_allclose(np.array(resp.json()[key], np.float32), expected,
                                   rtol=RTOL, atol=ATOL)


def test_predict_two_inputs_two_outputs(rest):
    a = np.random.default_rng(4).standard_normal((2, 8)).astype(np.float32)
    b = np.random.default_rng(5).standard_normal((2, 8)).astype(np.float32)
    resp = rest.predict("add_sub", {"instances": [{"a": a[i].tolist(), "b": b[i].tolist()}
                                                  for i in range(2)]})
    assert resp.status_code == 200, resp.text
    rows = resp.json()["predictions"]
    assert [sorted(r) for r in rows] == [["diff", "sum"], ["diff", "sum"]]
    np.testing.assert_allclose(np.array([r["sum"] for r in rows], np.float32), a + b, rtol=RTOL)
    np.testing.assert_allclose(np.array([r["diff"] for r in rows], np.float32), a - b, rtol=RTOL)

    resp = rest.predict("add_sub", {"inputs": {"b": b.tolist(), "a": a.tolist()}})
    outputs = resp.json()["outputs"]
    assert sorted(outputs) == ["diff", "sum"]
    np.testing.assert_allclose(np.array(outputs["sum"], np.float32), a + b, rtol=RTOL)
    np.testing.assert_allclose(np.array(outputs["diff"], np.float32), a - b, rtol=RTOL)


def test_predict_int_and_bool(rest):
    x = np.array([[-2, 0, 5, 7], [3, -9, 1 << 40, 0]], np.int64)
    y, mask = torch_reference(rest.server.root / "int_ops" / "1" / "model.pt", x)
    resp = rest.predict("int_ops", {"inputs": x.tolist()})
    assert resp.status_code == 200, resp.text
    outputs = resp.json()["outputs"]
    assert outputs["y"] == y.tolist()
    assert outputs["mask"] == mask.tolist()
    assert all(isinstance(v, bool) for v in outputs["mask"][0])
    resp = rest.predict("int_ops", {"instances": [{"x": row} for row in x.tolist()]})
    rows = resp.json()["predictions"]
    assert [r["y"] for r in rows] == y.tolist()
    assert [r["mask"] for r in rows] == mask.tolist()
    # Whole-valued floats are integers too.
    resp = rest.predict("int_ops", {"inputs": [[1.0, 2e0, -3, 0]]})
    assert resp.json()["outputs"]["y"] == [[3, 6, -9, 0]]


def test_nan_and_infinity_pass_through(rest):
    body = '{"inputs": {"a": [[NaN, Infinity, -Infinity, 1, 2, 3, 4, 5]], ' \
           '"b": [[1, 1, 1, 1, 1, 1, 1, 1]]}}'
    resp = rest.post("/v1/models/add_sub:predict", raw=body)
    assert resp.status_code == 200, resp.text
    assert "NaN" in resp.text and "-Infinity" in resp.text
    total = resp.json()["outputs"]["sum"][0]
    assert np.isnan(total[0])
    assert total[1:4] == [float("inf"), float("-inf"), 2.0]


def test_b64_values_are_binary(rest):
    # A b64 value is a BYTES tensor; dense takes FP32, so the core refuses it.
    data = base64.b64encode(b"\x89PNG not really").decode()
    resp = rest.predict("dense", {"instances": [{"b64": data}]})
    error = expect_error(resp, 400, "x")
    assert "BYTES" in error or "image" in error.lower(), error


def test_predict_body_errors(rest):
    x = [[0.5] * 16]
    expect_error(rest.post("/v1/models/dense:predict", raw='{"instances": [[1, 2]'), 400,
                 "JSON Parse error")
    expect_error(rest.post("/v1/models/dense:predict", raw=""), 400, "JSON Parse error")
    expect_error(rest.post("/v1/models/dense:predict", raw="[1, 2]"), 400,
                 "Request body should be JSON object")
    expect_error(rest.predict("dense", {"signature_name": "serving_default"}), 400, UNKNOWN_ORDER)
    expect_error(rest.predict("dense", {"instances": x, "inputs": x}), 400, UNKNOWN_ORDER)
    expect_error(rest.predict("dense", {"instances": []}), 400,
                 "Invalid JSON structure. Missing instances in row format")
    expect_error(rest.predict("dense", {"inputs": [[1, "a"] + [0] * 14]}), 400,
                 "Input x: string at [0,1] is not of expected type DT_FLOAT")
    expect_error(rest.predict("dense", {"inputs": [[0] * 16, [0] * 15]}), 400,
                 "Input x: ragged nested list")
    expect_error(rest.post("/v1/models/dense:predict", raw='{"inputs": [[1e39]]}'), 400,
                 "Input x: value 1e39 at [0,0] is out of range for DT_FLOAT")
    expect_error(rest.predict("int_ops", {"inputs": [[1, 2, 3, 4.5]]}), 400,
                 "Input x: value 4.5 at [0,3] is not an integer (DT_INT64)")
    expect_error(rest.post("/v1/models/int_ops:predict",
                           raw='{"inputs": [[1, 2, 3, 9223372036854775808]]}'), 400,
                 "is out of range for DT_INT64")
    expect_error(rest.predict("int_ops", {"inputs": [[True, False, True, False]]}), 400,
                 "Input x: true at [0,0] is not of expected type DT_INT64")
    expect_error(rest.predict("add_sub", {"instances": [{"a": [1] * 8, "b": [1] * 8},
                                                       {"a": [2] * 8}]}), 400,
                 "Invalid JSON structure. Request inputs have different batch sizes")
    expect_error(rest.predict("add_sub", {"instances": [[1] * 8]}), 400,
                 "'instances' is a plain list, but the model has 2 inputs (a, b)")
    expect_error(rest.predict("add_sub", {"inputs": {"a": [[1] * 8], "c": [[1] * 8]}}), 400,
                 "Unexpected input name: c")
    expect_error(rest.predict("add_sub", {"inputs": {"a": [[1] * 8]}}), 400,
                 "Missing input with specific name - Required input: b")
    expect_error(rest.predict("dense", {"inputs": [[1, 2, 3]]}), 400,
                 "Invalid input shape - Expected: (-1,16); Actual: (1,3); input name: x")


def test_predict_url_errors(rest):
    body = {"instances": [[0.0] * 16]}
    expect_error(rest.predict("nope", body), 404, "Model with requested name is not found")
    expect_error(rest.predict("dense", body, version=7), 404,
                 "Model with requested version is not found")
    expect_error(rest.post("/v1/models/dense:classify", body), 404,
                 "The classify API is not supported; use predict")
    expect_error(rest.post("/v1/models/dense/versions/1:regress", body), 404,
                 "The regress API is not supported; use predict")
    expect_error(rest.post("/v1/models/dense/labels/canary:predict", body), 400,
                 "Version labels are not supported")
    resp = rest.get("/v1/models/dense:predict")
    expect_error(resp, 405, "")
    assert resp.headers["Allow"] == "POST"
    resp = rest.post("/V1/Models/dense:PREDICT", body)
    assert resp.status_code == 200, resp.text


def test_large_image_like_body(rest):
    # 64 instances of the dense input: exercises large bodies and replies.
    x = np.random.default_rng(6).standard_normal((64, 16)).astype(np.float32)
    resp = rest.predict("dense", {"instances": x.tolist()})
    assert resp.status_code == 200
    np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32),
                               dense_reference(rest, 2, x), rtol=RTOL, atol=ATOL)


def test_config_status(rest):
    resp = rest.get("/v1/config")
    assert resp.status_code == 200
    assert resp.json() == {
        "add_sub": {"model_version_status": [ok_status(1)]},
        "dense": {"model_version_status": [ok_status(1), ok_status(2)]},
        "int_ops": {"model_version_status": [ok_status(1)]},
    }
    expect_error(rest.post("/v1/config", {}), 405, "")


def test_still_serving_after_errors(rest):
    x = np.ones((1, 16), np.float32)
    resp = rest.predict("dense", {"instances": x.tolist()})
    assert resp.status_code == 200
    np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32),
                               dense_reference(rest, 2, x), rtol=RTOL, atol=ATOL)


# --- Config reload --------------------------------------------------------------

def test_config_reload(tmp_path, model_cache):
    import shutil
    root = tmp_path / "repo"
    shutil.copytree(model_cache, root)
    config = root / "config.json"
    dense_all = {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}}
    # No polling: only the reload call applies changes.
    s = start_server(root, [dense_all], "--file_system_poll_wait_seconds", "0")
    rest = Rest(s)
    try:
        only_dense = {"dense": {"model_version_status": [ok_status(1), ok_status(2)]}}
        assert rest.get("/v1/config").json() == only_dense

        # Nothing changed: 200 with the aggregate.
        resp = rest.reload()
        assert resp.status_code == 200, resp.text
        assert resp.json() == only_dense

        # A model is added: 201, and it serves.
        write_config(config, [dense_all, {"name": "add_sub", "base_path": "add_sub"}])
        resp = rest.reload()
        assert resp.status_code == 201, resp.text
        assert resp.json() == {
            "add_sub": {"model_version_status": [ok_status(1)]},
            "dense": {"model_version_status": [ok_status(1), ok_status(2)]},
        }
        a = [[1.0] * 8]
        resp = rest.predict("add_sub", {"inputs": {"a": a, "b": a}})
        assert resp.json()["outputs"]["sum"] == [[2.0] * 8]

        # A model's versions change: version 2 is retired.
        dense_1 = {"name": "dense", "base_path": "dense",
                   "model_version_policy": {"specific": {"versions": [1]}}}
        write_config(config, [dense_1, {"name": "add_sub", "base_path": "add_sub"}])
        resp = rest.reload()
        assert resp.status_code == 201, resp.text
        # The reply shows what the reload did: the retired version is END.
        assert resp.json()["dense"] == {"model_version_status": [ok_status(1), ok_status(2, "END")]}
        x = np.ones((1, 16), np.float32)
        resp = rest.predict("dense", {"instances": x.tolist()})
        np.testing.assert_allclose(np.array(resp.json()["predictions"], np.float32),
                                   torch_reference(root / "dense" / "1" / "model.pt", x)[0],
                                   rtol=RTOL, atol=ATOL)

        # A model is removed: its versions end.
        write_config(config, [dense_1])
        resp = rest.reload()
        assert resp.status_code == 201, resp.text
        assert resp.json()["add_sub"] == {"model_version_status": [ok_status(1, "END")]}
        assert rest.get("/v1/config").json()["add_sub"] == resp.json()["add_sub"]
        expect_error(rest.predict("add_sub", {"inputs": {"a": a, "b": a}}), 404, "Model")

        # A broken config changes nothing.
        config.write_text('{"model_config_list": [')
        expect_error(rest.reload(), 400,
                     "Reloading config file failed. Check server logs for more info.")
        config.write_text(json.dumps({"model_config_list": [{"config": {"name": "x"}}],
                                      "unknown_key": 1}))
        expect_error(rest.reload(), 400,
                     "Reloading config file failed. Check server logs for more info.")
        assert rest.predict("dense", {"instances": x.tolist()}).status_code == 200

        # The config file is gone.
        os.remove(config)
        expect_error(rest.reload(), 404, "Config file not found or cannot open.")
        assert rest.get("/v1/config").json()["dense"] == {
            "model_version_status": [ok_status(1), ok_status(2, "END")]}

        # It comes back: the same models, nothing to change.
        write_config(config, [dense_1])
        resp = rest.reload()
        assert resp.status_code in (200, 201), resp.text
        assert resp.json()["dense"]["model_version_status"][0] == ok_status(1)
        assert rest.reload().status_code == 200
        assert rest.predict("dense", {"instances": x.tolist()}).status_code == 200
    finally:
        rest.http.close()
        assert s.stop() == 0, s.logs()


def test_reload_waits_for_a_removed_models_request_in_flight(tmp_path, model_cache):
    """A request is running on a model the reload removes: the reload answers
    once it has finished, with the version END; the request succeeds."""
    from test_deadlines import make_slow_model, request
    root = tmp_path / "repo"
    shutil.copytree(model_cache, root)
    make_slow_model(root / "slow" / "1")
    config = root / "config.json"
    dense = {"name": "dense", "base_path": "dense"}
    s = Tessera(["--config_path", str(config), "--file_system_poll_wait_seconds", "0",
                 "--metrics_enable"], root)
    write_config(config, [dense, {"name": "slow", "base_path": "slow", "nireq": 1}])
    s.start()
    rest = Rest(s)
    try:
        result = {}
        # 1000 rounds of a 256x256 matmul: about a second here, well under
        # the reload's 10 s bound.
        worker = threading.Thread(target=lambda: result.setdefault(
            "y", s.stub.ModelInfer(request(1000), timeout=120)))
        worker.start()

        def in_flight():
            text = rest.get("/metrics").text
            return 'ovms_current_requests{name="slow",version="1"} 1' in text
        wait_until(in_flight, timeout=60, what="the slow request in flight")
        write_config(config, [dense])
        assert "y" not in result  # still running when the reload starts
        started = time.monotonic()
        resp = rest.reload()
        waited = time.monotonic() - started
        assert resp.status_code == 201, resp.text
        state = resp.json()["slow"]["model_version_status"][0]["state"]
        if state == "UNLOADING":
            # A machine so loaded that the request outlived the reload's bound:
            # the reload must then have waited that bound (10 s) first.
            assert waited >= 9.5, (waited, resp.json())
        else:
            assert resp.json()["slow"] == {"model_version_status": [ok_status(1, "END")]}
        worker.join(timeout=120)
        assert result["y"].model_name == "slow"  # it ran to completion
        assert np.frombuffer(result["y"].raw_output_contents[0], np.float32).tolist() == [1000.0]
    finally:
        rest.http.close()
        assert s.stop() == 0, s.logs()


def test_config_reload_in_single_model_mode_rescans_versions(start_tessera, repo):
    shutil.copytree(repo / "dense" / "2", repo.parent / "model_cache_dense_2")
    s = start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"),
                      "--file_system_poll_wait_seconds", "0")
    rest = Rest(s)
    resp = rest.reload()
    assert resp.status_code == 200  # nothing changed on disk
    assert resp.json() == {"dense": {"model_version_status": [ok_status(2)]}}
    shutil.rmtree(repo / "dense" / "2")
    assert rest.reload().status_code == 201  # version 1 loaded, version 2 retired
    shutil.copytree(repo.parent / "model_cache_dense_2", repo / "dense" / "2")
    assert rest.reload().status_code == 201
    resp = rest.get("/v1/config")
    assert resp.status_code == 200
    versions = resp.json()["dense"]["model_version_status"]
    assert [(v["version"], v["state"]) for v in versions][1] == ("2", "AVAILABLE")
    assert versions[0] == ok_status(1, "END")  # the reload waited for its unload
    x = np.ones((1, 16), np.float32)
    assert rest.predict("dense", {"instances": x.tolist()}).status_code == 200
    rest.http.close()
