#!/usr/bin/python3
"""A two-model pipeline against the same two models called back to back.

Builds two TorchScript models: "first", x FP32 (1, 16) -> h (1, W) (one
Linear + ReLU), and "inner", one of two kinds (--inner):

  mlp   the MLP of batching_compare.py (x (1, W) -> 2W -> 2W -> y (1, 10), a
        few ms per run at W = 1024 on one thread): compute-bound, the round
        trip a pipeline saves is a small part of a request's cost;
  head  a classifier head on a large feature vector (x (1, W) -> y (1, 10),
        one Linear, W = 65536 by default: 256 KB of features): the
        backbone -> head split where the intermediate tensor is large and
        its trip through the client is most of the cost.

One
`tessera` serves both (nireq = cores x 1 intra-op thread each) and the
pipeline "chain" = request -> first -> inner -> response; for the 1-client
rounds without batching, for the many-client rounds a fresh server with
dynamic batching on "inner" (max batch 16, --delay-us queue delay). Clients (Python threads,
one gRPC channel each, KServe gRPC ModelInfer with raw contents) run, in
interleaved A/B rounds (A B B A ...):

  A "pipeline":  one ModelInfer to "chain";
  B "two calls": ModelInfer to "first", its output bytes sent as is to
                 ModelInfer on "inner".

At 1 client it reports the mean and p50 latency of a whole A or B call and
the pipeline's overhead (A - B) / B (goal: <= 5%); at 16 clients (--clients)
the throughput of each and the ratio A / B (goal: >= 1.5x). It prints the CPU
model and flags, the load average, and for every run the CPU time the machine
spent outside this benchmark (tessera + this process); a run where that
exceeds 0.3 cores is flagged "busy".

    bench/pipeline_bench.py [--build-dir build] [--inner mlp|head] [--seconds 5] [--rounds 3]
                            [--width W] [--clients 16]
    bench/pipeline_bench.py --short   # seconds in total (ctest: pipeline_bench_short); nothing asserted

Exit status 0 when every call was answered; the figures are reported, never
asserted.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import batching_compare  # noqa: E402  (make_model, free_port)
from overload_bench import BUSY_CORES, OtherCpu, cpu_description, loadavg  # noqa: E402

FIRST_WIDTH = 16


def make_first(version_dir, width):
    import torch
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(FIRST_WIDTH, width), torch.nn.ReLU()).eval()
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, FIRST_WIDTH]}],
                 "outputs": [{"name": "h", "datatype": "FP32", "shape": [-1, width]}]}
    version_dir.mkdir(parents=True)
    torch.jit.save(torch.jit.script(model), str(version_dir / "model.pt"),
                   _extra_files={"signature.json": json.dumps(signature)})


def make_head(version_dir, width):
    import torch
    torch.manual_seed(2)
    head = torch.nn.Linear(width, 10).eval()
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, width]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 10]}]}
    version_dir.mkdir(parents=True)
    torch.jit.save(torch.jit.script(head), str(version_dir / "model.pt"),
                   _extra_files={"signature.json": json.dumps(signature)})


DEFAULT_WIDTH = {"mlp": 1024, "head": 65536}


def write_config(workdir, args, cores, batching):
    def model(name, batching=None):
        config = {"name": name, "base_path": str(workdir / name), "nireq": cores,
                  "plugin_config": {"INFERENCE_NUM_THREADS": 1}}
        if batching:
            config["dynamic_batching"] = batching
        return {"config": config}

    def src(node, item):
        return {"node_name": node, "data_item": item}

    config = {
        "model_config_list": [
            model("first"),
            model("inner", {"max_batch_size": 16, "max_queue_delay_microseconds": args.delay_us}
                  if batching else None)],
        "pipeline_config_list": [{"name": "chain", "inputs": ["x"], "nodes": [
            {"name": "first", "type": "DL model", "model_name": "first",
             "inputs": [{"x": src("request", "x")}], "outputs": [{"data_item": "h", "alias": "h"}]},
            {"name": "inner", "type": "DL model", "model_name": "inner",
             "inputs": [{"x": src("first", "h")}], "outputs": [{"data_item": "y", "alias": "y"}]}],
            "outputs": [{"y": src("inner", "y")}]}],
    }
    path = workdir / ("batching.json" if batching else "plain.json")
    path.write_text(json.dumps(config))
    return path


class Server:
    """`with Server(build, config) as (port, pid)`: tessera on a free port, "chain" AVAILABLE."""

    def __init__(self, build, config, workdir):
        self.build, self.config, self.workdir = build, config, workdir

    def __enter__(self):
        import grpc
        from kserve import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as rpc
        port = batching_compare.free_port()
        self.log = open(self.workdir / (self.config.stem + ".log"), "w")
        self.proc = subprocess.Popen(
            [str(self.build / "src/server/tessera"), "--config_path", str(self.config), "--port", str(port),
             "--grpc_bind_address", "127.0.0.1", "--log_level", "WARNING", "--drain_seconds", "0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"tessera exited with {self.proc.returncode}")
            try:
                if stub.ModelReady(pb.ModelReadyRequest(name="chain"), timeout=1).ready:
                    return port, self.proc.pid
            except grpc.RpcError:
                pass
            time.sleep(0.2)
        raise SystemExit("the pipeline did not become ready")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def client_loop(port, mode, stop_at, latencies, errors, width):
    import grpc
    import numpy as np
    from kserve import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as rpc
    stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    x = np.random.default_rng(0).random((1, FIRST_WIDTH), np.float32).tobytes()

    def infer(model, data, shape):
        req = pb.ModelInferRequest(model_name=model)
        req.inputs.add(name="x", datatype="FP32", shape=shape)
        req.raw_input_contents.append(data)
        return stub.ModelInfer(req, timeout=30)

    while time.monotonic() < stop_at:
        start = time.perf_counter()
        try:
            if mode == "pipeline":
                infer("chain", x, [1, FIRST_WIDTH])
            else:
                h = infer("first", x, [1, FIRST_WIDTH]).raw_output_contents[0]
                infer("inner", h, [1, width])
        except grpc.RpcError as e:
            errors.append(f"{e.code().name}: {e.details()}")
            continue
        latencies.append(time.perf_counter() - start)


def run(port, pid, mode, clients, seconds, width):
    """One run: `clients` threads for `seconds`; latencies, throughput and other CPU use."""
    latencies, errors = [], []
    load_before = loadavg()
    watch = OtherCpu([pid])
    wall0 = time.monotonic()
    stop_at = wall0 + seconds
    threads = [threading.Thread(target=client_loop, args=(port, mode, stop_at, latencies, errors, width))
               for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - wall0
    other = watch.cores()
    if errors:
        raise SystemExit(f"{mode}: {len(errors)} calls failed, e.g. {errors[0]}")
    if not latencies:
        raise SystemExit(f"{mode}: no call was answered")
    return {"mode": mode, "clients": clients, "calls": len(latencies), "rps": len(latencies) / wall,
            "mean_ms": 1000 * statistics.fmean(latencies), "p50_ms": 1000 * statistics.median(latencies),
            "other": other, "loadavg": load_before, "busy": other > BUSY_CORES}


HEADER = (f"{'run':<10} {'clients':>7} {'calls':>7} {'req/s':>8} {'mean ms':>8} {'p50 ms':>8} {'other':>6}"
          f"  loadavg (1/5/15 min) before the run")


def row(r):
    flag = " busy" if r["busy"] else ""
    return (f"{r['mode']:<10} {r['clients']:>7} {r['calls']:>7} {r['rps']:>8.1f} {r['mean_ms']:>8.2f} "
            f"{r['p50_ms']:>8.2f} {r['other']:>6.2f}  {r['loadavg']}{flag}")


def rounds(port, pid, clients, args):
    """Interleaved A/B rounds (A B, B A, ...); returns the runs."""
    results = []
    for i in range(args.rounds):
        order = ("pipeline", "two_calls") if i % 2 == 0 else ("two_calls", "pipeline")
        for mode in order:
            r = run(port, pid, mode, clients, args.seconds, args.width)
            print(row(r), flush=True)
            results.append(r)
    return results


def summary(results, key):
    """Median of `key` per mode, over the quiet runs when there are some of each."""
    quiet = [r for r in results if not r["busy"]]
    pool = quiet if {r["mode"] for r in quiet} == {"pipeline", "two_calls"} else results
    median = {m: statistics.median(r[key] for r in pool if r["mode"] == m) for m in ("pipeline", "two_calls")}
    return median, ("quiet runs only" if pool is quiet else "all runs (no quiet run of each kind)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--seconds", type=float, default=5, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per client count")
    parser.add_argument("--inner", choices=sorted(DEFAULT_WIDTH), default="mlp",
                        help="the second model: a compute-bound MLP or a head on large features")
    parser.add_argument("--width", type=int, default=0,
                        help="the intermediate tensor's width (default: 1024 for mlp, 65536 for head)")
    parser.add_argument("--clients", type=int, default=16, help="clients of the throughput rounds")
    parser.add_argument("--delay-us", dest="delay_us", type=int, default=2000,
                        help="inner model's max_queue_delay_microseconds")
    parser.add_argument("--short", action="store_true", help="a few seconds in total (CI)")
    args = parser.parse_args()
    args.width = args.width or DEFAULT_WIDTH[args.inner]
    if args.short:
        args.seconds, args.rounds, args.width, args.clients = 0.5, 1, 128, 4
    build = pathlib.Path(args.build_dir).resolve()
    sys.path.insert(0, str(build / "python"))

    cores = os.cpu_count() or 1
    model, flags = cpu_description()
    print(f"cpu: {model}, {cores} cores, flags: {' '.join(flags)}")
    print(f"load average at start: {loadavg()}")
    w = args.width
    inner = f"MLP {w}-{2 * w}-{2 * w}-10" if args.inner == "mlp" else f"head {w}-10 (one Linear)"
    print(f"models: first {FIRST_WIDTH}->{w} (Linear+ReLU), inner {inner} FP32, "
          f"1-row requests, KServe gRPC raw contents, nireq={cores} x 1 intra-op thread each; "
          f"many clients: inner with dynamic batching max 16, {args.delay_us} us delay")
    with tempfile.TemporaryDirectory(prefix="pipeline_bench_") as tmp:
        workdir = pathlib.Path(tmp)
        make_first(workdir / "first" / "1", w)
        (batching_compare.make_model if args.inner == "mlp" else make_head)(workdir / "inner" / "1", w)
        with Server(build, write_config(workdir, args, cores, False), workdir) as (port, pid):
            run(port, pid, "pipeline", 1, min(1.0, args.seconds), w)  # warm-up of both paths
            run(port, pid, "two_calls", 1, min(1.0, args.seconds), w)
            print("\n1 client, no batching (latency; overhead = (pipeline - two calls) / two calls, "
                  "goal <= 5%):")
            print(HEADER)
            single = rounds(port, pid, 1, args)
        with Server(build, write_config(workdir, args, cores, True), workdir) as (port, pid):
            run(port, pid, "pipeline", args.clients, min(1.0, args.seconds), w)
            run(port, pid, "two_calls", args.clients, min(1.0, args.seconds), w)
            print(f"\n{args.clients} clients, inner batched (throughput; ratio = pipeline / two calls, "
                  "goal >= 1.5x):")
            print(HEADER)
            many = rounds(port, pid, args.clients, args)
    mean, pool1 = summary(single, "mean_ms")
    p50, _ = summary(single, "p50_ms")
    rps, pool16 = summary(many, "rps")
    print(f"\n1 client ({pool1}): pipeline mean {mean['pipeline']:.2f} ms (p50 {p50['pipeline']:.2f}), "
          f"two calls mean {mean['two_calls']:.2f} ms (p50 {p50['two_calls']:.2f}); overhead "
          f"{100 * (mean['pipeline'] / mean['two_calls'] - 1):+.1f}% (mean), "
          f"{100 * (p50['pipeline'] / p50['two_calls'] - 1):+.1f}% (p50)")
    print(f"{args.clients} clients ({pool16}): pipeline {rps['pipeline']:.1f} req/s, two calls "
          f"{rps['two_calls']:.1f} req/s; ratio {rps['pipeline'] / rps['two_calls']:.2f}x")
    busy = sum(r["busy"] for r in single + many)
    if busy:
        print(f"{busy} of {len(single) + len(many)} runs had other load above {BUSY_CORES} cores (flagged busy)")


if __name__ == "__main__":
    main()
