#!/usr/bin/python3
"""Tessera's engine against reference engines, in interleaved runs.

Every contender is a worker process holding one model (bench/engine_worker.cc
protocol): Tessera's engine (`engine_worker --engine tessera`), libtorch
alone (`--engine libtorch`: freeze + optimize_for_inference, none of
Tessera's graph rewrites), python3-torch (bench/torch_worker.py) and ONNX Runtime
(bench/ort/ort_worker.js). All get the same input file and thread count. The
driver asks them in turns (A B C, then C B A, ...) for one run of about
--seconds each, so load from other processes falls on every contender alike,
and for every run records the load average and "other": the cores the rest
of the machine used meanwhile (/proc/stat minus the worker, this driver and
the busy loop below). A run with other > 0.3 cores is flagged "busy".
Columns per run: n inferences, their median and best wall time, and the
worker's CPU time per inference ("cpu ms", from /proc: at 1 thread the work
done, unaffected by other processes taking the core away).

Modes (batch 1, FP32 [1, 3, 224, 224]; torchvision models with random
weights from scripts/make_vision_models.py):

  torch       TorchScript: tessera vs python3-torch (freeze +
              optimize_for_inference) vs libtorch unrepaired, for
              mobilenet_v2, mobilenet_v3_large, efficientnet_b0, resnet50.
              speed = reference time / tessera time (goal >= 0.97);
              repair = tessera time / libtorch-unrepaired time (what
              Tessera's graph rewrites cost or save).
              All three run with Tessera's OpenMP wait policy (PASSIVE).
              --check-repair fails the run when, at 1 thread, the repair
              ratio of CPU time per inference exceeds its bound
              (REPAIR_BOUNDS).
  onnx        ONNX (opset 17): tessera vs ONNX Runtime on resnet50 and
              mobilenet_v2; ratio = tessera time / ORT time (goals <= 1.10,
              <= 1.30). Outputs must agree within 1e-4 of the largest
              |output| (a second oracle for the ONNX importer); else exit 1.
  contention  2 intra-op threads, each run quiet or with a busy loop pinned
              to CPU 1 (taskset), alternating; growth = loaded / quiet time.
              Contenders: tessera with its OpenMP wait policy
              (docs/performance.md), tessera with libgomp's own default
              (GOMP_SPINCOUNT=300000) and ONNX Runtime when installed.

Usage:
  bench/engine_compare.py torch [--arch A,B] [--threads 1,2] [--rounds 4] [--seconds 1.5]
                                [--check-repair]
  bench/engine_compare.py onnx [--baseline-build-dir OTHER_BUILD]
  bench/engine_compare.py contention [--arch resnet50]
  common: --build-dir build --models DIR (default build/bench/onnx_bench_models) --short

Needs: the engine_worker target; for onnx and contention's ORT row,
bench/ort/install.sh (npm's onnxruntime-node). Figures are printed, never
asserted, except --check-repair and the onnx output check.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from overload_bench import BUSY_CORES, OtherCpu, cpu_description, loadavg, process_cpu_seconds  # noqa: E402

SHAPE = [1, 3, 224, 224]
OPSET = 17
ORT_WORKER = ROOT / "bench" / "ort" / "ort_worker.js"
# tessera / libtorch-unrepaired CPU time per inference at 1 intra-op thread
# that --check-repair accepts. One thread's CPU time is the work done, whatever
# other processes do meanwhile (wall times on a shared machine are not).
# Measured 0.71-1.02 on a 2-core AVX-512 machine (bench/README.md); the
# margin is run-to-run noise. MobileNetV3 runs its padded layers dense there.
REPAIR_BOUNDS = {"mobilenet_v2": 1.10, "mobilenet_v3_large": 1.15, "efficientnet_b0": 1.10,
                 "resnet50": 1.10}
LIBGOMP_DEFAULT_SPIN = "300000"
# What the tessera binary and engine_worker set at start (openmp_wait_policy.h);
# the python3-torch worker gets it too, so engines are compared on equal terms.
TESSERA_WAIT_POLICY = {"OMP_WAIT_POLICY": "PASSIVE"}
DEFAULT_ARCHS = {"torch": ["mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "resnet50"],
                 "onnx": ["resnet50", "mobilenet_v2"], "contention": ["resnet50"]}


class Worker:
    """One contender process speaking engine_worker's protocol."""

    def __init__(self, name, command, env=None):
        self.name = name
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env={**os.environ, **(env or {})})
        self.expect_ok("ready")

    def expect_ok(self, word="ok"):
        line = self.proc.stdout.readline().strip()
        if not line.startswith(word):
            raise SystemExit(f"{self.name}: {line or 'exited (' + str(self.proc.wait()) + ')'}")
        return line

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect_ok()

    def run(self, n):
        return [float(t) for t in self.ask(f"run {n}").split()[1:]]

    def dump(self, path):
        self.ask(f"dump {path}")
        return np.fromfile(path, dtype=np.float32)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(60)


