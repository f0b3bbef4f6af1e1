"""GET /metrics: Prometheus text with OVMS's families and labels. Sends exact
numbers of successful and failed calls over each of the four front doors and
checks that every counter moved by exactly that number."""
import json
import re

import numpy as np
import pytest
import requests

from conftest import Tessera, kpb, make_repository, run_tessera
from tensorflow.core.framework import types_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_status_pb2  # noqa: E402
from tensorflow_serving.apis import model_service_pb2_grpc  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402

import grpc

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
DEFAULT_FAMILIES = ["ovms_streams", "ovms_current_requests", "ovms_requests_success",
                    "ovms_requests_fail", "ovms_request_time_us", "ovms_inference_time_us",
                    "ovms_wait_for_infer_req_time_us", "tessera_infer_queue_length",
                    "tessera_batch_size", "tessera_pipeline_node_time_us"]


def parse(text):
    """{(sample name, frozenset of (label, value)): float}; also checks the
    HELP/TYPE lines come before each family's samples."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, line
        name, labels, value = m.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert family in typed or name in typed, line
        key = (name, frozenset(LABEL.findall(labels or "")))
        assert key not in samples, line
        samples[key] = float(value)
    return samples, typed


def scrape(server):
    resp = requests.get(server.rest_url + "/metrics", timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(resp.text)[0]


def key(family, **labels):
    return (family, frozenset(labels.items()))


def calls(api, interface, method, name="dense", version=None):
    labels = dict(api=api, interface=interface, method=method, name=name)
    if version is not None:
        labels["version"] = str(version)
    return labels


def write_config(root, monitoring=None):
    config = {"model_config_list": [{"config": {
        "name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}, "nireq": 2}}]}
    if monitoring is not None:
        config["monitoring"] = monitoring
    (root / "config.json").write_text(json.dumps(config))
    return str(root / "config.json")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_repository(tmp_path_factory.mktemp("metrics"))
    s = Tessera(["--config_path", write_config(root, {"metrics": {"enable": True}})], root).start()
    yield s
    assert s.stop() == 0, s.logs()


# --- one client per front door -------------------------------------------

X = np.arange(16, dtype=np.float32).reshape(1, 16) / 16


def kserve_grpc_infer(server, ok, name="dense", version=""):
    req = kpb.ModelInferRequest(model_name=name, model_version=version)
    width = 16 if ok else 15  # a wrong shape is refused by the server
    req.inputs.add(name="x", datatype="FP32", shape=[1, width])
    req.raw_input_contents.append(np.zeros((1, width), np.float32).tobytes())
    try:
        server.stub.ModelInfer(req, timeout=30)
        return True
    except grpc.RpcError as e:
        assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), e
        return False


def tfs_grpc_predict(server, ok, version=None):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = "dense"
    if version is not None:
        req.model_spec.version.value = version
    tensor = req.inputs["x" if ok else "nope"]
    tensor.dtype = types_pb2.DT_FLOAT
    tensor.tensor_shape.dim.add(size=1)
    tensor.tensor_shape.dim.add(size=16)
    tensor.tensor_content = X.tobytes()
    stub = prediction_service_pb2_grpc.PredictionServiceStub(server.channel)
    try:
        stub.Predict(req, timeout=30)
        return True
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
        return False


def kserve_rest_infer(server, ok, binary=False):
    url = server.rest_url + "/v2/models/dense/infer"
    if not ok:
        resp = requests.post(url, data=b'{"inputs": [', timeout=30)  # malformed JSON
        assert resp.status_code == 400, resp.text
        return False
    if binary:
        header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 16],
                                         "parameters": {"binary_data_size": X.nbytes}}]}).encode()
        resp = requests.post(url, data=header + X.tobytes(), timeout=30,
                             headers={"Inference-Header-Content-Length": str(len(header))})
    else:
        body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 16],
                            "data": X.ravel().tolist()}]}
        resp = requests.post(url, json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    return True


def tfs_rest_predict(server, ok):
    url = server.rest_url + "/v1/models/dense:predict"
    body = {"instances": X.tolist()} if ok else {"instances": [[1.0, 2.0]]}  # wrong shape
    resp = requests.post(url, json=body, timeout=30)
    assert resp.status_code == (200 if ok else 400), resp.text
    return ok


def delta(before, after, k):
    return after.get(k, 0) - before.get(k, 0)


# --- tests ---------------------------------------------------------------

def test_counters_move_by_exactly_the_calls_sent(server):
    before = scrape(server)
    sent = {  # (api, interface, method, version): (successes, failures)
        ("KServe", "gRPC", "ModelInfer", 2): (3, 2),
        ("TensorFlowServing", "gRPC", "Predict", 1): (4, 1),
        ("KServe", "REST", "ModelInfer", 2): (3, 3),
        ("TensorFlowServing", "REST", "Predict", 2): (5, 2),
    }
    for _ in range(3):
        assert kserve_grpc_infer(server, True)
    for _ in range(2):
        assert not kserve_grpc_infer(server, False)
    for _ in range(4):
        assert tfs_grpc_predict(server, True, version=1)
    assert not tfs_grpc_predict(server, False, version=1)
    assert kserve_rest_infer(server, True)
    assert kserve_rest_infer(server, True)
    assert kserve_rest_infer(server, True, binary=True)
    for _ in range(3):
        assert not kserve_rest_infer(server, False)
    for _ in range(5):
        assert tfs_rest_predict(server, True)
    for _ in range(2):
        assert not tfs_rest_predict(server, False)
    # Calls naming an unknown model or version are not counted.
    assert not kserve_grpc_infer(server, True, name="nope")
    assert not kserve_grpc_infer(server, True, version="7")

    after = scrape(server)
    for (api, interface, method, version), (ok, failed) in sent.items():
        labels = calls(api, interface, method, version=version)
        assert delta(before, after, key("ovms_requests_success", **labels)) == ok, labels
        assert delta(before, after, key("ovms_requests_fail", **labels)) == failed, labels
    # Nothing else moved: the totals are exactly what was sent.
    for family, index in (("ovms_requests_success", 0), ("ovms_requests_fail", 1)):
        total = sum(delta(before, after, k) for k in after if k[0] == family)
        assert total == sum(v[index] for v in sent.values()), family
    assert not any(dict(k[1]).get("name") == "nope" for k in after)
    assert not any(dict(k[1]).get("version") == "7" for k in after)

    # Request time: successful inferences, by interface and version.
    def request_count(interface, version):
        return delta(before, after, key("ovms_request_time_us_count", interface=interface,
                                        name="dense", version=str(version)))
    assert request_count("gRPC", 2) == 3
    assert request_count("gRPC", 1) == 4
    assert request_count("REST", 2) == 3 + 5
    # Engine runs: requests that passed validation (the malformed ones did not).
    for family in ("ovms_inference_time_us_count", "ovms_wait_for_infer_req_time_us_count",
                   "tessera_batch_size_count"):
        assert delta(before, after, key(family, name="dense", version="2")) == 3 + 3 + 5, family
        assert delta(before, after, key(family, name="dense", version="1")) == 4, family
    assert after[key("tessera_batch_size_bucket", name="dense", version="2", le="1")] == \
        after[key("tessera_batch_size_count", name="dense", version="2")]


def test_metadata_and_status_calls_are_counted(server):
    before = scrape(server)
    server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense"), timeout=10)
    server.stub.ModelReady(kpb.ModelReadyRequest(name="dense", version="1"), timeout=10)
    with pytest.raises(grpc.RpcError):
        server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense", version="9"), timeout=10)
    req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = "dense"
    prediction_service_pb2_grpc.PredictionServiceStub(server.channel).GetModelMetadata(req)
    status = get_model_status_pb2.GetModelStatusRequest()
    status.model_spec.name = "dense"
    model_service_pb2_grpc.ModelServiceStub(server.channel).GetModelStatus(status)
    assert requests.get(server.rest_url + "/v2/models/dense/versions/1").status_code == 200
    assert requests.get(server.rest_url + "/v2/models/dense/ready").status_code == 200
    assert requests.get(server.rest_url + "/v1/models/dense").status_code == 200
    assert requests.get(server.rest_url + "/v1/models/dense/metadata").status_code == 200
    after = scrape(server)
    expected = [  # version label: the version described; none for ready/status
        calls("KServe", "gRPC", "ModelMetadata", version=2),
        calls("KServe", "gRPC", "ModelReady"),
        calls("TensorFlowServing", "gRPC", "GetModelMetadata", version=2),
        calls("TensorFlowServing", "gRPC", "GetModelStatus"),
        calls("KServe", "REST", "ModelMetadata", version=1),
        calls("KServe", "REST", "ModelReady"),
        calls("TensorFlowServing", "REST", "GetModelStatus"),
        calls("TensorFlowServing", "REST", "GetModelMetadata", version=2),
    ]
    for labels in expected:
        assert delta(before, after, key("ovms_requests_success", **labels)) == 1, labels
    total = sum(delta(before, after, k) for k in after if k[0] == "ovms_requests_success")
    assert total == len(expected)
    # Version 9 is unknown: the failure is not counted.
    assert sum(delta(before, after, k) for k in after if k[0] == "ovms_requests_fail") == 0


def test_version_gauges(server):
    samples = scrape(server)
    for version in ("1", "2"):
        assert samples[key("ovms_streams", name="dense", version=version)] == 2
        assert samples[key("ovms_current_requests", name="dense", version=version)] == 0
        assert samples[key("tessera_infer_queue_length", name="dense", version=version)] == 0


def test_every_default_family_and_nothing_else(server):
    text = requests.get(server.rest_url + "/metrics", timeout=10).text
    _, typed = parse(text)
    assert typed == set(DEFAULT_FAMILIES)
    assert "# TYPE ovms_request_time_us histogram" in text
    assert "# TYPE ovms_requests_success counter" in text
    assert "# TYPE ovms_streams gauge" in text
    samples, _ = parse(text)
    buckets = sorted(float(dict(k[1])["le"]) for k in samples
                     if k[0] == "ovms_inference_time_us_bucket" and dict(k[1])["version"] == "2")
    assert buckets[:5] == [10, 18, 32, 58, 104] and buckets[-1] == float("inf")


def test_other_methods_are_refused(server):
    resp = requests.post(server.rest_url + "/metrics", data=b"", timeout=10)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET"


def test_metrics_list_selects_families(tmp_path, start_tessera):
    root = make_repository(tmp_path / "repo")
    s = start_tessera("--config_path", write_config(root), "--metrics_enable",
                      "--metrics_list", "ovms_requests_fail,ovms_infer_req_active")
    assert not kserve_grpc_infer(s, False)
    samples, typed = parse(requests.get(s.rest_url + "/metrics", timeout=10).text)
    assert typed == {"ovms_requests_fail", "ovms_infer_req_active"}
    assert samples[key("ovms_requests_fail", **calls("KServe", "gRPC", "ModelInfer", version=2))] == 1
    assert samples[key("ovms_infer_req_active", name="dense", version="2")] == 0


def test_config_metrics_list(tmp_path, start_tessera):
    root = make_repository(tmp_path / "repo")
    config = write_config(root, {"metrics": {"enable": True, "metrics_list": ["ovms_streams"]}})
    s = start_tessera("--config_path", config)
    _, typed = parse(requests.get(s.rest_url + "/metrics", timeout=10).text)
    assert typed == {"ovms_streams"}


def test_disabled_metrics_are_not_found(tmp_path, start_tessera):
    root = make_repository(tmp_path / "repo")
    s = start_tessera("--config_path", write_config(root))
    resp = requests.get(s.rest_url + "/metrics", timeout=10)
    assert resp.status_code == 404
    assert "error" in resp.json()


def test_unknown_family_is_rejected_at_start(tmp_path):
    root = make_repository(tmp_path / "repo")
    # Checked before anything listens (port 1 is never bound).
    result = run_tessera(["--config_path", write_config(root), "--port", "0", "--rest_port", "1",
                          "--metrics_enable", "--metrics_list",
                          "ovms_requests_success,ovms_requests_sucess"])
    assert result.returncode == 1
    assert "Invalid name in metrics_list: ovms_requests_sucess (known: " in result.stderr + result.stdout

    config = write_config(root, {"metrics": {"enable": True, "metrics_list": ["bogus"]}})
    result = run_tessera(["--config_path", config, "--port", "0", "--rest_port", "1"])
    assert result.returncode == 1
    assert "Invalid name in metrics_list: bogus" in result.stderr + result.stdout


def test_config_metrics_need_a_rest_port(tmp_path):
    root = make_repository(tmp_path / "repo")
    config = write_config(root, {"metrics": {"enable": True}})
    result = run_tessera(["--config_path", config, "--port", "1"])
    assert result.returncode == 1
    assert "Metrics are enabled but --rest_port is not set" in result.stderr + result.stdout


def test_batch_size_counts_requests_joined_into_one_run(tmp_path, start_tessera):
    root = make_repository(tmp_path / "repo")
    config = {"model_config_list": [{"config": {
        "name": "dense", "base_path": "dense", "nireq": 1,
        "dynamic_batching": {"max_batch_size": 8, "max_queue_delay_microseconds": 300000}}}],
        "monitoring": {"metrics": {"enable": True}}}
    (root / "config.json").write_text(json.dumps(config))
    s = start_tessera("--config_path", str(root / "config.json"))
    before = scrape(s)
    req = kpb.ModelInferRequest(model_name="dense")
    req.inputs.add(name="x", datatype="FP32", shape=[1, 16])
    req.raw_input_contents.append(X.tobytes())
    futures = [s.stub.ModelInfer.future(req, timeout=30) for _ in range(4)]
    for f in futures:
        f.result()
    after = scrape(s)
    labels = dict(name="dense", version="2")
    runs = delta(before, after, key("tessera_batch_size_count", **labels))
    assert delta(before, after, key("tessera_batch_size_sum", **labels)) == 4
    assert 1 <= runs < 4  # the 300 ms window joined some of them
    assert delta(before, after, key("ovms_inference_time_us_count", **labels)) == runs
    assert delta(before, after, key("ovms_wait_for_infer_req_time_us_count", **labels)) == 4
    assert delta(before, after, key("ovms_requests_success",
                                    **calls("KServe", "gRPC", "ModelInfer", version=2))) == 4
    assert after[key("ovms_current_requests", **labels)] == 0
