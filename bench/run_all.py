#!/usr/bin/python3
"""One-command throughput benchmark (see bench/README.md).

Starts tessera with the benchmark models (bench/make_bench_models.py), a
bare gRPC server and a bare Boost.Beast HTTP server (bare_grpc_server,
bare_http_server: the tiny model's real reply, no decoding, no model), and
measures, in one run, on the same cores and with the same clients:
  * every front door (KServe gRPC raw contents, TFS gRPC, KServe REST JSON,
    KServe REST binary, TFS REST) x model x concurrency: req/s, p50/p90/p99;
  * the baseline of each compared point, interleaved with it (server,
    baseline, server, baseline, ...): for the tiny model the bare server of
    the door's protocol at the same concurrency, for the image models over
    KServe gRPC raw the engine in process (inprocess_bench) on the same
    worker x thread layout;
  * for every run, the CPU that other processes used meanwhile; a run above
    --busy-cores is repeated (--retries) and flagged "busy" if it stays so.
Prints the CPU model and flags, the load average, the sweep and the ratio
table. gRPC load: h2load (HTTP/2 with gRPC framing); REST load: wrk
(post_body.lua).

  bench/run_all.sh [--short] [--build-dir DIR] [--seconds S] [--rounds R]
                   [--concurrency 1,4,16,64] [--models tiny,mobilenet_v2,resnet50]

--short: ~1 s per run, one round, tiny and MobileNetV3 (CI: ctest bench_short).
It asserts no timing; it fails only when a load run got errors or no replies.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
from overload_bench import BUSY_CORES, OtherCpu, cpu_description, loadavg  # noqa: E402

CORES = os.cpu_count() or 1
IMAGE_SHAPE = (1, 3, 224, 224)
MODELS = {  # name: (input name, shape)
    "tiny": ("x", (1, 16)),
    "mobilenet_v2": ("input", IMAGE_SHAPE),
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

    def __init__(self, work, model, served=None):
        """`model`: a key of MODELS; `served`: the name it is served under."""
        from kserve import grpc_predict_v2_pb2 as kpb
        from tensorflow.core.framework import types_pb2
        from tensorflow_serving.apis import predict_pb2
        name, shape = MODELS[model]
        model = served or model
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


# --- servers ---------------------------------------------------------------

def tessera_command(binary, config, ports, extra=()):
    """The command line of a Tessera server on loopback `ports` ({"grpc",
    "rest"}), no polling, no drain."""
    return [str(binary), "--config_path", str(config), "--port", str(ports["grpc"]),
            "--rest_port", str(ports["rest"]), "--grpc_bind_address", "127.0.0.1",
            "--rest_bind_address", "127.0.0.1", "--file_system_poll_wait_seconds", "0",
            "--drain_seconds", "0", *extra]


def wait_served(ports, bodies, work, proc):
    """Waits until every front door answers `bodies` (models load after the
    ports open); raises when the server exits or never answers."""
    for attempt in range(600):
        try:
            check_once(ports, bodies, work)
            return
        except Exception:  # noqa: BLE001 - not loaded yet
            if attempt == 599 or proc.poll() is not None:
                raise
            time.sleep(0.2)


def bare_server_command(build, kind, port, reply):
    """`kind`: bare_grpc or bare_http, answering the canned `reply` file;
    the HTTP one with as many threads as Tessera's default --rest_workers."""
    cmd = [str(build / "bench" / f"{kind}_server"), "--port", str(port), "--reply", str(reply)]
    return cmd + (["--threads", str(CORES)] if kind == "bare_http" else [])


BARE_REPLIES = (("bare_grpc", "tiny.reply.pb"), ("bare_http", "tiny.reply.json"))


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


def run_inprocess(build, models_dir, model, layout, seconds):
    workers, threads = layout
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

def parse_layout(text):
    """"2x1" -> (2 workers, 1 intra-op thread each)."""
    workers, threads = text.split("x")
    return int(workers), int(threads)


def layout_name(layout):
    return f"{layout[0]}x{layout[1]}"


