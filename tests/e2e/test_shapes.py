"""shape, batch_size, layout and mapping_config.json: effective shapes in the
metadata of all four front doors, requests validated against them (expected
vs actual in the error), NHWC:NCHW transposition, renamed inputs/outputs and
settings that do not fit the model."""
import json

import numpy as np
import pytest
import requests

import make_example_models as models
from conftest import Tessera, torch_reference, write_config
from four_doors import (WireError, input_shapes_everywhere, kserve_grpc_infer,
                        kserve_rest_infer, tfs_grpc_predict, tfs_rest_predict)

RTOL = 1e-5
ATOL = 1e-6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    models.make_dense(str(root / "dense" / "1"), seed=1)
    models.make_classifier(str(root / "classifier" / "1"))
    models.make_classifier(str(root / "mapped" / "1"))
    (root / "mapped" / "1" / "mapping_config.json").write_text(
        json.dumps({"inputs": {"data": "image"}, "outputs": {"probs": "scores"}}))
    write_config(root / "config.json", [
        {"name": "dense_fixed", "base_path": "dense", "shape": {"x": "(1,16)"}},
        {"name": "dense_range", "base_path": "dense", "batch_size": "1:2"},
        {"name": "dense_batch", "base_path": "dense", "batch_size": 3, "layout": "NC"},
        {"name": "classifier", "base_path": "classifier", "layout": {"data": "NHWC:NCHW"}},
        {"name": "mapped", "base_path": "mapped", "layout": "NHWC:NCHW"},
        {"name": "too_wide", "base_path": "dense", "shape": "(1,17)"},
        {"name": "bad_layout", "base_path": "classifier", "layout": "NC"},
        {"name": "bad_name", "base_path": "dense", "shape": {"nope": "(1,16)"}},
    ])
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    s.root = root
    yield s
    assert s.stop() == 0, s.logs()


def x_batch(n):
    return np.arange(n * 16, dtype=np.float32).reshape(n, 16) / 10


def dense(server, n):
    return torch_reference(server.root / "dense" / "1" / "model.pt", x_batch(n))[0]


def all_doors(server, model, array, name):
    """The first output of `model` for `array`, through each front door."""
    return [
        next(iter(tfs_grpc_predict(server, model, array=array, name=name).values())),
        np.array(tfs_rest_predict(server, model, {"inputs": {name: array.tolist()}})["outputs"],
                 np.float32),
        next(iter(kserve_grpc_infer(server, model, array=array, name=name).values())),
        next(iter(kserve_rest_infer(server, model, array=array, name=name).values())),
    ]


def expect_invalid_everywhere(server, model, array, name, message):
    calls = [
        lambda: tfs_grpc_predict(server, model, array=array, name=name),
        lambda: tfs_rest_predict(server, model, {"inputs": {name: array.tolist()}}),
        lambda: kserve_grpc_infer(server, model, array=array, name=name),
        lambda: kserve_rest_infer(server, model, array=array, name=name),
    ]
    for call in calls:
        with pytest.raises(WireError) as e:
            call()
        assert e.value.code in ("INVALID_ARGUMENT", 400)
        assert e.value.message == message


def test_fixed_shape(server):
    for inputs, outputs in input_shapes_everywhere(server, "dense_fixed"):
        assert inputs == {"x": [1, 16]}
        assert outputs == {"y": [-1, 4]}
    for got in all_doors(server, "dense_fixed", x_batch(1), "x"):
        np.testing.assert_allclose(got, dense(server, 1), rtol=RTOL, atol=ATOL)
    expect_invalid_everywhere(server, "dense_fixed", x_batch(2), "x",
                              "Invalid batch size - Expected: 1; Actual: 2; input name: x")
    expect_invalid_everywhere(server, "dense_fixed", np.zeros((1, 15), np.float32), "x",
                              "Invalid input shape - Expected: (1,16); Actual: (1,15); input name: x")


