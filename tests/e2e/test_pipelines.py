"""DAG pipelines (pipeline_config_list) over the wire: values against numpy on
the four front doors, metadata and status, demultiplexing, errors and the
lifecycle of a pipeline whose model goes away and comes back."""
import json
import shutil
import struct
import threading
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import BUILD, kpb, models, wait_until
from four_doors import (WireError, kserve_grpc_infer, kserve_rest_infer, tfs_grpc_predict,
                        tfs_rest_predict)
from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_status_pb2  # noqa: E402
from tensorflow_serving.apis import model_service_pb2_grpc  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402

LIBS = BUILD / "src" / "custom_node"


def src(node, item):
    return {"node_name": node, "data_item": item}


def pipelines():
    return [
        # DL -> custom -> DL: s = x + x; t = s + 10; sum = t + x, diff = t - x.
        {"name": "chain", "inputs": ["x"], "nodes": [
            {"name": "first", "type": "DL model", "model_name": "add_sub",
             "inputs": [{"a": src("request", "x")}, {"b": src("request", "x")}],
             "outputs": [{"data_item": "sum", "alias": "s"}]},
            {"name": "plus10", "type": "custom", "library_name": "add_sub_lib",
             "params": {"add_value": "10"},
             "inputs": [{"input_numbers": src("first", "s")}],
             "outputs": [{"data_item": "output_numbers", "alias": "t"}]},
            {"name": "second", "type": "DL model", "model_name": "add_sub",
             "inputs": [{"a": src("plus10", "t")}, {"b": src("request", "x")}],
             "outputs": [{"data_item": "sum", "alias": "sum"}, {"data_item": "diff", "alias": "diff"}]}],
         "outputs": [{"sum": src("second", "sum")}, {"diff": src("second", "diff")}]},
        # x[0][0] rows (x + k), each through dense; gathered by "response".
        {"name": "demux", "inputs": ["x"], "nodes": [
            {"name": "split", "type": "custom", "library_name": "demux_lib", "demultiply_count": -1,
             "params": {}, "inputs": [{"input_numbers": src("request", "x")}],
             "outputs": [{"data_item": "dynamic_demultiplex_results", "alias": "rows"}]},
            {"name": "dense", "type": "DL model", "model_name": "dense",
             "inputs": [{"x": src("split", "rows")}], "outputs": [{"data_item": "y", "alias": "y"}]}],
         "outputs": [{"y": src("dense", "y")}]},
        # The same, gathered by a custom node (+0.5) with gather_from_node.
        {"name": "demux_gather", "inputs": ["x"], "nodes": [
            {"name": "split", "type": "custom", "library_name": "demux_lib", "demultiply_count": -1,
             "params": {}, "inputs": [{"input_numbers": src("request", "x")}],
             "outputs": [{"data_item": "dynamic_demultiplex_results", "alias": "rows"}]},
            {"name": "dense", "type": "DL model", "model_name": "dense",
             "inputs": [{"x": src("split", "rows")}], "outputs": [{"data_item": "y", "alias": "y"}]},
            {"name": "gather", "type": "custom", "library_name": "add_sub_lib", "gather_from_node": "split",
             "params": {"add_value": "0.5", "metadata_rank": "3"},
             "inputs": [{"input_numbers": src("dense", "y")}],
             "outputs": [{"data_item": "output_numbers", "alias": "g"}]}],
         "outputs": [{"y": src("gather", "g")}]},
        # Entry demultiplexing: [N,1,16] in, [N,1,4] out.
        {"name": "entry", "inputs": ["x"], "demultiply_count": -1, "nodes": [
            {"name": "dense", "type": "DL model", "model_name": "dense",
             "inputs": [{"x": src("request", "x")}], "outputs": [{"data_item": "y", "alias": "y"}]}],
         "outputs": [{"y": src("dense", "y")}]},
        {"name": "bad", "inputs": ["x"], "nodes": [
            {"name": "broken", "type": "custom", "library_name": "bad_lib", "params": {"mode": "exec_fail"},
             "inputs": [{"in": src("request", "x")}], "outputs": [{"data_item": "out", "alias": "o"}]}],
         "outputs": [{"y": src("broken", "o")}]},
        # Uses a model that is not configured at first.
        {"name": "later", "inputs": ["x"], "nodes": [
            {"name": "dense", "type": "DL model", "model_name": "dense_later",
             "inputs": [{"x": src("request", "x")}], "outputs": [{"data_item": "y", "alias": "y"}]}],
         "outputs": [{"y": src("dense", "y")}]},
        # Its library does not load: only this pipeline fails.
        {"name": "no_lib", "inputs": ["x"], "nodes": [
            {"name": "n", "type": "custom", "library_name": "gone_lib", "params": {},
             "inputs": [{"in": src("request", "x")}], "outputs": [{"data_item": "out", "alias": "o"}]}],
         "outputs": [{"y": src("n", "o")}]},
        # A custom node reads the request: x + 1, x of (1, any) FP32.
        {"name": "plus", "inputs": ["x"], "nodes": [
            {"name": "plus1", "type": "custom", "library_name": "add_sub_lib", "params": {"add_value": "1"},
             "inputs": [{"input_numbers": src("request", "x")}],
             "outputs": [{"data_item": "output_numbers", "alias": "y"}]}],
         "outputs": [{"y": src("plus1", "y")}]},
        # A cycle between two nodes: only this pipeline fails.
        {"name": "loop", "inputs": ["x"], "nodes": [
            {"name": "n1", "type": "DL model", "model_name": "add_sub",
             "inputs": [{"a": src("n2", "s")}, {"b": src("request", "x")}],
             "outputs": [{"data_item": "sum", "alias": "s"}]},
            {"name": "n2", "type": "DL model", "model_name": "add_sub",
             "inputs": [{"a": src("n1", "s")}, {"b": src("request", "x")}],
             "outputs": [{"data_item": "sum", "alias": "s"}]}],
         "outputs": [{"y": src("n1", "s")}]},
        # Named like a model: only this pipeline is skipped.
        {"name": "dense", "inputs": ["x"], "nodes": [], "outputs": [{"y": src("request", "x")}]},
    ]


