"""Deadlines and cancellation end to end: a request whose deadline passes,
or whose client cancels, while it waits for the model's only worker is
answered DEADLINE_EXCEEDED / CANCELLED / 504 and never runs. The answer
comes at the deadline, while the long request still holds the worker.

The model ("slow", nireq 1) runs `x[0, 0]` rounds of a 256x256 matmul, so one
long request holds the worker while others queue behind it. Whether a queued
request ran is read from /metrics: ovms_inference_time_us_count counts the
engine runs of the version."""
import json
import re
import threading
import time

import grpc
import numpy as np
import pytest
import requests
import torch

from conftest import Tessera, kpb, write_config

HOLD_SECONDS = 2.5  # how long the long request keeps the worker busy
MESSAGE = "Deadline exceeded while queued for model slow"


class Slow(torch.nn.Module):
    """x FP32 (1, 1) -> y = x; runs int(x[0, 0]) matmul rounds first."""

    def __init__(self):
        super().__init__()
        self.m = torch.nn.Parameter(
            torch.randn(256, 256, generator=torch.Generator().manual_seed(3)) * 0.05,
            requires_grad=False)

    def forward(self, x: torch.Tensor):
        rounds = int(x[0, 0].item())
        acc = self.m
        for _ in range(rounds):
            acc = torch.tanh(acc @ self.m)
        return x + acc[0, 0] * 0.0


def make_slow_model(version_dir):
    version_dir.mkdir(parents=True)
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 1]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [1, 1]}]}
    torch.jit.save(torch.jit.script(Slow()), str(version_dir / "model.pt"),
                   _extra_files={"signature.json": json.dumps(signature)})


def request(rounds, request_id="", timeout_us=None):
    req = kpb.ModelInferRequest(model_name="slow", id=request_id)
    req.inputs.add(name="x", datatype="FP32", shape=[1, 1])
    req.raw_input_contents.append(np.array([[rounds]], np.float32).tobytes())
    if timeout_us is not None:
        req.parameters["timeout"].int64_param = timeout_us
    return req


def metric(server, name):
    text = requests.get(server.rest_url + "/metrics", timeout=10).text
    match = re.search(r"^" + name + r"\{[^}]*name=\"slow\"[^}]*\} (\S+)$", text, re.M)
    assert match, f"{name} of slow not in /metrics:\n{text}"
    return float(match.group(1))