@pytest.mark.parametrize("model,shape,good,bad,expected", [
    ("dense_range", [-1, 16], 2, 3, "1:2"),   # "batch_size": "1:2"
    ("dense_batch", [3, 16], 3, 1, "3"),      # "batch_size": 3 with "layout": "NC"
])
def test_batch_size(server, model, shape, good, bad, expected):
    for inputs, _ in input_shapes_everywhere(server, model):
        assert inputs == {"x": shape}
    for got in all_doors(server, model, x_batch(good), "x"):
        np.testing.assert_allclose(got, dense(server, good), rtol=RTOL, atol=ATOL)
    expect_invalid_everywhere(server, model, x_batch(bad), "x",
                              f"Invalid batch size - Expected: {expected}; Actual: {bad}; "
                              "input name: x")


def test_layout_transposes_client_data(server):
    for inputs, outputs in input_shapes_everywhere(server, "classifier"):
        assert inputs == {"data": [-1, 32, 32, 3]}
        assert outputs == {"probs": [-1, 10]}
    nhwc = np.random.default_rng(5).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    expected, = torch_reference(server.root / "classifier" / "1" / "model.pt",
                                np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
    for got in all_doors(server, "classifier", nhwc, "data"):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    expect_invalid_everywhere(
        server, "classifier", np.zeros((1, 3, 32, 32), np.float32), "data",
        "Invalid input shape - Expected: (-1,32,32,3); Actual: (1,3,32,32); input name: data")


def test_mapping_config_renames_inputs_and_outputs(server):
    for inputs, outputs in input_shapes_everywhere(server, "mapped"):
        assert inputs == {"image": [-1, 32, 32, 3]}
        assert outputs == {"scores": [-1, 10]}
    nhwc = np.full((1, 32, 32, 3), 100, np.float32)
    expected, = torch_reference(server.root / "mapped" / "1" / "model.pt",
                                np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
    out = kserve_grpc_infer(server, "mapped", array=nhwc, name="image")
    assert list(out) == ["scores"]
    np.testing.assert_allclose(out["scores"], expected, rtol=1e-4, atol=1e-6)
    assert list(tfs_grpc_predict(server, "mapped", array=nhwc, name="image")) == ["scores"]
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(server, "mapped", array=nhwc, name="data")
    assert e.value.message == "Unexpected input name: data"


@pytest.mark.parametrize("model,text", [
    ("too_wide", "Warm-up inference failed"),
    ("bad_layout", "layout NC for input data does not fit shape (-1,3,32,32)"),
    ("bad_name", "shape given for unknown input nope"),
])
def test_settings_that_do_not_fit_fail_the_load_only(server, model, text):
    status = requests.get(f"{server.rest_url}/v1/models/{model}", timeout=30).json()
    version, = status["model_version_status"]
    assert version["state"] == "LOADING"
    assert version["status"]["error_code"] == "UNKNOWN"
    assert text in version["status"]["error_message"]
    # the other models keep serving
    np.testing.assert_allclose(kserve_grpc_infer(server, "dense_range", array=x_batch(1),
                                                 name="x")["y"], dense(server, 1),
                               rtol=RTOL, atol=ATOL)


def test_single_model_flags(start_tessera, tmp_path):
    models.make_dense(str(tmp_path / "m" / "1"), seed=1)
    server = start_tessera("--model_name", "m", "--model_path", str(tmp_path / "m"),
                           "--batch_size", "2", "--layout", "NC")
    server.root = tmp_path
    for inputs, _ in input_shapes_everywhere(server, "m"):
        assert inputs == {"x": [2, 16]}
    got = kserve_grpc_infer(server, "m", array=x_batch(2), name="x")["y"]
    expected = torch_reference(tmp_path / "m" / "1" / "model.pt", x_batch(2))[0]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_single_model_shape_flag_with_json_object(start_tessera, tmp_path):
    models.make_dense(str(tmp_path / "m" / "1"), seed=1)
    server = start_tessera("--model_name", "m", "--model_path", str(tmp_path / "m"),
                           "--shape", '{"x": "(1:4,16)"}')
    for inputs, _ in input_shapes_everywhere(server, "m"):
        assert inputs == {"x": [-1, 16]}
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(server, "m", array=x_batch(5), name="x")
    assert e.value.message == "Invalid batch size - Expected: 1:4; Actual: 5; input name: x"