def write_config(path, repo, with_later=False, with_pipelines=True, add_sub_delay_us=None):
    add_sub = {"name": "add_sub", "base_path": str(repo / "add_sub")}
    if add_sub_delay_us:  # requests wait this long for a batch to fill
        add_sub["dynamic_batching"] = {"max_batch_size": 64,
                                       "max_queue_delay_microseconds": add_sub_delay_us}
    model_list = [{"config": {"name": "dense", "base_path": str(repo / "dense")}},
                  {"config": add_sub}]
    if with_later:
        model_list.append({"config": {"name": "dense_later", "base_path": str(repo / "dense")}})
    config = {
        "model_config_list": model_list,
        "custom_node_library_config_list": [
            {"name": "add_sub_lib", "base_path": str(LIBS / "libcustom_node_add_sub.so")},
            {"name": "demux_lib", "base_path": str(LIBS / "libcustom_node_dynamic_demultiplex.so")},
            {"name": "bad_lib", "base_path": str(LIBS / "libcustom_node_misbehaving.so")},
            {"name": "gone_lib", "base_path": str(LIBS / "libcustom_node_not_there.so")}],
        "pipeline_config_list": pipelines() if with_pipelines else [],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    tmp.replace(path)


@pytest.fixture
def served(start_tessera, repo, tmp_path):
    config = tmp_path / "config.json"
    write_config(config, repo)
    server = start_tessera("--config_path", str(config), "--file_system_poll_wait_seconds", "0")
    server.config = config
    server.repo = repo
    return server


def dense(x, seed=2):
    """dense's default version is 2 (the latest), built from seed 2."""
    return models.dense_reference(seed, np.asarray(x, np.float32))


def chain_reference(x):
    t = x + x + 10
    return {"sum": t + x, "diff": t - x}


def every_door(server, model, array):
    """{door: {output: array}} for one float32 input "x" on the four doors."""
    out = {
        "kserve_grpc": kserve_grpc_infer(server, model, array=array, name="x"),
        "kserve_rest_json": kserve_rest_infer(server, model, array=array, name="x"),
        "tfs_grpc": tfs_grpc_predict(server, model, array=array, name="x"),
    }
    # A single output is given unnamed (TFS), under the name "y" in these pipelines.
    col = tfs_rest_predict(server, model, {"inputs": {"x": array.tolist()}})["outputs"]
    col = col if isinstance(col, dict) else {"y": col}
    out["tfs_rest_column"] = {k: np.array(v, np.float32) for k, v in col.items()}
    if array.shape[0] == 1:  # row format: one instance per dim-0 row
        rows = tfs_rest_predict(server, model, {"instances": array.tolist()})["predictions"]
        rows = rows if isinstance(rows[0], dict) else [{"y": r} for r in rows]
        out["tfs_rest_row"] = {k: np.array([r[k] for r in rows], np.float32) for k in rows[0]}
    return out


def kserve_rest_binary(server, model, array):
    header = json.dumps({"inputs": [{"name": "x", "shape": list(array.shape), "datatype": "FP32",
                                     "parameters": {"binary_data_size": array.nbytes}}]}).encode()
    resp = requests.post(f"{server.rest_url}/v2/models/{model}/infer",
                         data=header + array.astype(np.float32).tobytes(), timeout=30,
                         headers={"Inference-Header-Content-Length": str(len(header)),
                                  "Content-Type": "application/octet-stream"})
    assert resp.status_code == 200, resp.text
    return {o["name"]: np.array(o["data"], np.float32).reshape(o["shape"])
            for o in resp.json()["outputs"]}


def test_chain_on_every_door(served):
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    expected = chain_reference(x)
    results = every_door(served, "chain", x)
    results["kserve_rest_binary"] = kserve_rest_binary(served, "chain", x)
    for door, outputs in results.items():
        assert sorted(outputs) == ["diff", "sum"], door
        for name in ("sum", "diff"):
            np.testing.assert_allclose(outputs[name], expected[name], rtol=1e-6, err_msg=door)
    reply = served.stub.ModelInfer(kpb.ModelInferRequest(
        model_name="chain", id="r1", inputs=[kpb.ModelInferRequest.InferInputTensor(
            name="x", datatype="FP32", shape=[1, 8])], raw_input_contents=[x.tobytes()]), timeout=30)
    assert (reply.model_name, reply.model_version, reply.id) == ("chain", "1", "r1")


def test_chain_over_model_stream_infer(served):
    x = np.ones((1, 8), np.float32)
    reqs = [kpb.ModelInferRequest(model_name="chain", id=str(i), inputs=[
        kpb.ModelInferRequest.InferInputTensor(name="x", datatype="FP32", shape=[1, 8])],
        raw_input_contents=[(x * i).tobytes()]) for i in range(3)]
    replies = list(served.stub.ModelStreamInfer(iter(reqs), timeout=30))
    assert len(replies) == 3
    for reply in replies:
        assert reply.error_message == ""
        i = int(reply.infer_response.id)
        names = [o.name for o in reply.infer_response.outputs]
        sums = np.frombuffer(reply.infer_response.raw_output_contents[names.index("sum")], np.float32)
        np.testing.assert_allclose(sums, chain_reference(x * i)["sum"].ravel())


def test_dynamic_demultiplexer_gathered_by_response_and_by_node(served):
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 16)
    x[0, 0] = 3
    rows = np.stack([x + k for k in range(3)])  # [3,1,16]
    expected = np.stack([dense(r) for r in rows])  # [3,1,4]
    for door, outputs in every_door(served, "demux", x).items():
        np.testing.assert_allclose(outputs["y"], expected, rtol=1e-5, atol=1e-6, err_msg=door)
    out = kserve_grpc_infer(served, "demux_gather", array=x, name="x")
    np.testing.assert_allclose(out["y"], expected + 0.5, rtol=1e-5, atol=1e-6)


