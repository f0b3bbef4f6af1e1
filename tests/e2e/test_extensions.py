"""Triton's KServe extensions over the wire, gRPC and REST: the model
repository extension (index, load, unload, and how they meet polling and
config reloads), the statistics extension (counts equal to the requests
sent, batch sizes under dynamic batching, the same figures as /metrics), and
the server metadata's extension list."""
import json
import re
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import kpb, raw_request, wait_until

EXTENSIONS = ["binary_tensor_data", "model_repository", "statistics"]
X = np.arange(16, dtype=np.float32).reshape(1, 16) / 16
UNLOADED = "Model dense is unloaded (a repository load request or a config reload loads it again)"


def write_config(path, dense_extra=None):
    dense = {"name": "dense", "base_path": "dense"}
    dense.update(dense_extra or {})
    config = {
        "model_config_list": [{"config": dense},
                              {"config": {"name": "add_sub", "base_path": "add_sub"}}],
        # DL-only: y = dense(x).
        "pipeline_config_list": [{"name": "dense_pipe", "inputs": ["x"], "nodes": [
            {"name": "d", "type": "DL model", "model_name": "dense",
             "inputs": [{"x": {"node_name": "request", "data_item": "x"}}],
             "outputs": [{"data_item": "y", "alias": "y"}]}],
            "outputs": [{"y": {"node_name": "d", "data_item": "y"}}]}],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    tmp.replace(path)
    return str(path)


def rest_index(server, body=None):
    resp = requests.post(server.rest_url + "/v2/repository/index",
                         data="" if body is None else json.dumps(body), timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def grpc_index(server, ready=False):
    resp = server.stub.RepositoryIndex(kpb.RepositoryIndexRequest(ready=ready), timeout=30)
    return [{k: v for k, v in (("name", m.name), ("version", m.version), ("state", m.state),
                               ("reason", m.reason)) if k != "version" or v} for m in resp.models]


def state_of(server, name, version):
    for entry in rest_index(server):
        if entry["name"] == name and entry.get("version") == version:
            return entry
    return None


def rest_post(server, path, body=""):
    return requests.post(server.rest_url + path, data=body, timeout=60)


def grpc_infer(server, model="dense", width=16):
    return server.stub.ModelInfer(
        raw_request(model, {"x": np.zeros((1, width), np.float32)}, {"x": "FP32"}), timeout=30)


def rest_infer(server, model="dense", width=16):
    body = {"inputs": [{"name": "x", "shape": [1, width], "datatype": "FP32",
                        "data": [0.0] * width}]}
    return requests.post(f"{server.rest_url}/v2/models/{model}/infer", json=body, timeout=30)


@pytest.fixture
def served(start_tessera, repo):
    config = write_config(repo / "config.json")
    server = start_tessera("--config_path", config, "--file_system_poll_wait_seconds", "1")
    server.repo = repo
    return server


def test_server_metadata_lists_the_same_extensions_on_both_doors(served):
    over_grpc = list(served.stub.ServerMetadata(kpb.ServerMetadataRequest(), timeout=30).extensions)
    over_rest = requests.get(served.rest_url + "/v2", timeout=30).json()["extensions"]
    assert over_grpc == EXTENSIONS
    assert over_rest == EXTENSIONS


def test_index_lists_models_and_pipelines_on_both_doors(served):
    expected = [
        {"name": "add_sub", "version": "1", "state": "READY", "reason": ""},
        {"name": "dense", "version": "2", "state": "READY", "reason": ""},
        {"name": "dense_pipe", "version": "1", "state": "READY", "reason": ""},
    ]
    assert rest_index(served) == expected
    assert rest_index(served, {}) == expected
    assert rest_index(served, {"ready": True}) == expected
    assert grpc_index(served) == expected
    assert grpc_index(served, ready=True) == expected
    bad = rest_post(served, "/v2/repository/index", '{"ready": "yes"}')
    assert bad.status_code == 400
    assert bad.json() == {"error": "'ready' must be a boolean"}


def test_unload_finishes_requests_in_flight_and_polling_keeps_it_unloaded(start_tessera, repo):
    # One worker and a 500 ms batching window: requests sent just before the
    # unload are still queued when it happens.
    config = write_config(repo / "config.json", {"nireq": 1, "dynamic_batching": {
        "max_batch_size": 8, "max_queue_delay_microseconds": 500000}})
    served = start_tessera("--config_path", config, "--file_system_poll_wait_seconds", "1")
    req = raw_request("dense", {"x": X}, {"x": "FP32"})
    in_flight = [served.stub.ModelInfer.future(req, timeout=30) for _ in range(3)]
    time.sleep(0.1)
    unloaded = rest_post(served, "/v2/repository/models/dense/unload",
                         '{"parameters": {"unload_dependents": false}}')
    assert unloaded.status_code == 200, unloaded.text
    assert unloaded.text == ""
    for future in in_flight:
        assert future.result().model_version == "2"

    assert not served.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=30).ready
    assert requests.get(served.rest_url + "/v2/models/dense/ready", timeout=30).status_code == 503
    with pytest.raises(grpc.RpcError) as failed:
        grpc_infer(served)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert failed.value.details() == UNLOADED
    refused = rest_infer(served)
    assert refused.status_code == 503
    assert refused.json() == {"error": UNLOADED}

    wait_until(lambda: state_of(served, "dense", "2")["state"] == "UNAVAILABLE", what="END")
    assert state_of(served, "dense", "2") == {"name": "dense", "version": "2",
                                               "state": "UNAVAILABLE", "reason": "unloaded"}
    pipe = state_of(served, "dense_pipe", "1")
    assert pipe["state"] == "UNAVAILABLE" and "dense" in pipe["reason"], pipe
    assert [e["name"] for e in rest_index(served, {"ready": True})] == ["add_sub"]

    time.sleep(3)  # three poll cycles do not bring it back
    assert state_of(served, "dense", "2")["reason"] == "unloaded"
    with pytest.raises(grpc.RpcError):
        grpc_infer(served)

    # gRPC load brings it back, the pipeline with it.
    served.stub.RepositoryModelLoad(kpb.RepositoryModelLoadRequest(model_name="dense"), timeout=60)
    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=30).ready
    assert grpc_infer(served).model_version == "2"
    assert rest_infer(served, "dense_pipe").status_code == 200
    assert [e["state"] for e in rest_index(served)] == ["READY"] * 3


