#!/usr/bin/python3
"""One-command throughput benchmark (see bench/README.md).

Starts tessera with the benchmark models (bench/make_bench_models.py) and
measures, in one run, on the same cores and with the same clients:
  * every front door (KServe gRPC raw contents, TFS gRPC, KServe REST JSON,
    KServe REST binary, TFS REST) x model x concurrency: req/s, p50/p90/p99;
  * baselines: the model run in-process on the server's threads
    (inprocess_bench), a bare gRPC server and a bare Boost.Beast HTTP server
    answering a fixed reply (bare_grpc_server, bare_http_server);
and prints the ratio table. gRPC load: h2load (HTTP/2 with gRPC framing);
REST load: wrk (post_body.lua).

  bench/run_all.sh [--short] [--build-dir DIR] [--seconds S] [--concurrency 1,4,16]

--short: ~1 s per point, tiny and MobileNetV3 only (CI: ctest bench_short).
It asserts no timing; it fails only when a load run got errors or no replies.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
CORES = os.cpu_count() or 1
IMAGE_SHAPE = (1, 3, 224, 224)
MODELS = {  # name: (input name, shape)
    "tiny": ("x", (1, 16)),
    "mobilenet_v3": ("input", IMAGE_SHAPE),
    "resnet50": ("input", IMAGE_SHAPE),
}
DOORS = ["kserve_grpc", "tfs_grpc", "kserve_rest_json", "kserve_rest_binary", "tfs_rest"]
DOOR_TITLES = {"kserve_grpc": "KServe gRPC (raw)", "tfs_grpc": "TFS gRPC",
               "kserve_rest_json": "KServe REST JSON", "kserve_rest_binary": "KServe REST binary",
               "tfs_rest": "TFS REST"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not open after {timeout}s")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- request bodies --------------------------------------------------------

def grpc_frame(message):
    data = message.SerializeToString()
    return b"\x00" + len(data).to_bytes(4, "big") + data


class Bodies:
    """The request of every front door for one model, written to files."""

    def __init__(self, work, model):
        from kserve import grpc_predict_v2_pb2 as kpb
        from tensorflow.core.framework import types_pb2
        from tensorflow_serving.apis import predict_pb2
        name, shape = MODELS[model]
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        self.x = x
        self.kserve = kpb.ModelInferRequest(model_name=model)
        self.kserve.inputs.add(name=name, datatype="FP32", shape=list(shape))
        self.kserve.raw_input_contents.append(x.tobytes())
        self.tfs = predict_pb2.PredictRequest()
        self.tfs.model_spec.name = model
        t = self.tfs.inputs[name]
        t.dtype = types_pb2.DT_FLOAT
        for d in shape:
            t.tensor_shape.dim.add(size=d)
        t.tensor_content = x.tobytes()
        header = json.dumps({"inputs": [{"name": name, "datatype": "FP32", "shape": list(shape),
                                         "parameters": {"binary_data_size": x.nbytes}}]}).encode()
        self.header_length = len(header)
        plain = {"inputs": [{"name": name, "datatype": "FP32", "shape": list(shape),
                             "data": x.ravel().tolist()}]}
        files = {
            "kserve_grpc": grpc_frame(self.kserve),
            "tfs_grpc": grpc_frame(self.tfs),
            "kserve_rest_json": json.dumps(plain).encode(),
            "kserve_rest_binary": header + x.tobytes(),
            "tfs_rest": json.dumps({"instances": x.tolist()}).encode(),
        }
        self.path = {}
        for door, data in files.items():
            p = work / f"{model}.{door}.body"
            p.write_bytes(data)
            self.path[door] = p
        self.model = model


def rest_headers(door, bodies):
    if door == "kserve_rest_binary":
        return {"Content-Type": "application/octet-stream",
                "Inference-Header-Content-Length": str(bodies.header_length)}
    return {"Content-Type": "application/json"}


def rest_url(port, door, model):
    if door == "tfs_rest":
        return f"http://127.0.0.1:{port}/v1/models/{model}:predict"
    return f"http://127.0.0.1:{port}/v2/models/{model}/infer"


GRPC_PATHS = {"kserve_grpc": "/inference.GRPCInferenceService/ModelInfer",
              "tfs_grpc": "/tensorflow.serving.PredictionService/Predict"}


def check_once(server, bodies, work):
    """Sends each request once with a real client; saves the tiny model's
    replies for the bare servers. Raises when a front door fails."""
    import grpc
    import requests
    from kserve import grpc_predict_v2_pb2_grpc as kgrpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc as tgrpc
    channel = grpc.insecure_channel(f"127.0.0.1:{server['grpc']}",
                                    options=[("grpc.max_receive_message_length", 1 << 30)])
    reply = kgrpc.GRPCInferenceServiceStub(channel).ModelInfer(bodies.kserve, timeout=120)
    tgrpc.PredictionServiceStub(channel).Predict(bodies.tfs, timeout=120)
    channel.close()
    replies = {"kserve_grpc": reply.SerializeToString()}
    for door in DOORS[2:]:
        resp = requests.post(rest_url(server["rest"], door, bodies.model),
                             data=bodies.path[door].read_bytes(),
                             headers=rest_headers(door, bodies), timeout=120)
        if resp.status_code != 200:
            raise RuntimeError(f"{door} {bodies.model}: HTTP {resp.status_code} {resp.text[:200]}")
        replies[door] = resp.content
    if bodies.model == "tiny":
        (work / "tiny.reply.pb").write_bytes(replies["kserve_grpc"])
        (work / "tiny.reply.json").write_bytes(replies["kserve_rest_json"])


# --- load generators -------------------------------------------------------

def percentiles(values):
    if not values:
        return 0, 0, 0
    v = sorted(values)
    pick = lambda p: v[min(len(v) - 1, int(p * len(v)))]  # noqa: E731
    return pick(0.5), pick(0.9), pick(0.99)


def run_h2load(port, path, body, concurrency, seconds, work):
    connections = min(concurrency, 16)
    streams = max(1, concurrency // connections)
    log = work / "h2load.log"
    log.unlink(missing_ok=True)
    warmup = "500ms" if seconds <= 2 else "1s"
    cmd = ["h2load", "-t", "1", "-c", str(connections), "-m", str(streams),
           "-D", f"{max(1, round(seconds))}", "--warm-up-time", warmup, "-d", str(body),
           "-H", "content-type: application/grpc", "-H", "te: trailers",
           f"--log-file={log}", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120).stdout
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored", out)
    if not m:
        raise RuntimeError("cannot read h2load output:\n" + out)
    succeeded, failed = int(m.group(3)), int(m.group(4)) + int(m.group(5))
    latencies = []
    for line in log.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] == "200":
            latencies.append(int(parts[2]))
    # h2load's req/s covers the main duration only; so does its log.
    rate = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    return {"rps": rate, "ok": succeeded, "failed": failed,
            "p": [x / 1000 for x in percentiles(latencies)]}


WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(url, door, bodies, concurrency, seconds):
    env = dict(os.environ, BENCH_BODY=str(bodies.path[door]),
               BENCH_CONTENT_TYPE=rest_headers(door, bodies)["Content-Type"],
               BENCH_HEADER_LENGTH=str(bodies.header_length) if door == "kserve_rest_binary" else "")
    cmd = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "60s", "--latency", "-s", str(BENCH / "post_body.lua"), url]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 120).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rate or not total:
        raise RuntimeError("cannot read wrk output:\n" + out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    p = []
    for q in ("50", "90", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        p.append(float(m.group(1)) * WRK_UNITS[m.group(2)] if m else 0)
    return {"rps": float(rate.group(1)), "ok": int(total.group(1)) - failed, "failed": failed, "p": p}


def run_inprocess(build, models_dir, model, seconds):
    workers = CORES  # the server's default nireq
    threads = max(1, CORES // workers)  # and its default INFERENCE_NUM_THREADS
    out = subprocess.run([str(build / "bench" / "inprocess_bench"), "--model_dir",
                          str(models_dir / model / "1"), "--workers", str(workers),
                          "--threads", str(threads), "--seconds", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 300)
    m = re.search(r"inferences_per_s ([\d.]+) p50_us (\d+) p90_us (\d+) p99_us (\d+)", out.stdout)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"inprocess_bench {model} failed:\n{out.stdout}{out.stderr}")
    return {"rps": float(m.group(1)), "ok": 1, "failed": 0,
            "p": [int(m.group(i)) / 1000 for i in (2, 3, 4)]}


# --- driver ----------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = pathlib.Path(args.build_dir).resolve()
        sys.path.insert(0, str(self.build / "python"))
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="tessera-bench-"))
        self.models_dir = pathlib.Path(args.models_dir or self.build / "bench_models")
        self.models = ["tiny", "mobilenet_v3"] + ([] if args.short else ["resnet50"])
        self.results = {}  # (target, door, model, concurrency) -> result
        self.failures = []

    def record(self, key, result):
        self.results[key] = result
        target, door, model, c = key
        line = (f"  {target:10} {door:20} {model:13} c={c:<3} {result['rps']:9.1f} req/s  "
                f"p50 {result['p'][0]:8.2f} ms  p90 {result['p'][1]:8.2f} ms  "
                f"p99 {result['p'][2]:8.2f} ms")
        if result["failed"] or result["ok"] == 0:
            self.failures.append(key)
            line += f"  FAILED {result['failed']} (ok {result['ok']})"
        print(line, flush=True)

    def load(self, door, port, bodies, c):
        s = self.args.seconds
        if door in GRPC_PATHS:
            return run_h2load(port, GRPC_PATHS[door], bodies.path[door], c, s, self.work)
        return run_wrk(rest_url(port, door, bodies.model), door, bodies, c, s)

    def make_models(self):
        subprocess.run(["/usr/bin/python3", str(BENCH / "make_bench_models.py"),
                        str(self.models_dir), "--only", ",".join(self.models)],
                       check=True, stdout=subprocess.DEVNULL)

    def start_server(self):
        config = self.work / "config.json"
        config.write_text(json.dumps({"model_config_list": [
            {"config": {"name": m, "base_path": str(self.models_dir / m)}} for m in self.models]}))
        self.ports = {"grpc": free_port(), "rest": free_port()}
        self.server = subprocess.Popen(
            [str(self.build / "src" / "server" / "tessera"), "--config_path", str(config),
             "--port", str(self.ports["grpc"]), "--rest_port", str(self.ports["rest"]),
             "--grpc_bind_address", "127.0.0.1", "--rest_bind_address", "127.0.0.1",
             "--file_system_poll_wait_seconds", "0", "--drain_seconds", "0"],
            stdout=open(self.work / "tessera.log", "w"), stderr=subprocess.STDOUT)
        wait_port(self.ports["rest"], self.server)

    def sweep_server(self):
        for model in self.models:
            bodies = Bodies(self.work, model)
            for attempt in range(600):  # models load after the ports open
                try:
                    check_once(self.ports, bodies, self.work)
                    break
                except Exception:  # noqa: BLE001 - not loaded yet
                    if attempt == 599 or self.server.poll() is not None:
                        raise
                    time.sleep(0.2)
            self.bodies = getattr(self, "bodies", {})
            self.bodies[model] = bodies
            for door in DOORS:
                port = self.ports["grpc" if door in GRPC_PATHS else "rest"]
                for c in self.concurrency(model):
                    self.record(("server", door, model, c), self.load(door, port, bodies, c))

    def concurrency(self, model):
        levels = [int(c) for c in self.args.concurrency.split(",")]
        return levels if model == "tiny" else [c for c in levels if c <= 16]

    def sweep_bare(self):
        tiny = self.bodies["tiny"]
        for kind, door, reply in (("bare_grpc", "kserve_grpc", "tiny.reply.pb"),
                                  ("bare_http", "kserve_rest_json", "tiny.reply.json")):
            port = free_port()
            args = [str(self.build / "bench" / f"{kind}_server"), "--port", str(port),
                    "--reply", str(self.work / reply)]
            if kind == "bare_http":
                args += ["--threads", str(CORES)]  # the server's default --rest_workers
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
            try:
                wait_port(port, proc)
                for c in self.concurrency("tiny"):
                    self.record((kind, door, "tiny", c), self.load(door, port, tiny, c))
            finally:
                stop(proc)

    def sweep_inprocess(self):
        for model in self.models[1:]:
            self.record(("inprocess", "-", model, CORES),
                        run_inprocess(self.build, self.models_dir, model, self.args.seconds))

    def best(self, target, door, model):
        rates = [r["rps"] for (t, d, m, _), r in self.results.items()
                 if t == target and d == door and m == model]
        return max(rates) if rates else 0.0

    def print_tables(self):
        print("\n### Sweep (server)\n")
        print("| front door | model | concurrency | req/s | p50 ms | p90 ms | p99 ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for (t, d, m, c), r in self.results.items():
            name = {"server": DOOR_TITLES.get(d, d), "bare_grpc": "bare gRPC server",
                    "bare_http": "bare HTTP server", "inprocess": f"in-process ({CORES} threads)"}[t]
            print(f"| {name} | {m} | {c} | {r['rps']:.1f} | {r['p'][0]:.2f} | {r['p'][1]:.2f} | "
                  f"{r['p'][2]:.2f} |")
        print("\n### Ratios (peak req/s over the sweep, measured in this run)\n")
        print("| comparison | server req/s | baseline req/s | ratio | goal |")
        print("|---|---:|---:|---:|---:|")
        for model in self.models[1:]:
            server = self.best("server", "kserve_grpc", model)
            base = self.best("inprocess", "-", model)
            self.ratio_row(f"{model}: KServe gRPC raw / in-process", server, base, "0.97")
        for door in DOORS:
            kind = "bare_grpc" if door in GRPC_PATHS else "bare_http"
            base = self.best(kind, "kserve_grpc" if kind == "bare_grpc" else "kserve_rest_json", "tiny")
            label = "bare gRPC" if kind == "bare_grpc" else "bare HTTP"
            self.ratio_row(f"tiny: {DOOR_TITLES[door]} / {label}", self.best("server", door, "tiny"),
                           base, "0.7")

    @staticmethod
    def ratio_row(label, server, base, goal):
        ratio = server / base if base else 0
        print(f"| {label} | {server:.1f} | {base:.1f} | {ratio:.2f} | ≥ {goal} |")

    def run(self):
        for tool in ("h2load", "wrk"):
            if not shutil.which(tool):
                sys.exit(f"{tool} not found: run scripts/install-deps.sh")
        print(f"bench: {CORES} cores, {self.args.seconds} s per point, models {self.models}",
              flush=True)
        self.make_models()
        self.start_server()
        try:
            self.sweep_server()
        finally:
            stop(self.server)
        self.sweep_bare()
        self.sweep_inprocess()
        self.print_tables()
        if self.failures:
            sys.exit(f"bench: runs with errors: {self.failures}; see {self.work}/tessera.log")
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="seconds-long CI run")
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--models-dir", help="default: BUILD_DIR/bench_models")
    parser.add_argument("--seconds", type=float, help="per point (default 5; --short 1)")
    parser.add_argument("--concurrency", help="levels (default 1,4,16,64; --short 1,8)")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 1.0 if args.short else 5.0
    if args.concurrency is None:
        args.concurrency = "1,8" if args.short else "1,4,16,64"
    Bench(args).run()


if __name__ == "__main__":
    main()