def test_entry_demultiplexing(served):
    x = np.random.default_rng(1).standard_normal((5, 1, 16)).astype(np.float32)
    expected = np.stack([dense(r) for r in x])
    out = kserve_grpc_infer(served, "entry", array=x, name="x")
    assert out["y"].shape == (5, 1, 4)
    np.testing.assert_allclose(out["y"], expected, rtol=1e-5, atol=1e-6)
    out = kserve_rest_infer(served, "entry", array=x, name="x")
    np.testing.assert_allclose(out["y"], expected, rtol=1e-5, atol=1e-6)


def test_zero_rows_is_aborted_and_http_204(served):
    x = np.zeros((1, 16), np.float32)
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "demux", array=x, name="x")
    assert e.value.code == "ABORTED"
    assert e.value.message.startswith("Pipeline execution aborted due to no content from custom node")
    assert "node: split" in e.value.message
    resp = requests.post(f"{served.rest_url}/v2/models/demux/infer", timeout=30, data=json.dumps(
        {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": [0.0] * 16}]}))
    assert resp.status_code == 204 and resp.content == b""
    resp = requests.post(f"{served.rest_url}/v1/models/demux:predict", timeout=30,
                         data=json.dumps({"inputs": {"x": [[0.0] * 16]}}))
    assert resp.status_code == 204 and resp.content == b""


def test_failing_custom_node_is_internal_naming_the_node(served):
    x = np.ones((1, 8), np.float32)
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "bad", array=x, name="x")
    assert e.value.code == "INTERNAL"
    assert "Custom node failed during execution" in e.value.message
    assert "broken" in e.value.message
    resp = requests.post(f"{served.rest_url}/v1/models/bad:predict", timeout=30,
                         data=json.dumps({"inputs": {"x": x.tolist()}}))
    assert resp.status_code == 500
    assert "Custom node failed during execution" in resp.json()["error"]


def tfs_status(server, name, version=None):
    stub = model_service_pb2_grpc.ModelServiceStub(server.channel)
    req = get_model_status_pb2.GetModelStatusRequest()
    req.model_spec.name = name
    if version is not None:
        req.model_spec.version.value = version
    return stub.GetModelStatus(req, timeout=30)


def test_metadata_and_status_on_every_door(served):
    md = served.stub.ModelMetadata(kpb.ModelMetadataRequest(name="chain"), timeout=30)
    assert (md.name, list(md.versions), md.platform) == ("chain", ["1"], "OpenVINO")
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("x", "FP32", [-1, 8])]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [
        ("diff", "FP32", [-1, 8]), ("sum", "FP32", [-1, 8])]
    rest = requests.get(f"{served.rest_url}/v2/models/chain", timeout=30).json()
    assert rest["versions"] == ["1"] and [t["name"] for t in rest["outputs"]] == ["diff", "sum"]
    md = served.stub.ModelMetadata(kpb.ModelMetadataRequest(name="demux"), timeout=30)
    # The gathered dim, then dense's own (dynamic) batch dim.
    assert [list(t.shape) for t in md.outputs] == [[-1, -1, 4]]

    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="chain"), timeout=30).ready
    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="chain", version="5"), timeout=30).ready
    assert requests.get(f"{served.rest_url}/v2/models/chain/ready", timeout=30).status_code == 200

    status = tfs_status(served, "chain", version=3)
    assert [(v.version, v.state) for v in status.model_version_status] == [(1, 30)]
    stub = prediction_service_pb2_grpc.PredictionServiceStub(served.channel)
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = "chain"
    tfs_md = stub.GetModelMetadata(req, timeout=30)
    assert tfs_md.model_spec.version.value == 1

    v1 = requests.get(f"{served.rest_url}/v1/models/chain", timeout=30).json()
    assert v1 == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    config = requests.get(f"{served.rest_url}/v1/config", timeout=30).json()
    assert list(config) == sorted(config)
    for name in ("bad", "chain", "demux", "demux_gather", "entry", "later", "add_sub", "dense"):
        assert name in config, name
    assert config["chain"]["model_version_status"][0]["state"] == "AVAILABLE"
    assert config["later"]["model_version_status"][0]["state"] == "LOADING"
    assert config["later"]["model_version_status"][0]["status"]["error_code"] == "FAILED_PRECONDITION"
    no_lib = config["no_lib"]["model_version_status"][0]
    assert no_lib["state"] == "LOADING"
    assert no_lib["status"]["error_message"].startswith("Pipeline refers to incorrect library"), no_lib
    # "dense" is the model: the pipeline of that name was skipped.
    assert config["dense"]["model_version_status"][0]["version"] in ("1", "2")
    assert "Pipeline has the same name as model" in served.logs()