def test_unload_over_grpc_and_load_over_rest(served):
    served.stub.RepositoryModelUnload(kpb.RepositoryModelUnloadRequest(model_name="add_sub"), timeout=30)
    assert not served.stub.ModelReady(kpb.ModelReadyRequest(name="add_sub"), timeout=30).ready
    loaded = rest_post(served, "/v2/repository/models/add_sub/load", "{}")
    assert loaded.status_code == 200, loaded.text
    assert served.stub.ModelReady(kpb.ModelReadyRequest(name="add_sub"), timeout=30).ready


def test_config_reload_loads_an_unloaded_model_again(served):
    assert rest_post(served, "/v2/repository/models/dense/unload").status_code == 200
    assert rest_infer(served).status_code == 503
    reload = requests.post(served.rest_url + "/v1/config/reload", timeout=60)
    assert reload.status_code in (200, 201), reload.text
    assert rest_infer(served).status_code == 200
    assert state_of(served, "dense", "2")["state"] == "READY"


def test_load_and_unload_errors(served):
    for action in ("load", "unload"):
        missing = rest_post(served, f"/v2/repository/models/nope/{action}")
        assert missing.status_code == 404
        assert missing.json() == {"error": "Model with requested name is not found"}
        pipeline = rest_post(served, f"/v2/repository/models/dense_pipe/{action}")
        assert pipeline.status_code == 400
        assert pipeline.json()["error"].startswith("Pipeline dense_pipe cannot be loaded or unloaded")
    config = rest_post(served, "/v2/repository/models/dense/load", '{"parameters": {"config": "{}"}}')
    assert config.status_code == 400
    assert config.json() == {
        "error": "Parameter 'config' is not supported: models are configured in the config file"}
    assert rest_post(served, "/v2/repository/models/dense/load", "not json").status_code == 400
    assert requests.get(served.rest_url + "/v2/repository/models/dense/load", timeout=30).status_code == 405

    with pytest.raises(grpc.RpcError) as missing:
        served.stub.RepositoryModelUnload(kpb.RepositoryModelUnloadRequest(model_name="nope"), timeout=30)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == "Model with requested name is not found"
    with pytest.raises(grpc.RpcError) as pipeline:
        served.stub.RepositoryModelLoad(kpb.RepositoryModelLoadRequest(model_name="dense_pipe"), timeout=30)
    assert pipeline.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Nothing was unloaded by the refused calls.
    assert [e["state"] for e in rest_index(served)] == ["READY"] * 3


# --- statistics -------------------------------------------------------------

def rest_stats(server, path="/v2/models/stats"):
    resp = requests.get(server.rest_url + path, timeout=30)
    assert resp.status_code == 200, resp.text
    return {(m["name"], m["version"]): m for m in resp.json()["model_stats"]}


def grpc_stats(server, name="", version=""):
    resp = server.stub.ModelStatistics(kpb.ModelStatisticsRequest(name=name, version=version), timeout=30)
    return {(m.name, m.version): m for m in resp.model_stats}