class BusyLoop:
    """`with BusyLoop():` a process spinning on CPU 1 meanwhile."""

    def __enter__(self):
        self.proc = subprocess.Popen(["taskset", "-c", "1", "/usr/bin/python3", "-c",
                                      "while True: pass"])
        time.sleep(0.3)  # let the scheduler settle
        return self

    def cpu(self):
        return process_cpu_seconds(self.proc.pid)

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def timed_run(worker, n, busy_loop=None):
    """One run of n inferences; the run's figures and the cores used by others."""
    load = loadavg()
    watch = OtherCpu([worker.proc.pid] + ([busy_loop.proc.pid] if busy_loop else []))
    w0 = process_cpu_seconds(worker.proc.pid)
    times = worker.run(n)
    worker_cpu = process_cpu_seconds(worker.proc.pid) - w0
    other = watch.cores()
    return {"median": statistics.median(times), "best": min(times), "n": n, "other": other,
            "busy": other > BUSY_CORES, "loadavg": load, "cpu": worker_cpu / n}


def runs_per_call(worker, seconds):
    """Inferences per run: ~seconds of the fastest of 3 (a slow one under load
    would leave runs of a single inference)."""
    return max(1, int(seconds / max(1e-6, min(worker.run(3)))))


def run_line(label, r):
    return (f"  {label:<24} {r['n']:>4} {r['median'] * 1e3:>9.2f} {r['best'] * 1e3:>9.2f} "
            f"{r['cpu'] * 1e3:>9.2f} {r['other']:>6.2f}  {r['loadavg']}{'  busy' if r['busy'] else ''}")


RUN_HEADER = (f"  {'run':<24} {'n':>4} {'med ms':>9} {'best ms':>9} {'cpu ms':>9} {'other':>6}  "
              "loadavg before")


def interleave(workers, counts, rounds, conditions=(None,)):
    """Runs every (worker, condition) once per round, order reversed every other
    round. Returns results[(name, condition)] = [run, ...]."""
    keys = [(w, c) for w in workers for c in conditions]
    results = {(w.name, c): [] for w, c in keys}
    for i in range(rounds):
        for w, c in (keys if i % 2 == 0 else list(reversed(keys))):
            label = w.name + (f" [{c}]" if c else "")
            if c == "loaded":
                with BusyLoop() as loop:
                    r = timed_run(w, counts[w.name], loop)
            else:
                r = timed_run(w, counts[w.name])
            results[(w.name, c)].append(r)
            print(run_line(label, r), flush=True)
    return results


def ratios(a_runs, b_runs):
    """a/b per round of the run medians (all rounds, and rounds where neither run
    was busy), and of the best single inferences over all runs."""
    pairs = list(zip(a_runs, b_runs))
    every = [a["median"] / b["median"] for a, b in pairs]
    quiet = [a["median"] / b["median"] for a, b in pairs if not a["busy"] and not b["busy"]]
    best = min(a["best"] for a in a_runs) / min(b["best"] for b in b_runs)
    cpu = statistics.median(a["cpu"] for a in a_runs) / statistics.median(b["cpu"] for b in b_runs)
    return every, quiet, best, cpu


def describe(every, quiet, best, cpu):
    text = (f"median {statistics.median(every):.3f} (rounds: {' '.join(f'{x:.2f}' for x in every)}), "
            f"best/best {best:.3f}, cpu/cpu {cpu:.3f}")
    if quiet:
        text += f"; quiet rounds only: median {statistics.median(quiet):.3f} ({len(quiet)})"
    else:
        text += "; no round with both runs quiet"
    return text


def relative_difference(actual, expected):
    return float(np.max(np.abs(actual - expected)) / max(1e-30, np.max(np.abs(expected))))