def test_missing_model_is_unavailable_then_recovers(served):
    x = np.ones((1, 16), np.float32)
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "later", array=x, name="x")
    assert e.value.code == "UNAVAILABLE"
    assert e.value.message.startswith(
        "Pipeline is not loaded yet; Pipeline definition has reference to missing model; pipeline: later")
    assert not served.stub.ModelReady(kpb.ModelReadyRequest(name="later"), timeout=30).ready
    assert requests.get(f"{served.rest_url}/v2/models/later/ready", timeout=30).status_code != 200
    assert tfs_status(served, "later").model_version_status[0].state == 20

    write_config(served.config, served.repo, with_later=True)
    resp = requests.post(f"{served.rest_url}/v1/config/reload", timeout=60)
    assert resp.status_code == 201, resp.text
    assert resp.json()["later"]["model_version_status"][0]["state"] == "AVAILABLE"
    out = kserve_grpc_infer(served, "later", array=x, name="x")
    np.testing.assert_allclose(out["y"], models.dense_reference(2, x), rtol=1e-5, atol=1e-6)

    # The model goes away again (its versions removed): unavailable, then back.
    shutil.rmtree(served.repo / "dense")
    requests.post(f"{served.rest_url}/v1/config/reload", timeout=60)
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "later", array=x, name="x")
    assert e.value.code == "UNAVAILABLE"
    models.make_dense(str(served.repo / "dense" / "1"), seed=1)
    resp = requests.post(f"{served.rest_url}/v1/config/reload", timeout=60)
    assert resp.json()["later"]["model_version_status"][0]["state"] == "AVAILABLE"
    out = kserve_grpc_infer(served, "later", array=x, name="x")
    np.testing.assert_allclose(out["y"], dense(x, seed=1), rtol=1e-5, atol=1e-6)


