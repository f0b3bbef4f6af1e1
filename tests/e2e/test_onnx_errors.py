"""Bad ONNX models (truncated file, unknown operator, missing external data,
a cycle) fail their version with a clear message while a good ONNX model in
the same repository keeps serving. Models are written with python3-onnx."""
import pathlib
import time

import grpc
import numpy as np
import onnx
import pytest
import requests
from onnx import TensorProto, helper, numpy_helper

from conftest import kpb, write_config

RNG = np.random.default_rng(7)
W = RNG.standard_normal((4, 3)).astype(np.float32)
B = RNG.standard_normal(3).astype(np.float32)


def linear_model(weight_location=None):
    """y = relu(x @ W + b), x: [N, 4] with a symbolic batch."""
    w = numpy_helper.from_array(W, "W")
    if weight_location:
        w.ClearField("raw_data")
        w.data_location = TensorProto.EXTERNAL
        w.external_data.add(key="location", value=weight_location)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"], name="matmul"),
         helper.make_node("Add", ["xw", "b"], ["z"], name="bias"),
         helper.make_node("Relu", ["z"], ["y"], name="relu")],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [w, numpy_helper.from_array(B, "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def save(model, root, name):
    version = pathlib.Path(root) / name / "1"
    version.mkdir(parents=True)
    path = version / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def unknown_op_model():
    graph = helper.make_graph(
        [helper.make_node("FrobnicateNd", ["x"], ["y"], name="frob")], "unknown",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def cycle_model():
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
         helper.make_node("Relu", ["a"], ["b"], name="second"),
         helper.make_node("Identity", ["a"], ["y"], name="out")], "cycle",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


BAD = {
    "truncated": "Cannot parse ONNX model",
    "unknown_op": "'FrobnicateNd' (node 'frob', opset 13)",
    "missing_weights": "weights.bin",
    "cycle": "cycle",
}


@pytest.fixture
def onnx_repo(tmp_path):
    root = tmp_path / "repo"
    save(linear_model(), root, "good")
    external = save(linear_model("weights.bin"), root, "good_external")
    (external.parent / "weights.bin").write_bytes(W.tobytes())
    data = linear_model().SerializeToString()
    truncated = save(linear_model(), root, "truncated")
    truncated.write_bytes(data[: len(data) // 2])
    save(unknown_op_model(), root, "unknown_op")
    save(linear_model("weights.bin"), root, "missing_weights")
    save(cycle_model(), root, "cycle")
    names = ["good", "good_external"] + list(BAD)
    write_config(root / "config.json", [{"name": n, "base_path": n} for n in names])
    return root


def model_ready(stub, name):
    try:
        return stub.ModelReady(kpb.ModelReadyRequest(name=name)).ready
    except grpc.RpcError:
        return False


def infer(stub, name, x):
    request = kpb.ModelInferRequest(model_name=name)
    tensor = request.inputs.add(name="x", datatype="FP32", shape=list(x.shape))
    request.raw_input_contents.append(x.tobytes())
    response = stub.ModelInfer(request)
    assert response.outputs[0].name == "y"
    shape = list(response.outputs[0].shape)
    return np.frombuffer(response.raw_output_contents[0], np.float32).reshape(shape)


def test_bad_models_fail_with_clear_messages_and_good_ones_serve(start_tessera, onnx_repo):
    server = start_tessera("--config_path", str(onnx_repo / "config.json"), wait_ready=False)
    deadline = time.time() + 60
    while not (model_ready(server.stub, "good") and model_ready(server.stub, "good_external")):
        assert time.time() < deadline, server.logs()
        assert server.proc.poll() is None, server.logs()
        time.sleep(0.2)

    x = RNG.standard_normal((5, 4)).astype(np.float32)
    expected = np.maximum(x @ W + B, 0)
    for name in ("good", "good_external"):
        np.testing.assert_allclose(infer(server.stub, name, x), expected, rtol=1e-5, atol=1e-6)

    md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="good"))
    assert md.platform == "onnx_onnxv1"
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("x", "FP32", [-1, 4])]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [("y", "FP32", [-1, 3])]

    for name, text in BAD.items():
        assert not model_ready(server.stub, name)
        status = requests.get(f"{server.rest_url}/v1/models/{name}", timeout=30).json()
        (version,) = status["model_version_status"]
        assert version["state"] != "AVAILABLE", version
        assert text in version["status"]["error_message"], (name, version)
        assert version["status"]["error_code"] != "OK", version

    # Still serving after all of that.
    np.testing.assert_allclose(infer(server.stub, "good", x), expected, rtol=1e-5, atol=1e-6)