def ensure_models(models, archs):
    """Exports each arch's TorchScript and ONNX files unless present (the layout
    of make_vision_models.py, shared with onnx_bench.sh); returns the input file."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_vision_models as vision
    # MobileNetV2 is a benchmark model only (the e2e tests cover V3).
    vision.ARCHS.setdefault("mobilenet_v2", ({}, 224))
    for arch in archs:
        ts = pathlib.Path(vision.torchscript_dir(str(models), arch)) / "1/model.pt"
        onnx = pathlib.Path(vision.onnx_dir(str(models), arch, OPSET)) / "1/model.onnx"
        if ts.exists() and onnx.exists():
            continue
        model = vision.build_model(arch)
        print(vision.export_torchscript(model, arch, str(ts)))
        print(vision.export_onnx(model, arch, str(onnx), OPSET))
    path = models / ("input_" + "x".join(map(str, SHAPE)) + ".f32")
    if not path.exists():
        np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32).tofile(path)
    return path


def worker_args(model, threads, input_path):
    return ["--model", str(model), "--threads", str(threads), "--input", str(input_path),
            "--shape", ",".join(map(str, SHAPE))]


def tessera_worker(args, name, model, threads, input_path, engine="tessera", env=None):
    return Worker(name, [str(args.build_dir / "bench/engine_worker"), "--engine", engine,
                         *worker_args(model, threads, input_path)], env)


def ort_worker(name, model, threads, input_path):
    return Worker(name, ["node", str(ORT_WORKER), *worker_args(model, threads, input_path)])


def ort_installed():
    return (ORT_WORKER.parent / "node_modules" / "onnxruntime-node").is_dir()


def mode_torch(args, input_path, tmp):
    failures = []
    for arch in args.arch:
        model = args.models / f"{arch}_torchscript/1/model.pt"
        for threads in args.threads:
            print(f"\n{arch}, TorchScript, {threads} thread(s):")
            workers = [tessera_worker(args, "tessera", model, threads, input_path),
                       Worker("python3-torch", ["/usr/bin/python3", str(ROOT / "bench/torch_worker.py"),
                                                *worker_args(model, threads, input_path)],
                              env=TESSERA_WAIT_POLICY),
                       tessera_worker(args, "libtorch-unrepaired", model, threads, input_path,
                                      engine="libtorch")]
            try:
                counts = {w.name: runs_per_call(w, args.seconds) for w in workers}
                print(RUN_HEADER)
                res = interleave(workers, counts, args.rounds)
                outputs = {w.name: w.dump(tmp / f"{w.name}.f32") for w in workers}
            finally:
                for w in workers:
                    w.close()
            speed = ratios(res[("python3-torch", None)], res[("tessera", None)])
            repair = ratios(res[("tessera", None)], res[("libtorch-unrepaired", None)])
            print(f"  speed tessera vs python3-torch (python time / tessera time, goal >= 0.97): "
                  f"{describe(*speed)}")
            print(f"  repair cost (tessera time / libtorch-unrepaired time; bound on cpu/cpu at 1 "
                  f"thread {REPAIR_BOUNDS.get(arch, 1.10):.2f}): {describe(*repair)}")
            print(f"  output rel diff tessera vs python3-torch: "
                  f"{relative_difference(outputs['tessera'], outputs['python3-torch']):.1e} "
                  f"(large where the unrepaired graph is wrong)")
            bound = REPAIR_BOUNDS.get(arch, 1.10)
            if args.check_repair and threads == 1 and repair[3] > bound:
                failures.append(f"{arch}: repaired/unrepaired CPU time per inference "
                                f"{repair[3]:.3f} > {bound}")
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


def mode_onnx(args, input_path, tmp):
    if not ort_installed():
        raise SystemExit("ONNX Runtime is not installed: run bench/ort/install.sh")
    failures = []
    for arch in args.arch:
        model = args.models / f"{arch}_opset{OPSET}/1/model.onnx"
        for threads in args.threads:
            print(f"\n{arch}, ONNX opset {OPSET}, {threads} thread(s):")
            workers = [tessera_worker(args, "tessera-onnx", model, threads, input_path),
                       ort_worker("onnxruntime", model, threads, input_path)]
            if args.baseline_build_dir:
                workers.append(Worker("tessera-baseline", [
                    str(args.baseline_build_dir / "bench/engine_worker"), "--engine", "tessera",
                    *worker_args(model, threads, input_path)]))
            try:
                counts = {w.name: runs_per_call(w, args.seconds) for w in workers}
                print(RUN_HEADER)
                res = interleave(workers, counts, args.rounds)
                ours, theirs = (w.dump(tmp / f"{w.name}.f32") for w in workers[:2])
            finally:
                for w in workers:
                    w.close()
            print(f"  tessera time / ORT time: "
                  f"{describe(*ratios(res[('tessera-onnx', None)], res[('onnxruntime', None)]))}")
            if args.baseline_build_dir:
                print(f"  tessera time / tessera-baseline time: "
                      f"{describe(*ratios(res[('tessera-onnx', None)], res[('tessera-baseline', None)]))}")
            diff = relative_difference(ours, theirs)
            print(f"  outputs: max abs diff {np.max(np.abs(ours - theirs)):.2e}, "
                  f"relative to max |ORT| {diff:.1e}")
            if not diff <= 1e-4:
                failures.append(f"{arch}: outputs differ by {diff:.1e} relative")
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


def mode_contention(args, input_path, _tmp):
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("contention needs at least 2 CPUs")
    threads = 2
    for arch in args.arch:
        onnx = args.models / f"{arch}_opset{OPSET}/1/model.onnx"
        model = args.models / f"{arch}_torchscript/1/model.pt"
        print(f"\n{arch}, {threads} threads, quiet vs a busy loop on CPU 1:")
        workers = [tessera_worker(args, "tessera", model, threads, input_path),
                   tessera_worker(args, "tessera-libgomp-default", model, threads, input_path,
                                  env={"GOMP_SPINCOUNT": LIBGOMP_DEFAULT_SPIN})]
        for spin in args.spin_counts:
            workers.append(tessera_worker(args, f"tessera-spin-{spin}", model, threads, input_path,
                                          env={"GOMP_SPINCOUNT": spin}))
        if ort_installed() and not args.no_ort:
            workers.append(ort_worker("onnxruntime", onnx, threads, input_path))
        try:
            counts = {w.name: runs_per_call(w, args.seconds) for w in workers}
            print(RUN_HEADER)
            res = interleave(workers, counts, args.rounds, conditions=("quiet", "loaded"))
        finally:
            for w in workers:
                w.close()
        for w in workers:
            quiet = statistics.median(r["median"] for r in res[(w.name, "quiet")])
            loaded = statistics.median(r["median"] for r in res[(w.name, "loaded")])
            print(f"  {w.name:<24} quiet {quiet * 1e3:8.2f} ms, loaded {loaded * 1e3:8.2f} ms: "
                  f"growth {describe(*ratios(res[(w.name, 'loaded')], res[(w.name, 'quiet')]))}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["torch", "onnx", "contention"])
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build")
    parser.add_argument("--models", type=pathlib.Path, default=None)
    parser.add_argument("--arch", type=lambda s: s.split(","), default=None)
    parser.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")], default=[1, 2])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.5, help="per run")
    parser.add_argument("--check-repair", action="store_true",
                        help="torch mode: exit 1 when a repair ratio exceeds its bound")
    parser.add_argument("--spin-counts", type=lambda s: s.split(","), default=[],
                        help="contention mode: also tessera with each GOMP_SPINCOUNT listed")
    parser.add_argument("--no-ort", action="store_true", help="contention mode: no ONNX Runtime row")
    parser.add_argument("--baseline-build-dir", type=pathlib.Path, default=None,
                        help="onnx mode: also that build's engine_worker (an A/B of two "
                             "checkouts, e.g. before and after a change)")
    parser.add_argument("--short", action="store_true",
                        help="one model, 1 thread, 2 short rounds (ctest); nothing asserted")
    args = parser.parse_args()
    args.build_dir = args.build_dir.resolve()
    args.models = (args.models or args.build_dir / "bench/onnx_bench_models").resolve()
    if args.short:
        args.arch = args.arch or ["mobilenet_v3_large"]
        args.threads, args.rounds, args.seconds = [1], 2, 0.2
    args.arch = args.arch or DEFAULT_ARCHS[args.mode]
    input_path = ensure_models(args.models, args.arch)
    model, flags = cpu_description()
    print(f"engine_compare {args.mode}: cpu {model}, {os.cpu_count()} cores, flags: {' '.join(flags)}")
    print(f"load average at start: {loadavg()}; {time.strftime('%Y-%m-%d %H:%M')}; "
          f"a run is flagged busy when other processes used > {BUSY_CORES} cores during it")
    with tempfile.TemporaryDirectory(prefix="engine_compare_") as tmp:
        mode = {"torch": mode_torch, "onnx": mode_onnx, "contention": mode_contention}[args.mode]
        return mode(args, input_path, pathlib.Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