def test_removed_pipeline_is_retired(served):
    write_config(served.config, served.repo, with_pipelines=False)
    resp = requests.post(f"{served.rest_url}/v1/config/reload", timeout=60)
    assert resp.status_code == 201
    assert resp.json()["chain"]["model_version_status"][0]["state"] == "END"
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "chain", array=np.ones((1, 8), np.float32), name="x")
    assert (e.value.code, e.value.message) == ("NOT_FOUND", "Pipeline is retired")
    # The models keep serving.
    out = kserve_grpc_infer(served, "dense", array=np.ones((1, 16), np.float32), name="x")
    assert out["y"].shape == (1, 4)


def test_unknown_name_is_the_model_answer(served):
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(served, "nothing", array=np.ones((1, 8), np.float32), name="x")
    assert (e.value.code, e.value.message) == ("NOT_FOUND", "Model with requested name is not found")


def test_pipeline_metrics(start_tessera, repo, tmp_path):
    from test_metrics import key, scrape
    config = tmp_path / "config.json"
    write_config(config, repo)
    server = start_tessera("--config_path", str(config), "--metrics_enable")
    x = np.ones((1, 8), np.float32)
    kserve_grpc_infer(server, "chain", array=x, name="x")
    tfs_rest_predict(server, "chain", {"inputs": {"x": x.tolist()}})
    with pytest.raises(WireError):
        kserve_grpc_infer(server, "bad", array=x, name="x")
    samples = scrape(server)
    assert samples[key("ovms_requests_success", api="KServe", interface="gRPC", method="ModelInfer",
                       name="chain", version="1")] == 1
    assert samples[key("ovms_requests_success", api="TensorFlowServing", interface="REST",
                       method="Predict", name="chain", version="1")] == 1
    assert samples[key("ovms_requests_fail", api="KServe", interface="gRPC", method="ModelInfer",
                       name="bad", version="1")] == 1
    assert samples[key("ovms_request_time_us_count", interface="gRPC", name="chain", version="1")] == 1
    for node in ("first", "plus10", "second"):
        assert samples[key("tessera_pipeline_node_time_us_count", pipeline="chain", node=node)] == 2, node
    assert samples[key("tessera_pipeline_node_time_us_count", pipeline="bad", node="broken")] == 1
    # The models inside the pipeline count their own work.
    assert samples[key("ovms_inference_time_us_count", name="add_sub", version="1")] == 4


def test_pipeline_retired_with_requests_in_flight(start_tessera, repo, tmp_path):
    """Requests started before the pipeline is removed all finish with the
    right values; later ones are told it is retired."""
    config = tmp_path / "config.json"
    write_config(config, repo, add_sub_delay_us=1_500_000)
    server = start_tessera("--config_path", str(config), "--file_system_poll_wait_seconds", "0")
    xs = [np.full((1, 8), i, np.float32) for i in range(4)]
    futures = [server.stub.ModelInfer.future(kpb.ModelInferRequest(
        model_name="chain", inputs=[kpb.ModelInferRequest.InferInputTensor(
            name="x", datatype="FP32", shape=[1, 8])], raw_input_contents=[x.tobytes()]), timeout=60)
        for x in xs]
    time.sleep(0.5)  # the requests wait in add_sub's batch queue
    write_config(config, repo, with_pipelines=False, add_sub_delay_us=1_500_000)
    resp = requests.post(f"{server.rest_url}/v1/config/reload", timeout=60)
    assert resp.json()["chain"]["model_version_status"][0]["state"] == "END"
    for x, future in zip(xs, futures):
        reply = future.result()
        names = [o.name for o in reply.outputs]
        got = np.frombuffer(reply.raw_output_contents[names.index("sum")], np.float32)
        np.testing.assert_allclose(got, chain_reference(x)["sum"].ravel())
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(server, "chain", array=xs[0], name="x")
    assert (e.value.code, e.value.message) == ("NOT_FOUND", "Pipeline is retired")


