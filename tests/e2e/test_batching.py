"""Dynamic batching end to end: concurrent clients over KServe gRPC and
REST, each checked against python3-torch for its own rows.

The test model returns, next to y = relu(x @ W) (W fixed), the number of
rows of the run that produced the answer, so the test can see that requests
were joined without looking inside the server."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
import torch

from conftest import kpb, torch_reference, write_config

CLIENTS = 16
REQUESTS_PER_CLIENT = 6
RTOL = 1e-5
ATOL = 1e-5


class RowsModel(torch.nn.Module):
    """x (N, W) -> y = relu(x @ w[:W, :3]) (N, 3), rows = [[N]] * N (INT64)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(
            torch.randn(8, 3, generator=torch.Generator().manual_seed(7)), requires_grad=False)

    def forward(self, x: torch.Tensor):
        y = torch.relu(x @ self.w[: x.shape[1], :])
        rows = torch.full((x.shape[0], 1), x.shape[0], dtype=torch.int64)
        return y, rows


def make_rows_model(version_dir, width, batch=-1):
    """Writes version_dir/model.pt with an embedded signature: x (batch, width)."""
    version_dir.mkdir(parents=True)
    signature = {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [batch, width]}],
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [batch, 3]},
                    {"name": "rows", "datatype": "INT64", "shape": [batch, 1]}],
    }
    path = version_dir / "model.pt"
    torch.jit.save(torch.jit.script(RowsModel()), str(path),
                   _extra_files={"signature.json": json.dumps(signature)})
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import Tessera
    root = tmp_path_factory.mktemp("batching")
    make_rows_model(root / "batched" / "1", 4)
    make_rows_model(root / "wide" / "1", -1)
    make_rows_model(root / "plain" / "1", 4)
    # One worker and a 20 ms window, so concurrent requests queue and join.
    batching = {"max_batch_size": 32, "max_queue_delay_microseconds": 20000}
    write_config(root / "config.json", [
        {"name": "batched", "base_path": "batched", "nireq": 1, "dynamic_batching": batching},
        {"name": "wide", "base_path": "wide", "nireq": 1, "dynamic_batching": batching},
        {"name": "plain", "base_path": "plain", "nireq": 1},
    ])
    s = Tessera(["--config_path", str(root / "config.json")], root).start()
    s.root = root
    yield s
    assert s.stop() == 0, s.logs()


def grpc_infer(server, model, x):
    request = kpb.ModelInferRequest(model_name=model, id=f"{model}-{x[0, 0]:.6f}")
    request.inputs.add(name="x", datatype="FP32", shape=list(x.shape))
    request.raw_input_contents.append(x.tobytes())
    reply = server.stub.ModelInfer(request, timeout=60)
    assert reply.id == request.id
    shapes = {o.name: list(o.shape) for o in reply.outputs}
    raw = dict(zip([o.name for o in reply.outputs], reply.raw_output_contents))
    y = np.frombuffer(raw["y"], np.float32).reshape(shapes["y"])
    rows = np.frombuffer(raw["rows"], np.int64).reshape(shapes["rows"])
    return y, rows