def summarize(runs):
    """One point's figures from its rounds: the median of the quiet runs (of
    all runs when none was quiet, then flagged busy)."""
    quiet = [r for r in runs if not r["busy"]]
    chosen = quiet or runs
    pick = lambda values: statistics.median(values)  # noqa: E731
    return {"rps": pick([r["rps"] for r in chosen]),
            "p": [pick([r["p"][i] for r in chosen]) for i in range(3)],
            "other": max(r["other"] for r in chosen), "busy": not quiet,
            "runs": len(runs), "quiet": len(quiet)}


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = pathlib.Path(args.build_dir).resolve()
        sys.path.insert(0, str(self.build / "python"))
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="tessera-bench-"))
        self.models_dir = pathlib.Path(args.models_dir or self.build / "bench_models")
        self.models = args.models.split(",")
        self.layouts = [parse_layout(t) for t in args.layouts.split(",")]
        self.points = {}  # (target, door, model, layout, concurrency) -> summary
        self.failures = []
        self.procs = {}  # name -> Popen of a long-running server

    # -- one run ------------------------------------------------------------

    def measure(self, key, action):
        """Runs `action` (-> result dict) until it is quiet or out of retries."""
        for attempt in range(1 + self.args.retries):
            load = loadavg()
            watch = OtherCpu(p.pid for p in self.procs.values())
            result = action()
            result.update(other=watch.cores(), loadavg=load)
            result["busy"] = result["other"] > self.args.busy_cores
            self.print_run(key, result, attempt)
            if result["failed"] or result["ok"] == 0:
                self.failures.append(key)
                break
            if not result["busy"]:
                break
        return result

    @staticmethod
    def print_run(key, r, attempt):
        target, door, model, layout, c = key
        flag = "  busy" if r["busy"] else ""
        again = f" (retry {attempt})" if attempt else ""
        failed = f"  FAILED {r['failed']} (ok {r['ok']})" if r["failed"] or r["ok"] == 0 else ""
        print(f"  {target:9} {door:19} {model:13} {layout:4} c={c:<3} {r['rps']:9.1f} req/s  "
              f"p50 {r['p'][0]:8.3f} ms  p99 {r['p'][2]:8.2f} ms  other {r['other']:4.2f}  "
              f"load {r['loadavg']}{flag}{again}{failed}", flush=True)

    def interleave(self, contenders):
        """contenders: [(key, action)]; runs them in turns, --rounds times,
        and stores each one's summary under its key."""
        runs = {key: [] for key, _ in contenders}
        for _ in range(self.args.rounds):
            for key, action in contenders:
                runs[key].append(self.measure(key, action))
        for key, results in runs.items():
            self.points[key] = summarize(results)

    # -- what is run --------------------------------------------------------

    def load(self, door, port, bodies, c):
        s = self.args.seconds
        if door in GRPC_PATHS:
            return run_h2load(port, GRPC_PATHS[door], bodies.path[door], c, s, self.work)
        return run_wrk(rest_url(port, door, bodies.model), door, bodies, c, s)

    def server_load(self, door, bodies, c):
        port = self.ports["grpc" if door in GRPC_PATHS else "rest"]
        return lambda: self.load(door, port, bodies, c)

    def make_models(self):
        subprocess.run(["/usr/bin/python3", str(BENCH / "make_bench_models.py"),
                        str(self.models_dir), "--only", ",".join(self.models)],
                       check=True, stdout=subprocess.DEVNULL)

    def served_name(self, model, layout):
        return model if model == "tiny" else f"{model}_{layout_name(layout)}"

    def start(self, name, args, port):
        log = open(self.work / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_port(port, self.procs[name])

    def start_server(self):
        entries = []
        for model in self.models:
            for layout in ([None] if model == "tiny" else self.layouts):
                config = {"name": self.served_name(model, layout),
                          "base_path": str(self.models_dir / model)}
                if layout:
                    config.update(nireq=layout[0], plugin_config={"INFERENCE_NUM_THREADS": layout[1]})
                entries.append({"config": config})
        config = self.work / "config.json"
        config.write_text(json.dumps({"model_config_list": entries}))
        self.ports = {"grpc": free_port(), "rest": free_port()}
        self.start("tessera", tessera_command(self.build / "src" / "server" / "tessera", config,
                                              self.ports), self.ports["rest"])

    def checked_bodies(self, model, served):
        """The model's request bodies, each sent once with a real client."""
        bodies = Bodies(self.work, model, served)
        wait_served(self.ports, bodies, self.work, self.procs["tessera"])
        return bodies

    def start_bare_servers(self):
        """After the tiny model's replies were captured (checked_bodies)."""
        self.bare_ports = {}
        for kind, reply in BARE_REPLIES:
            port = self.bare_ports[kind] = free_port()
            self.start(kind, bare_server_command(self.build, kind, port, self.work / reply), port)

    def concurrency(self, model):
        levels = [int(c) for c in self.args.concurrency.split(",")]
        return levels if model == "tiny" else [c for c in levels if c <= 16]

    # -- sweeps -------------------------------------------------------------

    def sweep_tiny(self):
        """Every door against the bare server of its protocol, point by point."""
        bodies = self.checked_bodies("tiny", "tiny")
        self.start_bare_servers()
        for door in DOORS:
            bare = "bare_grpc" if door in GRPC_PATHS else "bare_http"
            bare_door = "kserve_grpc" if bare == "bare_grpc" else "kserve_rest_json"
            for c in self.concurrency("tiny"):
                self.interleave([
                    (("server", door, "tiny", "-", c), self.server_load(door, bodies, c)),
                    ((bare, door, "tiny", "-", c),
                     lambda c=c: self.load(bare_door, self.bare_ports[bare], bodies, c))])

    def sweep_model(self, model):
        """KServe gRPC raw on every layout, each point interleaved with the
        engine in process on the same layout; then the other doors on the
        first (default) layout, alone."""
        for layout in self.layouts:
            bodies = self.checked_bodies(model, self.served_name(model, layout))
            name = layout_name(layout)
            for c in self.concurrency(model):
                self.interleave([
                    (("server", "kserve_grpc", model, name, c),
                     self.server_load("kserve_grpc", bodies, c)),
                    (("inprocess", "-", model, name, c),
                     lambda layout=layout: run_inprocess(self.build, self.models_dir, model, layout,
                                                         self.args.seconds))])
            if layout != self.layouts[0]:
                continue
            for door in DOORS[1:]:
                for c in self.concurrency(model):
                    key = ("server", door, model, name, c)
                    self.points[key] = summarize([self.measure(key, self.server_load(door, bodies, c))])

    # -- report -------------------------------------------------------------

    TITLES = {"bare_grpc": "bare gRPC server", "bare_http": "bare HTTP server",
              "inprocess": "in-process engine"}

    def print_tables(self):
        print("\n### Sweep (median of each point's quiet rounds)\n")
        print("| target | front door | model | layout | clients | req/s | p50 ms | p90 ms | p99 ms | "
              "other cores | runs (quiet) |")
        print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---|")
        for (t, d, m, layout, c), r in self.points.items():
            target = "tessera" if t == "server" else self.TITLES[t]
            door = DOOR_TITLES.get(d, d) if t != "inprocess" else "-"
            busy = " busy" if r["busy"] else ""
            print(f"| {target} | {door} | {m} | {layout} | {c} | {r['rps']:.1f} | {r['p'][0]:.3f} | "
                  f"{r['p'][1]:.3f} | {r['p'][2]:.2f} | {r['other']:.2f}{busy} | "
                  f"{r['runs']} ({r['quiet']}) |")
        print("\n### Ratios (measured in this run, each point against its interleaved baseline)\n")
        print("| comparison | tessera | baseline | result | goal |")
        print("|---|---:|---:|---:|---:|")
        for model in self.models:
            if model != "tiny":
                self.engine_row(model)
        if "tiny" in self.models:
            for door in DOORS:
                self.tiny_rows(door)

    def peak(self, target, door, model, layout=None):
        """(req/s, key) of the point with the most req/s, None if no point."""
        found = [(r["rps"], k) for k, r in self.points.items()
                 if k[0] == target and k[1] == door and k[2] == model
                 and (layout is None or k[3] == layout)]
        return max(found) if found else None

    def flag(self, *keys):
        return " (busy)" if any(self.points[k]["busy"] for k in keys) else ""

    def engine_row(self, model):
        server, base = self.peak("server", "kserve_grpc", model), self.peak("inprocess", "-", model)
        if not server or not base:
            return
        label = (f"{model}: KServe gRPC raw ({server[1][3]}, {server[1][4]} clients) / "
                 f"in-process ({base[1][3]})")
        print(f"| {label} | {server[0]:.1f} req/s | {base[0]:.1f} req/s | "
              f"{server[0] / base[0]:.2f}{self.flag(server[1], base[1])} | ≥ 0.95 |")

    def tiny_rows(self, door):
        bare = "bare_grpc" if door in GRPC_PATHS else "bare_http"
        server, base = self.peak("server", door, "tiny"), self.peak(bare, door, "tiny")
        if not server or not base:
            return
        title = f"tiny: {DOOR_TITLES[door]} / {self.TITLES[bare]}"
        print(f"| {title}, peak | {server[0]:.0f} req/s | {base[0]:.0f} req/s | "
              f"{server[0] / base[0]:.2f}{self.flag(server[1], base[1])} | ≥ 0.85 |")
        c = min(self.concurrency("tiny"))
        s_key, b_key = ("server", door, "tiny", "-", c), (bare, door, "tiny", "-", c)
        s_p50, b_p50 = self.points[s_key]["p"][0] * 1000, self.points[b_key]["p"][0] * 1000
        print(f"| {title}, p50 at {c} client(s) | {s_p50:.0f} µs | {b_p50:.0f} µs | "
              f"{s_p50 - b_p50:+.0f} µs{self.flag(s_key, b_key)} | ≤ +25 µs |")

    def run(self):
        for tool in ("h2load", "wrk"):
            if not shutil.which(tool):
                sys.exit(f"{tool} not found: run scripts/install-deps.sh")
        model, flags = cpu_description()
        print(f"bench: {time.strftime('%Y-%m-%d %H:%M')}, cpu {model}, {CORES} cores, flags "
              f"{' '.join(flags)}; load average {loadavg()}; {self.args.seconds} s per run, "
              f"{self.args.rounds} round(s), models {self.models}, layouts {self.args.layouts}; "
              f"a run is busy when other processes used > {self.args.busy_cores} cores", flush=True)
        self.make_models()
        try:
            self.start_server()
            if "tiny" in self.models:
                self.sweep_tiny()
            for model in self.models:
                if model != "tiny":
                    self.sweep_model(model)
        finally:
            for proc in self.procs.values():
                stop(proc)
        self.print_tables()
        busy = [k for k, r in self.points.items() if r["busy"]]
        print(f"\nload average at the end: {loadavg()}; {len(busy)} of {len(self.points)} points "
              f"busy in every round")
        if self.failures:
            sys.exit(f"bench: runs with errors: {self.failures}; see {self.work}/tessera.log")
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="seconds-long CI run")
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--models-dir", help="default: BUILD_DIR/bench_models")
    parser.add_argument("--models", help="default tiny,mobilenet_v2,resnet50; --short tiny,mobilenet_v3")
    parser.add_argument("--layouts", default=f"{CORES}x1,1x{CORES}",
                        help="workers x intra-op threads of the image models, server and in-process; "
                             "the first is also the other doors' (default: the server's, then one "
                             "worker with every core)")
    parser.add_argument("--seconds", type=float, help="per run (default 5; --short 1)")
    parser.add_argument("--rounds", type=int, help="runs of each point, interleaved (default 2; --short 1)")
    parser.add_argument("--retries", type=int, help="repeats of a busy run (default 2; --short 0)")
    parser.add_argument("--busy-cores", type=float, default=BUSY_CORES,
                        help="other processes' CPU above which a run is busy")
    parser.add_argument("--concurrency", help="levels (default 1,4,16,64; --short 1,8); image models "
                                              "use those <= 16")
    args = parser.parse_args()
    short = args.short
    defaults = {"seconds": (5.0, 1.0), "rounds": (2, 1), "retries": (2, 0),
                "concurrency": ("1,4,16,64", "1,8"),
                "models": ("tiny,mobilenet_v2,resnet50", "tiny,mobilenet_v3")}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if short else full)
    if short and args.layouts == f"{CORES}x1,1x{CORES}":
        args.layouts = f"{CORES}x1"
    Bench(args).run()


if __name__ == "__main__":
    main()