def test_model_removed_and_restored_while_client_loops(start_tessera, repo, tmp_path):
    """The poller alone takes the pipeline down with its model and back."""
    config = tmp_path / "config.json"
    write_config(config, repo, with_later=True)
    server = start_tessera("--config_path", str(config), "--file_system_poll_wait_seconds", "1")
    x = np.ones((1, 16), np.float32)
    expected = dense(x)
    outcomes, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            try:
                out = kserve_grpc_infer(server, "later", array=x, name="x")
                np.testing.assert_allclose(out["y"], expected, rtol=1e-5, atol=1e-6)
                outcomes.append("ok")
            except WireError as e:
                outcomes.append((e.code, e.message))
            time.sleep(0.01)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        time.sleep(0.5)
        write_config(config, repo, with_later=False)

        def state():
            return requests.get(f"{server.rest_url}/v1/config", timeout=10).json()[
                "later"]["model_version_status"][0]["state"]
        wait_until(lambda: state() == "LOADING", what="the pipeline losing its model")
        time.sleep(0.5)
        write_config(config, repo, with_later=True)
        wait_until(lambda: state() == "AVAILABLE", what="the pipeline recovering")
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert outcomes[0] == "ok" and outcomes[-1] == "ok"
    failures = [o for o in outcomes if o != "ok"]
    assert any(f[0] == "UNAVAILABLE" and f[1].startswith(
        "Pipeline is not loaded yet; Pipeline definition has reference to missing model") for f in failures)
    # While the model goes away a request may meet it retiring: the model's own
    # answer; never an internal error.
    assert all(f[0] in ("UNAVAILABLE", "NOT_FOUND") for f in failures), failures
    # Other pipelines and the models kept serving.
    out = kserve_grpc_infer(server, "chain", array=np.ones((1, 8), np.float32), name="x")
    np.testing.assert_allclose(out["sum"], chain_reference(np.ones((1, 8), np.float32))["sum"])


def test_bad_config_at_reload_keeps_pipelines_serving(served):
    text = json.loads(served.config.read_text())
    text["pipeline_config_list"][0]["nodes"][0]["type"] = "python"  # fails the schema
    served.config.write_text(json.dumps(text))
    resp = requests.post(f"{served.rest_url}/v1/config/reload", timeout=60)
    assert resp.status_code == 400
    assert resp.json()["error"] == "Reloading config file failed. Check server logs for more info."
    x = np.ones((1, 8), np.float32)
    out = kserve_grpc_infer(served, "chain", array=x, name="x")
    np.testing.assert_allclose(out["sum"], chain_reference(x)["sum"])


@pytest.mark.parametrize("door", ["tfs_grpc", "tfs_rest_row", "tfs_rest_column", "kserve_grpc_contents",
                                  "kserve_grpc_raw", "kserve_rest_json", "kserve_rest_binary"])
def test_images_into_a_pipeline(start_tessera, tmp_path, door):
    """PNG images into a pipeline whose first node is an NHWC image model:
    decoded as for the model itself."""
    from test_images import encode, pattern, send_images
    models.make_classifier(str(tmp_path / "classifier" / "1"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_config_list": [{"config": {"name": "classifier", "base_path": "classifier",
                                          "layout": "NHWC:NCHW"}}],
        "pipeline_config_list": [{"name": "classify", "inputs": ["data"], "nodes": [
            {"name": "c", "type": "DL model", "model_name": "classifier",
             "inputs": [{"data": src("request", "data")}],
             "outputs": [{"data_item": "probs", "alias": "p"}]}],
            "outputs": [{"probs": src("c", "p")}]}]}))
    server = start_tessera("--config_path", str(config))
    images = [encode(pattern(32, 32, 3, seed), ".png") for seed in (1, 2)]
    got = send_images(door, server, "classify", images)
    expected = send_images(door, server, "classifier", images)
    assert got.shape == (2, 10)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def kserve_grpc_raw(server, model, inputs):
    """ModelInfer with raw_input_contents; `inputs` is [(name, datatype, shape, bytes)]."""
    req = kpb.ModelInferRequest(model_name=model)
    for name, datatype, shape, data in inputs:
        req.inputs.add(name=name, datatype=datatype, shape=shape)
        req.raw_input_contents.append(data)
    return server.stub.ModelInfer(req, timeout=30)