def rest_infer(server, model, x):
    body = {"inputs": [{"name": "x", "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}]}
    resp = requests.post(f"{server.rest_url}/v2/models/{model}/infer", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    outputs = {o["name"]: o for o in resp.json()["outputs"]}
    y = np.array(outputs["y"]["data"], np.float32).reshape(outputs["y"]["shape"])
    rows = np.array(outputs["rows"]["data"], np.int64).reshape(outputs["rows"]["shape"])
    return y, rows


def run_clients(server, model, make_input):
    """CLIENTS threads, each sending REQUESTS_PER_CLIENT requests (odd
    clients over REST) and checking its own answers; returns the run sizes
    seen."""
    model_file = server.root / model / "1" / "model.pt"
    start = threading.Barrier(CLIENTS)
    seen = []
    lock = threading.Lock()

    def client(index):
        rng = np.random.default_rng(index)
        send = rest_infer if index % 2 else grpc_infer
        start.wait()
        for i in range(REQUESTS_PER_CLIENT):
            x = make_input(rng, index, i)
            y, rows = send(server, model, x)
            expected, _ = torch_reference(model_file, x)
            np.testing.assert_allclose(y, expected, rtol=RTOL, atol=ATOL)
            assert rows.shape == (x.shape[0], 1)
            assert (rows >= x.shape[0]).all()
            with lock:
                seen.append(int(rows[0, 0]))

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client, i) for i in range(CLIENTS)]:
            future.result()
    return seen


def test_concurrent_clients_get_their_own_rows(server):
    seen = run_clients(server, "batched",
                       lambda rng, c, i: rng.standard_normal((1 + (c + i) % 3, 4)).astype(np.float32))
    assert max(seen) > 3, f"no request was joined with another: {sorted(seen)}"
    assert max(seen) <= 32


def test_requests_of_other_widths_are_not_merged(server):
    widths = (3, 5, 8)
    seen = run_clients(server, "wide",
                       lambda rng, c, i: rng.standard_normal((2, widths[c % 3])).astype(np.float32))
    assert max(seen) > 2, f"no request was joined with another: {sorted(seen)}"


def test_without_batching_every_request_runs_alone(server):
    seen = run_clients(server, "plain",
                       lambda rng, c, i: rng.standard_normal((2, 4)).astype(np.float32))
    assert set(seen) == {2}


def test_a_bad_request_fails_alone_while_others_batch(server):
    import grpc
    good = np.ones((1, 4), np.float32)
    bad = np.ones((1, 5), np.float32)  # width 5 against (-1, 4)
    with ThreadPoolExecutor(8) as pool:
        goods = [pool.submit(grpc_infer, server, "batched", good) for _ in range(6)]
        with pytest.raises(grpc.RpcError) as error:
            grpc_infer(server, "batched", bad)
        for future in goods:
            y, _ = future.result()
            np.testing.assert_allclose(y, torch_reference(server.root / "batched/1/model.pt", good)[0],
                                       rtol=RTOL, atol=ATOL)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Invalid input shape" in error.value.details()


def test_batching_a_fixed_batch_model_is_a_load_error(tmp_path, start_tessera):
    # A signature with a fixed first dimension cannot take joined requests.
    make_rows_model(tmp_path / "fixed" / "1", 4, batch=1)
    server = start_tessera("--model_name", "fixed", "--model_path", str(tmp_path / "fixed"),
                           "--dynamic_batching", '{"max_batch_size": 4}')
    status = requests.get(f"{server.rest_url}/v1/models/fixed", timeout=10).json()
    state = status["model_version_status"][0]
    assert state["state"] == "LOADING"
    assert "dynamic_batching needs a dynamic first dimension" in state["status"]["error_message"]


class SlowModel(torch.nn.Module):
    """x (N, 1) FP32 -> y = x; first multiplies a 256x256 matrix x[0, 0] times."""

    def forward(self, x: torch.Tensor):
        m = torch.ones(256, 256) / 256.0
        for _ in range(int(x[0, 0].item())):
            m = m @ m
        return x + m[0, 0] - m[0, 0]


def test_a_full_queue_is_refused_with_resource_exhausted_and_503(tmp_path, start_tessera):
    import grpc
    version = tmp_path / "slow" / "1"
    version.mkdir(parents=True)
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 1]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]}
    torch.jit.save(torch.jit.script(SlowModel()), str(version / "model.pt"),
                   _extra_files={"signature.json": json.dumps(signature)})
    server = start_tessera("--model_name", "slow", "--model_path", str(tmp_path / "slow"),
                           "--nireq", "1", "--max_queue_size", "1")

    def slow_call(rounds):
        request = kpb.ModelInferRequest(model_name="slow")
        request.inputs.add(name="x", datatype="FP32", shape=[1, 1])
        request.raw_input_contents.append(np.array([[rounds]], np.float32).tobytes())
        return server.stub.ModelInfer(request, timeout=120)

    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(slow_call, 5000)  # ~2 s: keeps the only worker busy
        time.sleep(0.3)
        queued = pool.submit(slow_call, 1)      # the one request that may wait
        time.sleep(0.3)
        with pytest.raises(grpc.RpcError) as refused:
            slow_call(1)
        body = {"inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [1]}]}
        rest = requests.post(f"{server.rest_url}/v2/models/slow/infer", json=body, timeout=60)
        running.result()
        queued.result()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.details() == "Request queue of slow is full (1 requests waiting)"
    assert rest.status_code == 503  # KServe REST, as Triton
    assert rest.json() == {"error": "Request queue of slow is full (1 requests waiting)"}
    # Once the queue drains the model serves again.
    reply = slow_call(1)
    assert np.frombuffer(reply.raw_output_contents[0], np.float32).tolist() == [1.0]
