"""TensorFlow Serving gRPC: PredictionService and ModelService over the wire,
values against python3-torch."""
import json

import grpc
import numpy as np
import pytest
import torch

# conftest first: it puts the generated stubs on sys.path.
from conftest import Tessera, make_repository, torch_reference, write_config
from tensorflow.core.framework import tensor_pb2, types_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_status_pb2  # noqa: E402
from tensorflow_serving.apis import model_management_pb2  # noqa: E402
from tensorflow_serving.apis import model_service_pb2_grpc  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402
from tensorflow_serving.config import model_server_config_pb2  # noqa: E402

RTOL = 1e-5
ATOL = 1e-6

NP_TO_TF = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.float64): types_pb2.DT_DOUBLE,
            np.dtype(np.int64): types_pb2.DT_INT64, np.dtype(np.int32): types_pb2.DT_INT32,
            np.dtype(np.bool_): types_pb2.DT_BOOL, np.dtype(np.float16): types_pb2.DT_HALF}
TF_TO_NP = {v: k for k, v in NP_TO_TF.items()}
State = get_model_status_pb2.ModelVersionStatus


class Stubs:
    def __init__(self, server):
        self.server = server
        self.predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(server.channel)
        self.model_stub = model_service_pb2_grpc.ModelServiceStub(server.channel)

    def predict(self, req):
        return self.predict_stub.Predict(req, timeout=30)

    def metadata(self, name, version=None, fields=("signature_def",)):
        req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=list(fields))
        req.model_spec.name = name
        if version is not None:
            req.model_spec.version.value = version
        return self.predict_stub.GetModelMetadata(req, timeout=30)

    def status(self, name, version=None):
        req = get_model_status_pb2.GetModelStatusRequest()
        req.model_spec.name = name
        if version is not None:
            req.model_spec.version.value = version
        return self.model_stub.GetModelStatus(req, timeout=30)

    def reload(self, config):
        return self.model_stub.HandleReloadConfigRequest(
            model_management_pb2.ReloadConfigRequest(config=config), timeout=120)


def start_config_server(root, models_config):
    write_config(root / "config.json", models_config)
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    s.root = root
    return s