def test_statistics_exist_with_metrics_off_and_route_every_path(served):
    before = rest_stats(served)[("dense", "2")]["inference_stats"]["success"]["count"]
    for _ in range(2):
        grpc_infer(served)
    assert rest_infer(served, width=15).status_code == 400  # refused by the model: a failure
    assert rest_infer(served, "dense_pipe").status_code == 200
    all_stats = rest_stats(served)
    assert set(all_stats) == {("add_sub", "1"), ("dense", "2"), ("dense_pipe", "1")}
    dense = all_stats[("dense", "2")]
    assert dense["inference_stats"]["success"]["count"] == before + 3  # two + the pipeline's node
    assert dense["inference_stats"]["fail"]["count"] == 1
    assert dense["last_inference"] > 1_600_000_000_000
    pipe = all_stats[("dense_pipe", "1")]
    assert pipe["inference_count"] == 1 and pipe["execution_count"] == 1
    assert pipe["inference_stats"]["success"]["count"] == 1
    assert pipe["batch_stats"] == []
    assert list(rest_stats(served, "/v2/models/dense/stats")) == [("dense", "2")]
    assert rest_stats(served, "/v2/models/dense/versions/2/stats")[("dense", "2")] == dense
    missing = requests.get(served.rest_url + "/v2/models/dense/versions/7/stats", timeout=30)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Model with requested version is not found"}
    assert requests.get(served.rest_url + "/v2/models/nope/stats", timeout=30).status_code == 404
    grpc_dense = grpc_stats(served, "dense")[("dense", "2")]
    assert grpc_dense.inference_stats.success.count == dense["inference_stats"]["success"]["count"]
    assert set(grpc_stats(served)) == set(all_stats)
    with pytest.raises(grpc.RpcError) as unknown:
        served.stub.ModelStatistics(kpb.ModelStatisticsRequest(name="nope"), timeout=30)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


def scrape(server):
    text = requests.get(server.rest_url + "/metrics", timeout=30).text
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def test_statistics_count_requests_and_batches_as_metrics_do(start_tessera, repo):
    config = write_config(repo / "config.json", {"nireq": 1, "dynamic_batching": {
        "max_batch_size": 8, "max_queue_delay_microseconds": 300000}})
    served = start_tessera("--config_path", config, "--metrics_enable")
    req = raw_request("dense", {"x": X}, {"x": "FP32"})
    futures = [served.stub.ModelInfer.future(req, timeout=30) for _ in range(6)]
    for f in futures:
        f.result()
    two_rows = raw_request("dense", {"x": np.vstack([X, X])}, {"x": "FP32"})
    served.stub.ModelInfer(two_rows, timeout=30)
    assert rest_infer(served).status_code == 200
    for _ in range(2):
        with pytest.raises(grpc.RpcError):
            grpc_infer(served, width=15)

    stats = rest_stats(served, "/v2/models/dense/stats")[("dense", "2")]
    infer = stats["inference_stats"]
    assert infer["success"]["count"] == 8
    assert infer["fail"]["count"] == 2
    assert infer["queue"]["count"] == 8
    assert stats["inference_count"] == 9  # rows: 6 + 2 + 1
    runs = stats["execution_count"]
    assert 2 <= runs < 8  # the 300 ms window joined some of the six
    batches = stats["batch_stats"]
    assert sum(b["compute_infer"]["count"] for b in batches) == runs
    assert sum(b["batch_size"] * b["compute_infer"]["count"] for b in batches) == 9
    assert any(b["batch_size"] > 1 for b in batches)
    assert infer["compute_infer"]["count"] == 8
    assert infer["success"]["ns"] >= infer["compute_infer"]["ns"] / 8

    metrics = scrape(served)
    labels = 'name="dense",version="2"'
    successes = sum(v for (family, l), v in metrics.items()
                    if family == "ovms_requests_success" and 'method="ModelInfer"' in l and labels in l)
    failures = sum(v for (family, l), v in metrics.items()
                   if family == "ovms_requests_fail" and 'method="ModelInfer"' in l and labels in l)
    assert successes == infer["success"]["count"]
    assert failures == infer["fail"]["count"]
    assert metrics[("ovms_inference_time_us_count", labels)] == runs
    assert metrics[("ovms_wait_for_infer_req_time_us_count", labels)] == infer["queue"]["count"]
    assert metrics[("tessera_batch_size_sum", labels)] == 8  # requests (stats count rows)

    grpc_dense = grpc_stats(served, "dense", "2")[("dense", "2")]
    assert grpc_dense.execution_count == runs
    assert sorted((b.batch_size, b.compute_infer.count) for b in grpc_dense.batch_stats) == \
        sorted((b["batch_size"], b["compute_infer"]["count"]) for b in batches)