def kserve_rest_binary_raw(server, model, inputs):
    """POST …/infer with every input in the binary extension; returns the response."""
    header = json.dumps({"inputs": [{"name": name, "datatype": datatype, "shape": shape,
                                     "parameters": {"binary_data_size": len(data)}}
                                    for name, datatype, shape, data in inputs]}).encode()
    return requests.post(f"{server.rest_url}/v2/models/{model}/infer", timeout=30,
                         data=header + b"".join(data for _, _, _, data in inputs),
                         headers={"Inference-Header-Content-Length": str(len(header)),
                                  "Content-Type": "application/octet-stream"})


def fp32(shape, value=1.0):
    return np.full(shape, value, np.float32).tobytes()


# (case, inputs, message): every one is refused before any node runs.
BAD_REQUESTS = [
    ("wrong_shape", [("x", "FP32", [2, 8], fp32((2, 8)))],
     "Invalid input shape - Expected: (1,-1); Actual: (2,8); input name: x"),
    ("wrong_rank", [("x", "FP32", [8], fp32((8,)))],
     "Invalid input shape - Expected: (1,-1); Actual: (8); input name: x"),
    ("wrong_datatype", [("x", "INT32", [1, 8], np.ones((1, 8), np.int32).tobytes())],
     "Invalid input precision - Expected: FP32; Actual: INT32; input name: x"),
    # One element whose 4-byte length says 1000 bytes: taken as one raw element, then refused as BYTES.
    ("bytes_lying_size", [("x", "BYTES", [1], struct.pack("<I", 1000) + b"abc")],
     "Invalid input precision - Expected: FP32; Actual: BYTES; input name: x"),
    ("missing_input", [("z", "FP32", [1, 8], fp32((1, 8)))],
     "Missing input with specific name - Required input: x"),
    ("extra_input", [("x", "FP32", [1, 8], fp32((1, 8))), ("z", "FP32", [1, 8], fp32((1, 8)))],
     "Invalid number of inputs - Expected: 1; Actual: 2"),
]


@pytest.mark.parametrize("case,inputs,message", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_request_checked_against_pipeline_inputs(served, case, inputs, message):
    """A request unlike the pipeline's input metadata never reaches its custom node."""
    with pytest.raises(grpc.RpcError) as e:
        kserve_grpc_raw(served, "plus", inputs)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details() == message
    resp = kserve_rest_binary_raw(served, "plus", inputs)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == message
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    out = kserve_grpc_infer(served, "plus", array=x, name="x")
    np.testing.assert_allclose(out["y"], x + 1)
    assert served.stub.ServerLive(kpb.ServerLiveRequest(), timeout=30).live


def test_bytes_with_lying_length_prefix_is_refused(served):
    """Two BYTES elements announced, the first length runs past the buffer."""
    inputs = [("x", "BYTES", [2], struct.pack("<I", 1000) + b"abc")]
    with pytest.raises(grpc.RpcError) as e:
        kserve_grpc_raw(served, "plus", inputs)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "BYTES element length runs past the buffer end" in e.value.details()
    resp = kserve_rest_binary_raw(served, "plus", inputs)
    assert resp.status_code == 400, resp.text
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(kserve_grpc_infer(served, "plus", array=x, name="x")["y"], x + 1)


def test_bad_pipelines_at_start(served):
    """Started with pipelines referencing a missing model, a missing library and
    a cycle: the server serves its models and good pipelines; each bad one is
    LOADING with its validation error."""
    x = np.ones((1, 8), np.float32)
    np.testing.assert_allclose(kserve_grpc_infer(served, "chain", array=x, name="x")["sum"],
                               chain_reference(x)["sum"])
    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=30).ready
    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="add_sub"), timeout=30).ready
    config = requests.get(f"{served.rest_url}/v1/config", timeout=30).json()
    expected = {
        "later": "Pipeline definition has reference to missing model; pipeline: later; Missing model: dense_later",
        "no_lib": "Pipeline refers to incorrect library; pipeline: no_lib",
        "loop": "Pipeline definition contains a cycle; pipeline: loop",
    }
    for name, text in expected.items():
        status = config[name]["model_version_status"][0]
        assert status["state"] == "LOADING", (name, status)
        assert status["status"]["error_code"] == "FAILED_PRECONDITION", (name, status)
        assert status["status"]["error_message"].startswith(text), (name, status)
        assert not served.stub.ModelReady(kpb.ModelReadyRequest(name=name), timeout=30).ready
        with pytest.raises(WireError) as e:
            kserve_grpc_infer(served, name, array=x, name="x")
        assert e.value.code == "UNAVAILABLE"
        assert e.value.message == "Pipeline is not loaded yet; " + status["status"]["error_message"]
        resp = requests.post(f"{served.rest_url}/v2/models/{name}/infer", timeout=30,
                             data=json.dumps({"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP32",
                                                          "data": [1.0] * 8}]}))
        assert resp.status_code == 503
        assert resp.json()["error"] == e.value.message