class HalfAffine(torch.nn.Module):
    """FP16 in, FP16 out: x * 2 + 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1


def make_half_affine(version_dir):
    version_dir.mkdir(parents=True)
    torch.jit.save(torch.jit.script(HalfAffine().eval()), str(version_dir / "model.pt"))
    signature = {"inputs": [{"name": "x", "datatype": "FP16", "shape": [-1, 4]}],
                 "outputs": [{"name": "y", "datatype": "FP16", "shape": [-1, 4]}]}
    (version_dir / "signature.json").write_text(json.dumps(signature))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("tfs_grpc"))
    make_half_affine(root / "half_affine" / "1")
    s = start_config_server(root, [
        {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
        {"name": "add_sub", "base_path": "add_sub"},
        {"name": "int_ops", "base_path": "int_ops"},
        {"name": "half_affine", "base_path": "half_affine"},
    ])
    yield Stubs(s)
    assert s.stop() == 0, s.logs()


def content_tensor(array):
    """A TensorProto carrying `array` in tensor_content."""
    array = np.ascontiguousarray(array)
    proto = tensor_pb2.TensorProto(dtype=NP_TO_TF[array.dtype],
                                   tensor_content=array.tobytes())
    proto.tensor_shape.dim.extend([proto.tensor_shape.Dim(size=d) for d in array.shape])
    return proto


def typed_tensor(array):
    """A TensorProto carrying `array` in the typed *_val field of its dtype."""
    proto = tensor_pb2.TensorProto(dtype=NP_TO_TF[array.dtype])
    proto.tensor_shape.dim.extend([proto.tensor_shape.Dim(size=d) for d in array.shape])
    if array.dtype == np.float16:  # half_val holds the IEEE binary16 bit patterns
        proto.half_val.extend(array.ravel().view(np.uint16).tolist())
        return proto
    field = {np.dtype(np.float32): proto.float_val, np.dtype(np.float64): proto.double_val,
             np.dtype(np.int64): proto.int64_val, np.dtype(np.int32): proto.int_val,
             np.dtype(np.bool_): proto.bool_val}[array.dtype]
    field.extend(array.ravel().tolist())
    return proto


def to_array(proto):
    """A response TensorProto (tensor_content) as a numpy array."""
    shape = [d.size for d in proto.tensor_shape.dim]
    return np.frombuffer(proto.tensor_content, dtype=TF_TO_NP[proto.dtype]).reshape(shape)


def predict_request(model, inputs, version=None, output_filter=(), make=content_tensor):
    req = predict_pb2.PredictRequest(output_filter=list(output_filter))
    req.model_spec.name = model
    req.model_spec.signature_name = "serving_default"
    if version is not None:
        req.model_spec.version.value = version
    for name, array in inputs.items():
        req.inputs[name].CopyFrom(make(array))
    return req


def expect_error(call, code, text):
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == code, err.value.details()
    assert text in err.value.details(), err.value.details()
    return err.value.details()


# --- Predict -----------------------------------------------------------------

@pytest.mark.parametrize("version", [1, 2, None])
def test_predict_tensor_content_matches_torch(server, version):
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    resp = server.predict(predict_request("dense", {"x": x}, version=version))
    used = version or 2
    assert resp.model_spec.name == "dense"
    assert resp.model_spec.version.value == used
    assert resp.model_spec.signature_name == "serving_default"
    assert list(resp.outputs.keys()) == ["y"]
    y = resp.outputs["y"]
    assert y.dtype == types_pb2.DT_FLOAT
    assert not y.float_val
    (expected,) = torch_reference(server.server.root / "dense" / str(used) / "model.pt", x)
    np.testing.assert_allclose(to_array(y), expected, rtol=RTOL, atol=ATOL)


def test_versions_give_different_outputs(server):
    x = np.ones((1, 16), np.float32)
    y1 = to_array(server.predict(predict_request("dense", {"x": x}, version=1)).outputs["y"])
    y2 = to_array(server.predict(predict_request("dense", {"x": x}, version=2)).outputs["y"])
    assert not np.allclose(y1, y2)


def test_predict_float_val(server):
    x = (np.arange(32, dtype=np.float32).reshape(2, 16) - 10) / 7
    resp = server.predict(predict_request("dense", {"x": x}, make=typed_tensor))
    (expected,) = torch_reference(server.server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(to_array(resp.outputs["y"]), expected, rtol=RTOL, atol=ATOL)


def test_predict_int64_val_and_bool_output(server):
    x = np.array([[-2, 0, 5, 7], [3, -9, 1 << 40, 0]], np.int64)
    for make in (typed_tensor, content_tensor):
        resp = server.predict(predict_request("int_ops", {"x": x}, make=make))
        y, mask = torch_reference(server.server.root / "int_ops" / "1" / "model.pt", x)
        assert resp.outputs["y"].dtype == types_pb2.DT_INT64
        assert resp.outputs["mask"].dtype == types_pb2.DT_BOOL
        np.testing.assert_array_equal(to_array(resp.outputs["y"]), y)
        np.testing.assert_array_equal(to_array(resp.outputs["mask"]), mask)


def test_predict_half_val_and_half_tensor_content(server):
    x = np.array([[1.5, -2.25, 0.0, 1000.0], [0.125, 3.0, -7.5, 65000.0 / 4]], np.float16)
    expected = HalfAffine()(torch.from_numpy(x)).numpy()
    for make in (typed_tensor, content_tensor):
        resp = server.predict(predict_request("half_affine", {"x": x}, make=make))
        y = resp.outputs["y"]
        assert y.dtype == types_pb2.DT_HALF
        np.testing.assert_array_equal(to_array(y), expected)


def test_output_filter(server):
    a = np.full((2, 8), 3, np.float32)
    b = np.arange(16, dtype=np.float32).reshape(2, 8)
    resp = server.predict(predict_request("add_sub", {"a": a, "b": b}, output_filter=["diff"]))
    assert list(resp.outputs.keys()) == ["diff"]
    np.testing.assert_allclose(to_array(resp.outputs["diff"]), a - b)
    resp = server.predict(predict_request("add_sub", {"b": b, "a": a}))
    assert sorted(resp.outputs.keys()) == ["diff", "sum"]
    np.testing.assert_allclose(to_array(resp.outputs["sum"]), a + b)
    np.testing.assert_allclose(to_array(resp.outputs["diff"]), a - b)


def test_predict_errors(server):
    x = np.ones((1, 16), np.float32)
    predict = server.predict
    expect_error(lambda: predict(predict_request("nope", {"x": x})),
                 grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")
    expect_error(lambda: predict(predict_request("dense", {"x": x}, version=9)),
                 grpc.StatusCode.NOT_FOUND, "Model with requested version is not found")
    expect_error(lambda: predict(predict_request("dense", {"x": np.ones((1, 15), np.float32)})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input shape - Expected: (-1,16); Actual: (1,15); input name: x")
    expect_error(lambda: predict(predict_request("dense", {"x": x.astype(np.float64)})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input precision - Expected: FP32; Actual: FP64; input name: x")
    short = predict_request("dense", {"x": x})
    short.inputs["x"].tensor_content = short.inputs["x"].tensor_content[:-4]
    expect_error(lambda: predict(short), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid content size of tensor proto - Expected: 64 bytes; Actual: 60 bytes; "
                 "input name: x")
    few = predict_request("dense", {"x": x}, make=typed_tensor)
    del few.inputs["x"].float_val[-1]
    expect_error(lambda: predict(few), grpc.StatusCode.INVALID_ARGUMENT,
                 "Input 'x' has 15 values in float_val; shape (1,16) needs 16")
    labelled = predict_request("dense", {"x": x})
    labelled.model_spec.version_label = "stable"
    expect_error(lambda: predict(labelled), grpc.StatusCode.INVALID_ARGUMENT,
                 "version_label is not supported; use version")
    unknown_rank = predict_request("dense", {"x": x})
    unknown_rank.inputs["x"].tensor_shape.Clear()
    unknown_rank.inputs["x"].tensor_shape.unknown_rank = True
    expect_error(lambda: predict(unknown_rank), grpc.StatusCode.INVALID_ARGUMENT, "unknown_rank")
    expect_error(lambda: predict(predict_request("add_sub", {"a": np.ones((1, 8), np.float32)})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Missing input with specific name - Required input: b")
    expect_error(lambda: predict(predict_request("dense", {"x": x}, output_filter=["zz"])),
                 grpc.StatusCode.INVALID_ARGUMENT, "Invalid output name: zz")
    strings = predict_request("dense", {"x": x})
    strings.inputs["x"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING,
                                                        string_val=[b"abc", b"de"]))
    strings.inputs["x"].tensor_shape.dim.add(size=2)
    expect_error(lambda: predict(strings), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input precision - Expected: FP32; Actual: BYTES; input name: x")
    # Still serving correctly after every error above.
    resp = predict(predict_request("dense", {"x": x}))
    (expected,) = torch_reference(server.server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(to_array(resp.outputs["y"]), expected, rtol=RTOL, atol=ATOL)


def test_undeclared_methods_are_unimplemented(server):
    for method in ("/tensorflow.serving.PredictionService/Classify",
                   "/tensorflow.serving.PredictionService/Regress",
                   "/tensorflow.serving.PredictionService/MultiInference"):
        call = server.server.channel.unary_unary(method, request_serializer=lambda b: b,
                                                 response_deserializer=lambda b: b)
        expect_error(lambda: call(b"", timeout=10), grpc.StatusCode.UNIMPLEMENTED, "")


def test_garbage_bytes_are_rejected_cleanly(server):
    call = server.server.channel.unary_unary("/tensorflow.serving.PredictionService/Predict",
                                             request_serializer=lambda b: b,
                                             response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as err:
        call(b"\xff\xff\xff\xff\x0f", timeout=10)
    # gRPC 1.51's callback server refuses an unparsable message itself (it
    # answers UNIMPLEMENTED) before any Tessera code runs; what matters is
    # that it is refused and the server keeps serving.
    assert err.value.code() != grpc.StatusCode.OK
    x = np.ones((1, 16), np.float32)
    assert server.predict(predict_request("dense", {"x": x})).outputs["y"].tensor_content


# --- GetModelMetadata --------------------------------------------------------

def signature_of(resp):
    any_msg = resp.metadata["signature_def"]
    assert any_msg.type_url == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    assert any_msg.Unpack(sig_map)
    assert list(sig_map.signature_def.keys()) == ["serving_default"]
    return sig_map.signature_def["serving_default"]


def describe(tensor_infos):
    return {k: (v.name, v.dtype, [d.size for d in v.tensor_shape.dim], v.tensor_shape.unknown_rank)
            for k, v in tensor_infos.items()}


def test_get_model_metadata(server):
    resp = server.metadata("dense")
    assert resp.model_spec.name == "dense"
    assert resp.model_spec.version.value == 2
    sig = signature_of(resp)
    assert sig.method_name == "tensorflow/serving/predict"
    assert describe(sig.inputs) == {"x": ("x", types_pb2.DT_FLOAT, [-1, 16], False)}
    assert describe(sig.outputs) == {"y": ("y", types_pb2.DT_FLOAT, [-1, 4], False)}
    assert server.metadata("dense", version=1).model_spec.version.value == 1

    sig = signature_of(server.metadata("int_ops"))
    assert describe(sig.inputs) == {"x": ("x", types_pb2.DT_INT64, [-1, 4], False)}
    assert describe(sig.outputs) == {"y": ("y", types_pb2.DT_INT64, [-1, 4], False),
                                     "mask": ("mask", types_pb2.DT_BOOL, [-1, 4], False)}
    sig = signature_of(server.metadata("add_sub"))
    assert sorted(sig.inputs.keys()) == ["a", "b"]
    assert sorted(sig.outputs.keys()) == ["diff", "sum"]


def test_get_model_metadata_errors(server):
    for fields in ((), ("inputs",), ("signature_def", "signature_def")):
        expect_error(lambda: server.metadata("dense", fields=fields),
                     grpc.StatusCode.INVALID_ARGUMENT, "Invalid signature name")
    expect_error(lambda: server.metadata("nope"), grpc.StatusCode.NOT_FOUND,
                 "Model with requested name is not found")
    expect_error(lambda: server.metadata("dense", version=5), grpc.StatusCode.NOT_FOUND,
                 "Model with requested version is not found")


# --- GetModelStatus ----------------------------------------------------------

def statuses(resp):
    return [(s.version, s.state, s.status.error_code, s.status.error_message)
            for s in resp.model_version_status]


def test_get_model_status(server):
    assert statuses(server.status("dense")) == [(1, State.AVAILABLE, 0, ""),
                                                (2, State.AVAILABLE, 0, "")]
    assert statuses(server.status("dense", version=1)) == [(1, State.AVAILABLE, 0, "")]
    assert statuses(server.status("int_ops")) == [(1, State.AVAILABLE, 0, "")]
    expect_error(lambda: server.status("nope"), grpc.StatusCode.NOT_FOUND,
                 "Model with requested name is not found")
    expect_error(lambda: server.status("dense", version=3), grpc.StatusCode.NOT_FOUND,
                 "Model with requested version is not found")


# --- HandleReloadConfigRequest -----------------------------------------------

def server_config(root, names):
    config = model_server_config_pb2.ModelServerConfig()
    for name in names:
        config.model_config_list.config.add(name=name, base_path=str(root / name),
                                            model_platform="pytorch_torchscript")
    return config


def test_reload_config_replaces_models(tmp_path, model_cache):
    import shutil
    root = tmp_path / "repo"
    shutil.copytree(model_cache, root)
    s = start_config_server(root, [{"name": "dense", "base_path": "dense"},
                                   {"name": "add_sub", "base_path": "add_sub"}])
    try:
        stubs = Stubs(s)
        resp = stubs.reload(server_config(root, ["dense", "int_ops"]))
        assert resp.status.error_code == 0
        assert resp.status.error_message == ""
        # int_ops is new and serves; add_sub is retired (END), dense unchanged.
        x = np.array([[1, -1, 2, 0]], np.int64)
        out = stubs.predict(predict_request("int_ops", {"x": x}))
        y, mask = torch_reference(root / "int_ops" / "1" / "model.pt", x)
        np.testing.assert_array_equal(to_array(out.outputs["y"]), y)
        assert [st[1] for st in statuses(stubs.status("add_sub"))] == [State.END]
        a = np.ones((1, 8), np.float32)
        expect_error(lambda: stubs.predict(predict_request("add_sub", {"a": a, "b": a})),
                     grpc.StatusCode.NOT_FOUND, "Model with requested version")
        assert statuses(stubs.status("dense")) == [(2, State.AVAILABLE, 0, "")]

        # Unsupported configs change nothing.
        custom = model_server_config_pb2.ModelServerConfig()
        custom.custom_model_config.type_url = "type.googleapis.com/x.Y"
        expect_error(lambda: stubs.reload(custom), grpc.StatusCode.UNIMPLEMENTED,
                     "custom_model_config is not supported; send model_config_list")
        policy = server_config(root, ["dense"])
        policy.model_config_list.config[0].model_version_policy.all.SetInParent()
        expect_error(lambda: stubs.reload(policy), grpc.StatusCode.UNIMPLEMENTED,
                     "model_version_policy of model 'dense'")
        expect_error(lambda: stubs.reload(model_server_config_pb2.ModelServerConfig()),
                     grpc.StatusCode.INVALID_ARGUMENT, "ModelServerConfig has no model_config_list")
        assert statuses(stubs.status("int_ops")) == [(1, State.AVAILABLE, 0, "")]

        # add_sub comes back.
        stubs.reload(server_config(root, ["dense", "int_ops", "add_sub"]))
        out = stubs.predict(predict_request("add_sub", {"a": a, "b": 2 * a}))
        np.testing.assert_allclose(to_array(out.outputs["sum"]), 3 * a)
    finally:
        assert s.stop() == 0, s.logs()


def test_reload_config_in_single_model_mode_is_refused(start_tessera, repo):
    s = start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"))
    stubs = Stubs(s)
    expect_error(lambda: stubs.reload(server_config(repo, ["add_sub"])),
                 grpc.StatusCode.FAILED_PRECONDITION, "single-model mode")
    x = np.ones((1, 16), np.float32)
    out = stubs.predict(predict_request("dense", {"x": x}))
    assert out.model_spec.version.value == 2