def runs(server):
    return int(metric(server, "ovms_inference_time_us_count"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("deadlines")
    make_slow_model(root / "slow" / "1")
    write_config(root / "config.json", [{"name": "slow", "base_path": "slow", "nireq": 1}])
    s = Tessera(["--config_path", str(root / "config.json"), "--metrics_enable",
                 "--rest_request_timeout_ms", "300"], root).start()
    # Rounds that keep the worker busy for about HOLD_SECONDS on this machine.
    s.stub.ModelInfer(request(20), timeout=60)
    started = time.monotonic()
    s.stub.ModelInfer(request(200), timeout=60)
    per_round = max((time.monotonic() - started) / 200, 1e-5)
    s.hold_rounds = int(HOLD_SECONDS / per_round)
    yield s
    assert s.stop() == 0, s.logs()


def hold_worker(server):
    """Starts the long request and waits until the worker is running it."""
    future = server.stub.ModelInfer.future(request(server.hold_rounds, "long"), timeout=120)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (metric(server, "ovms_current_requests") >= 1
                and metric(server, "tessera_infer_queue_length") == 0):
            return future
        time.sleep(0.01)
    raise AssertionError("the long request did not start")


def wait_drained(server):
    deadline = time.monotonic() + 30
    while metric(server, "ovms_current_requests") != 0:
        assert time.monotonic() < deadline, "requests still in flight"
        time.sleep(0.05)


def assert_normal_request_works(server):
    reply = server.stub.ModelInfer(request(0, "after"), timeout=30)
    assert reply.id == "after"
    assert np.frombuffer(reply.raw_output_contents[0], np.float32).tolist() == [0.0]


def test_grpc_deadline_passing_in_the_queue_is_deadline_exceeded_and_never_runs(server):
    before = runs(server)
    long = hold_worker(server)
    # The client's own deadline: gRPC answers the client at its deadline.
    with pytest.raises(grpc.RpcError) as client_deadline:
        server.stub.ModelInfer(request(0, "short"), timeout=0.3)
    assert client_deadline.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The Triton timeout parameter, no client deadline: the server answers.
    timed = server.stub.ModelInfer.future(request(0, "timed", timeout_us=300_000))
    with pytest.raises(grpc.RpcError) as server_deadline:
        timed.result(timeout=60)
    assert not long.done(), "the server's answer waited for the worker"
    assert server_deadline.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert server_deadline.value.details() == MESSAGE
    assert long.result().id == "long"
    wait_drained(server)
    assert runs(server) == before + 1  # only the long request ran
    assert_normal_request_works(server)
    assert runs(server) == before + 2


def test_cancelled_grpc_call_is_dropped_from_the_queue(server):
    before = runs(server)
    long = hold_worker(server)
    queued = server.stub.ModelInfer.future(request(0, "cancelled"), timeout=60)
    deadline = time.monotonic() + 10
    while metric(server, "tessera_infer_queue_length") != 1:
        assert time.monotonic() < deadline, "the request was not queued"
        time.sleep(0.01)
    assert queued.cancel()
    with pytest.raises(grpc.FutureCancelledError):
        queued.result()
    # The server drops it from the queue at its next poll, not when the
    # worker is free again.
    while metric(server, "tessera_infer_queue_length") != 0:
        assert not long.done(), "the cancelled request stayed queued behind the long one"
        time.sleep(0.01)
    assert not long.done()
    assert long.result().id == "long"
    wait_drained(server)
    assert runs(server) == before + 1  # the cancelled request never ran
    assert metric(server, "tessera_infer_queue_length") == 0
    assert_normal_request_works(server)


def test_rest_timeouts_answer_504_and_never_run(server):
    before = runs(server)
    long = hold_worker(server)
    replies = {}
    long_done_at_reply = {}

    def post(name, url, body):
        replies[name] = requests.post(server.rest_url + url, json=body, timeout=60)
        long_done_at_reply[name] = long.done()

    kserve_input = [{"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [0]}]
    calls = [
        # parameters.timeout (microseconds), earlier than the server's 300 ms
        ("kserve_param", "/v2/models/slow/infer",
         {"parameters": {"timeout": 100_000}, "inputs": kserve_input}),
        # --rest_request_timeout_ms 300 on both REST front doors
        ("kserve_flag", "/v2/models/slow/infer", {"inputs": kserve_input}),
        ("tfs_flag", "/v1/models/slow:predict", {"instances": [[0]]}),
    ]
    threads = [threading.Thread(target=post, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert long.result().id == "long"
    for name, _, _ in calls:
        resp = replies[name]
        # Answered at the deadline, not when the worker got to it.
        assert not long_done_at_reply[name], name
        assert resp.status_code == 504, (name, resp.text)
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.json() == {"error": MESSAGE}, name
    wait_drained(server)
    assert runs(server) == before + 1
    ok = requests.post(server.rest_url + "/v2/models/slow/infer",
                       json={"inputs": kserve_input}, timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["outputs"][0]["data"] == [0.0]
    ok = requests.post(server.rest_url + "/v1/models/slow:predict",
                       json={"instances": [[0]]}, timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"predictions": [[0.0]]}


def test_bad_timeout_parameters_are_invalid_argument(server):
    with pytest.raises(grpc.RpcError) as bad:
        req = request(0)
        req.parameters["timeout"].string_param = "1s"
        server.stub.ModelInfer(req, timeout=30)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.value.details() == \
        "Invalid parameter 'timeout': expected a non-negative integer (microseconds)"
    resp = requests.post(server.rest_url + "/v2/models/slow/infer",
                         json={"parameters": {"timeout": 1.5}, "inputs": [
                             {"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [0]}]},
                         timeout=30)
    assert resp.status_code == 400
    assert resp.json() == {"error": "Invalid JSON type of 'timeout' in the request: "
                                    "expected a non-negative integer (microseconds)"}