def image_pipelines():
    """Encoded images into a custom node (decoded at the pipeline's entry,
    as OVMS does for custom node inputs), alone and demultiplexed at entry."""
    transform = {"name": "transform", "type": "custom", "library_name": "image_lib",
                 "params": {"original_image_layout": "NHWC", "target_image_width": "32",
                            "target_image_height": "32"},
                 "inputs": [{"image": src("request", "data")}],
                 "outputs": [{"data_item": "image", "alias": "img"}]}
    classify = {"name": "c", "type": "DL model", "model_name": "classifier",
                "inputs": [{"data": src("transform", "img")}],
                "outputs": [{"data_item": "probs", "alias": "p"}]}
    return [
        {"name": "classify_image", "inputs": ["data"], "nodes": [transform, classify],
         "outputs": [{"probs": src("c", "p")}]},
        {"name": "classify_each", "inputs": ["data"], "demultiply_count": -1, "nodes": [transform, classify],
         "outputs": [{"probs": src("c", "p")}]},
    ]


@pytest.fixture
def image_served(start_tessera, tmp_path):
    models.make_classifier(str(tmp_path / "classifier" / "1"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_config_list": [{"config": {"name": "classifier", "base_path": "classifier",
                                          "layout": "NHWC:NCHW"}}],
        "custom_node_library_config_list": [
            {"name": "image_lib", "base_path": str(LIBS / "libcustom_node_image_transformation.so")}],
        "pipeline_config_list": image_pipelines()}))
    return start_tessera("--config_path", str(config))


@pytest.mark.parametrize("door", ["tfs_grpc", "tfs_rest_row", "kserve_grpc_raw", "kserve_rest_json",
                                  "kserve_rest_binary"])
def test_images_into_a_custom_node(image_served, door):
    """image -> image_transformation (resize to 32x32) -> classifier equals
    the classifier resizing the same image itself (both bilinear)."""
    from test_images import encode, pattern, send_images
    image = encode(pattern(40, 48, 3, 3), ".png")
    got = send_images(door, image_served, "classify_image", [image])
    expected = send_images(door, image_served, "classifier", [image])
    assert got.shape == (1, 10)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
    # An image of the target size passes unchanged.
    image = encode(pattern(32, 32, 3, 4), ".png")
    np.testing.assert_allclose(send_images(door, image_served, "classify_image", [image]),
                               send_images(door, image_served, "classifier", [image]), rtol=1e-5, atol=1e-6)


def test_images_demultiplexed_at_entry(image_served):
    """N images to a pipeline demultiplexed at entry: each image is one shard
    (N,1,H,W,C), classified alone, gathered as (N,1,10)."""
    from test_images import encode, pattern, send_images
    images = [encode(pattern(40, 48, 3, seed), ".png") for seed in (1, 2, 3)]
    out = kserve_grpc_infer(image_served, "classify_each", images=images)["probs"]
    assert out.shape == (3, 1, 10)
    for i, image in enumerate(images):
        single = send_images("kserve_grpc_raw", image_served, "classify_image", [image])
        np.testing.assert_allclose(out[i], single, rtol=1e-5, atol=1e-6)
    # Metadata shows the demultiplexed image input.
    meta = image_served.stub.ModelMetadata(kpb.ModelMetadataRequest(name="classify_each"), timeout=30)
    assert [list(i.shape) for i in meta.inputs] == [[-1, 1, -1, -1, 3]]


@pytest.mark.parametrize("blob,message", [
    (b"not an image", "data"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "data"),
])
def test_bad_images_into_a_custom_node_are_invalid_argument(image_served, blob, message):
    with pytest.raises(WireError) as e:
        kserve_grpc_infer(image_served, "classify_image", images=[blob])
    assert e.value.code == "INVALID_ARGUMENT"
    assert message in e.value.message
    # Still serving.
    from test_images import encode, pattern, send_images
    assert send_images("kserve_grpc_raw", image_served, "classify_image",
                       [encode(pattern(32, 32, 3, 1), ".png")]).shape == (1, 10)
