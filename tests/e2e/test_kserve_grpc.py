"""KServe v2 gRPC: every RPC over the wire, values against python3-torch."""
import grpc
import numpy as np
import pytest

from conftest import (Tessera, kpb, make_repository, output_array, raw_request, torch_reference,
                      write_config)

RTOL = 1e-5
ATOL = 1e-6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("kserve"))
    write_config(root / "config.json", [
        {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
        {"name": "add_sub", "base_path": "add_sub"},
        {"name": "int_ops", "base_path": "int_ops", "nireq": 2},
    ])
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    s.root = root
    yield s
    assert s.stop() == 0, s.logs()


def expect_error(call, code, text):
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == code, err.value.details()
    assert text in err.value.details()
    return err.value.details()


def test_server_live_ready_metadata(server):
    assert server.stub.ServerLive(kpb.ServerLiveRequest()).live is True
    assert server.stub.ServerReady(kpb.ServerReadyRequest()).ready is True
    md = server.stub.ServerMetadata(kpb.ServerMetadataRequest())
    assert md.name == "tessera"
    assert md.version


def test_model_ready(server):
    assert server.stub.ModelReady(kpb.ModelReadyRequest(name="dense")).ready is True
    assert server.stub.ModelReady(kpb.ModelReadyRequest(name="dense", version="1")).ready is True
    expect_error(lambda: server.stub.ModelReady(kpb.ModelReadyRequest(name="nope")),
                 grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")
    expect_error(lambda: server.stub.ModelReady(kpb.ModelReadyRequest(name="dense", version="7")),
                 grpc.StatusCode.NOT_FOUND, "Model with requested version is not found")


def test_model_metadata(server):
    md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense"))
    assert md.name == "dense"
    assert list(md.versions) == ["1", "2"]
    assert md.platform == "pytorch_torchscript"
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("x", "FP32", [-1, 16])]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [("y", "FP32", [-1, 4])]
    md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="add_sub", version="1"))
    assert [t.name for t in md.inputs] == ["a", "b"]
    assert [t.name for t in md.outputs] == ["sum", "diff"]


@pytest.mark.parametrize("version", ["1", "2", ""])
def test_infer_raw_matches_torch(server, version):
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    resp = server.stub.ModelInfer(raw_request("dense", {"x": x}, {"x": "FP32"}, version=version,
                                              request_id="req-42"))
    used = version or "2"
    assert resp.model_name == "dense"
    assert resp.model_version == used
    assert resp.id == "req-42"
    assert resp.outputs[0].name == "y"
    assert list(resp.outputs[0].shape) == [3, 4]
    (expected,) = torch_reference(server.root / "dense" / used / "model.pt", x)
    np.testing.assert_allclose(output_array(resp, "y"), expected, rtol=RTOL, atol=ATOL)


def test_versions_give_different_outputs(server):
    x = np.ones((1, 16), np.float32)
    y1 = output_array(server.stub.ModelInfer(raw_request("dense", {"x": x}, {"x": "FP32"}, "1")), "y")
    y2 = output_array(server.stub.ModelInfer(raw_request("dense", {"x": x}, {"x": "FP32"}, "2")), "y")
    assert not np.allclose(y1, y2)


def test_infer_typed_contents(server):
    x = np.arange(32, dtype=np.float32).reshape(2, 16) / 10
    req = kpb.ModelInferRequest(model_name="dense")
    t = req.inputs.add(name="x", datatype="FP32", shape=[2, 16])
    t.contents.fp32_contents.extend(x.ravel().tolist())
    resp = server.stub.ModelInfer(req)
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(output_array(resp, "y"), expected, rtol=RTOL, atol=ATOL)


def test_requested_outputs_only(server):
    a = np.full((2, 8), 3, np.float32)
    b = np.arange(16, dtype=np.float32).reshape(2, 8)
    resp = server.stub.ModelInfer(raw_request("add_sub", {"a": a, "b": b},
                                              {"a": "FP32", "b": "FP32"}, outputs=["diff"]))
    assert [o.name for o in resp.outputs] == ["diff"]
    assert len(resp.raw_output_contents) == 1
    np.testing.assert_allclose(output_array(resp, "diff"), a - b)
    resp = server.stub.ModelInfer(raw_request("add_sub", {"b": b, "a": a},
                                              {"a": "FP32", "b": "FP32"}))
    assert [o.name for o in resp.outputs] == ["sum", "diff"]
    np.testing.assert_allclose(output_array(resp, "sum"), a + b)


def test_integer_and_bool_tensors(server):
    x = np.array([[-2, 0, 5, 7]], np.int64)
    req = kpb.ModelInferRequest(model_name="int_ops")
    t = req.inputs.add(name="x", datatype="INT64", shape=[1, 4])
    t.contents.int64_contents.extend(x.ravel().tolist())
    resp = server.stub.ModelInfer(req)
    y, mask = torch_reference(server.root / "int_ops" / "1" / "model.pt", x)
    np.testing.assert_array_equal(output_array(resp, "y"), y)
    np.testing.assert_array_equal(output_array(resp, "mask"), mask)
    assert [o.datatype for o in resp.outputs] == ["INT64", "BOOL"]


