#!/usr/bin/python3
"""Dynamic batching against no batching, on the real server, in one run.

Builds a small TorchScript MLP (x FP32 (N, W) -> 2W -> 2W -> 10 with ReLUs,
W = --width, 512 by default: 1.6 M parameters; written with python3-torch),
starts `tessera` twice on free ports with the same workers and threads --
once plain, once with "dynamic_batching" -- and drives each with
`batching_bench` (KServe gRPC, raw_input_contents, --concurrency
callers each keeping one 1-row request in flight). Prints throughput and
latency percentiles of both and the ratio batched / unbatched.

    bench/batching_compare.py [--build-dir build] [--seconds 10] [--concurrency 16] [--width 512]
    bench/batching_compare.py --short     # a few seconds, for CI: no assertion on speed

Exit status 0 when both runs answered every request; the figures are
reported, never asserted.
"""
import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BATCHING = {"max_batch_size": 16, "max_queue_delay_microseconds": 0}


def make_model(version_dir, width):
    import torch
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(width, 2 * width), torch.nn.ReLU(),
        torch.nn.Linear(2 * width, 2 * width), torch.nn.ReLU(),
        torch.nn.Linear(2 * width, 10)).eval()
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, width]}],
                 "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 10]}]}
    version_dir.mkdir(parents=True)
    torch.jit.save(torch.jit.script(mlp), str(version_dir / "model.pt"),
                   _extra_files={"signature.json": json.dumps(signature)})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=120):
    sys.path.insert(0, str(BUILD / "python"))
    import grpc
    from kserve import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as rpc
    stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"tessera exited with {proc.returncode}")
        try:
            if stub.ModelReady(pb.ModelReadyRequest(name="mlp"), timeout=1).ready:
                return
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    raise SystemExit("tessera did not become ready")


def serve_and_measure(workdir, label, model_config, args):
    config = workdir / f"{label}.json"
    config.write_text(json.dumps({"model_config_list": [{"config": model_config}]}))
    port = free_port()
    log = open(workdir / f"{label}.log", "w")
    proc = subprocess.Popen([str(BUILD / "src/server/tessera"), "--config_path", str(config),
                             "--port", str(port), "--grpc_bind_address", "127.0.0.1",
                             "--log_level", "WARNING", "--drain_seconds", "0"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
        command = [str(BUILD / "bench/batching_bench"), "--target", f"127.0.0.1:{port}",
                   "--model", "mlp", "--shape", f"1,{args.width}", "--concurrency", str(args.concurrency),
                   "--label", label]
        # A short warm-up so both runs start from warm caches and connections.
        subprocess.run(command + ["--seconds", "0.2" if args.short else "1"], check=True, capture_output=True)
        out = subprocess.run(command + ["--seconds", str(args.seconds)], check=True,
                             capture_output=True, text=True).stdout
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    figures = dict(item.split("=", 1) for item in out.split())
    return {k: (v if k == "label" else float(v)) for k, v in figures.items()}


def main():
    global BUILD
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--width", type=int, default=512, help="MLP input width (hidden: twice that)")
    parser.add_argument("--short", action="store_true", help="1 s per run (CI)")
    args = parser.parse_args()
    if args.short:
        args.seconds = 1
    BUILD = pathlib.Path(args.build_dir).resolve()

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="batching_bench_") as tmp:
        workdir = pathlib.Path(tmp)
        make_model(workdir / "mlp" / "1", args.width)
        base = {"name": "mlp", "base_path": str(workdir / "mlp"), "nireq": cores,
                "plugin_config": {"INFERENCE_NUM_THREADS": 1}}
        plain = serve_and_measure(workdir, "unbatched", base, args)
        batched = serve_and_measure(workdir, "batched", dict(base, dynamic_batching=BATCHING), args)

    w = args.width
    print(f"model: MLP {w}-{2 * w}-{2 * w}-10 FP32, 1-row requests, KServe gRPC raw contents, "
          f"{args.concurrency} concurrent callers, {args.seconds:g} s per run, "
          f"nireq={cores} x 1 intra-op thread, {cores} cores")
    print(f"batched: dynamic_batching {json.dumps(BATCHING)}")
    print(f"{'run':<10} {'req/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in (plain, batched):
        print(f"{r['label']:<10} {r['rps']:>10.0f} {r['p50_us'] / 1000:>8.2f} {r['p90_us'] / 1000:>8.2f} "
              f"{r['p99_us'] / 1000:>8.2f} {r['errors']:>7.0f}")
    ratio = batched["rps"] / plain["rps"] if plain["rps"] else float("nan")
    print(f"throughput ratio batched/unbatched: {ratio:.2f}")
    return 0 if plain["errors"] == 0 and batched["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