def test_stream_reports_errors_per_request_and_continues(server):
    x = np.ones((1, 16), np.float32)
    good = [raw_request("dense", {"x": x}, {"x": "FP32"}, request_id=f"ok-{i}") for i in range(5)]
    bad = raw_request("dense", {"x": np.ones((1, 15), np.float32)}, {"x": "FP32"},
                      request_id="bad")
    responses = list(server.stub.ModelStreamInfer(iter(good[:2] + [bad] + good[2:])))
    assert len(responses) == 6
    by_id = {}
    for r in responses:
        key = r.infer_response.id if not r.error_message else "error"
        by_id[key] = r
    assert "Invalid input shape - Expected: (-1,16); Actual: (1,15); input name: x" in \
        by_id["error"].error_message
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    for i in range(5):
        np.testing.assert_allclose(output_array(by_id[f"ok-{i}"].infer_response, "y"), expected,
                                   rtol=RTOL, atol=ATOL)


def test_malformed_requests(server):
    x = np.ones((1, 16), np.float32)
    infer = server.stub.ModelInfer
    expect_error(lambda: infer(raw_request("dense", {"x": np.ones((1, 15), np.float32)},
                                           {"x": "FP32"})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input shape - Expected: (-1,16); Actual: (1,15); input name: x")
    expect_error(lambda: infer(raw_request("dense", {"x": x.astype(np.float64)}, {"x": "FP64"})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input precision - Expected: FP32; Actual: FP64; input name: x")
    short = raw_request("dense", {"x": x}, {"x": "FP32"})
    short.raw_input_contents[0] = short.raw_input_contents[0][:-4]
    expect_error(lambda: infer(short), grpc.StatusCode.INVALID_ARGUMENT, "Expected: 64 bytes")
    expect_error(lambda: infer(raw_request("nope", {"x": x}, {"x": "FP32"})),
                 grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")
    expect_error(lambda: infer(raw_request("dense", {"x": x}, {"x": "FP32"}, version="9")),
                 grpc.StatusCode.NOT_FOUND, "Model with requested version is not found")
    expect_error(lambda: infer(raw_request("dense", {"x": x}, {"x": "FP32"}, version="abc")),
                 grpc.StatusCode.INVALID_ARGUMENT, "abc")
    expect_error(lambda: infer(raw_request("dense", {"x": x}, {"x": "FOO"})),
                 grpc.StatusCode.INVALID_ARGUMENT, "FOO")
    mixed = raw_request("add_sub", {"a": np.ones((1, 8), np.float32)}, {"a": "FP32"})
    b = mixed.inputs.add(name="b", datatype="FP32", shape=[1, 8])
    b.contents.fp32_contents.extend([1.0] * 8)
    expect_error(lambda: infer(mixed), grpc.StatusCode.INVALID_ARGUMENT, "raw")
    expect_error(lambda: infer(raw_request("add_sub", {"a": np.ones((1, 8), np.float32)},
                                           {"a": "FP32"})),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Missing input with specific name - Required input: b")
    expect_error(lambda: infer(raw_request("dense", {"x": x}, {"x": "FP32"}, outputs=["zz"])),
                 grpc.StatusCode.INVALID_ARGUMENT, "Invalid output name: zz")
    # Still serving correctly after every error above.
    resp = infer(raw_request("dense", {"x": x}, {"x": "FP32"}))
    (expected,) = torch_reference(server.root / "dense" / "2" / "model.pt", x)
    np.testing.assert_allclose(output_array(resp, "y"), expected, rtol=RTOL, atol=ATOL)


def test_garbage_bytes_are_rejected_cleanly(server):
    # A raw, unparsable protobuf body sent straight to the method.
    call = server.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                      request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as err:
        call(b"\xff\xff\xff\xff\x0f garbage", timeout=10)
    # gRPC 1.51's callback server rejects an unparsable message itself, before
    # any Tessera code runs (it answers UNIMPLEMENTED); the point is that it is
    # refused and nothing else is harmed.
    assert err.value.code() != grpc.StatusCode.OK
    assert server.stub.ServerLive(kpb.ServerLiveRequest()).live is True


def test_concurrent_clients_all_succeed(server):
    from concurrent.futures import ThreadPoolExecutor
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    (expected,) = torch_reference(server.root / "dense" / "1" / "model.pt", x)

    def one(_):
        resp = server.stub.ModelInfer(raw_request("dense", {"x": x}, {"x": "FP32"}, "1"))
        return output_array(resp, "y")

    with ThreadPoolExecutor(8) as pool:
        for y in pool.map(one, range(64)):
            np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)
