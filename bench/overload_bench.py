#!/usr/bin/python3
"""Overload with deadlines: goodput at 4x the saturating concurrency.

Builds the MLP of batching_compare.py (x FP32 (1, W) -> 2W -> 2W -> 10,
a few ms per run at W = 1024 on one thread), starts `tessera` with nireq =
cores x 1 intra-op thread, and drives it with `batching_bench` (KServe gRPC,
closed loop, every call with a --deadline-ms gRPC deadline):

  1. sweep: concurrency 1, 2, 4, ... until throughput stops growing, on a
     server whose queue never fills. Goodput is divided by the cores left to
     this benchmark (2 minus the other CPU use measured during the point), so
     other load does not move C: the saturating concurrency C is the first
     point reaching 90% of the top of that capacity;
  2. rounds: a fresh server with max_queue_size = what the sweep's peak
     clears in half a deadline (--max-queue-size overrides), and C and 4C
     clients (--factors 1,4,16: also 16C), interleaved (C, 4C, 4C, C, ...),
     each run reporting goodput (answers within the deadline per second),
     p50/p99 of the answered calls and the DEADLINE_EXCEEDED and
     RESOURCE_EXHAUSTED counts. A client answered RESOURCE_EXHAUSTED retries
     after --backoff-ms (20), as a real client would.

Prints the CPU model and flags, the load average, and for every run the CPU
time the machine spent outside this benchmark (tessera + the load
generator) during it: a run where that exceeds 0.3 cores is flagged "busy".

    bench/overload_bench.py [--build-dir build] [--seconds 5] [--rounds 3] [--deadline-ms 200]
    bench/overload_bench.py --short   # seconds in total (ctest: overload_bench_short); nothing asserted

Exit status 0 when every run got answers; the figures are reported, never
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
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import batching_compare  # noqa: E402  (make_model, free_port, wait_ready)

BUSY_CORES = 0.3  # other CPU use (cores) above this during a run flags it
TICK = os.sysconf("SC_CLK_TCK")


def cpu_description():
    model, flags = "unknown", []
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = value.split()
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
    return model, [f for f in wanted if f in flags]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine_busy_seconds():
    """CPU seconds every core spent not idle, since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK


def process_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


class OtherCpu:
    """Measures the CPU the machine spent outside this benchmark during a run.

    "Ours" is this driver, its waited-for children (load generators, in-process
    runs) and the long-running `pids` (servers). `cores()` is the rest
    divided by the wall time since construction: other processes' use, in cores.
    """

    def __init__(self, pids=()):
        self.pids = list(pids)
        self.busy0 = machine_busy_seconds()
        self.ours0 = self._ours()
        self.wall0 = time.monotonic()

    def _ours(self):
        t = os.times()
        return (t.user + t.system + t.children_user + t.children_system
                + sum(process_cpu_seconds(pid) for pid in self.pids))

    def cores(self):
        wall = max(1e-6, time.monotonic() - self.wall0)
        ours = self._ours() - self.ours0
        return max(0.0, (machine_busy_seconds() - self.busy0 - ours) / wall)


def run_load(port, args, concurrency, seconds, label, server_pid):
    """One batching_bench run; returns its figures plus the CPU use outside it."""
    command = [str(BUILD / "bench/batching_bench"), "--target", f"127.0.0.1:{port}",
               "--model", "mlp", "--shape", f"1,{args.width}", "--concurrency", str(concurrency),
               "--seconds", str(seconds), "--label", label, "--deadline_ms", str(args.deadline_ms),
               "--backoff_ms", str(args.backoff_ms)]
    load_before = loadavg()
    watch = OtherCpu([server_pid])
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"batching_bench failed ({proc.returncode}): {err}")
    other = watch.cores()
    figures = dict(item.split("=", 1) for item in out.split())
    result = {k: (v if k == "label" else float(v)) for k, v in figures.items()}
    result.update(concurrency=concurrency, other_cores=other, loadavg=load_before,
                  busy=other > BUSY_CORES)
    return result



class Server:
    """`with Server(...) as (port, pid)`: tessera serving the MLP on a free port."""

    def __init__(self, workdir, label, nireq, max_queue):
        self.workdir, self.label = workdir, label
        self.config = workdir / f"{label}.json"
        self.config.write_text(json.dumps({"model_config_list": [{"config": {
            "name": "mlp", "base_path": str(workdir / "mlp"), "nireq": nireq,
            "max_queue_size": max_queue, "plugin_config": {"INFERENCE_NUM_THREADS": 1}}}]}))

    def __enter__(self):
        port = batching_compare.free_port()
        self.log = open(self.workdir / f"{self.label}.log", "w")
        self.proc = subprocess.Popen(
            [str(BUILD / "src/server/tessera"), "--config_path", str(self.config), "--port", str(port),
             "--grpc_bind_address", "127.0.0.1", "--log_level", "WARNING", "--drain_seconds", "0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        batching_compare.wait_ready(port, self.proc)
        return port, self.proc.pid

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def row(r):
    flag = " busy" if r["busy"] else ""
    return (f"{r['label']:<8} {r['concurrency']:>5.0f} {r['rps']:>9.1f} {r['p50_us'] / 1000:>8.2f} "
            f"{r['p99_us'] / 1000:>8.2f} {r['deadline_exceeded']:>9.0f} {r['exhausted']:>9.0f} {r['errors']:>7.0f} "
            f"{r['other_cores']:>6.2f}  {r['loadavg']}{flag}")


HEADER = (f"{'run':<8} {'conc':>5} {'goodput':>9} {'p50 ms':>8} {'p99 ms':>8} {'deadl.ex':>9} {'exhausted':>9} "
          f"{'errors':>7} {'other':>6}  loadavg (1/5/15 min) before the run")


def main():
    global BUILD
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--seconds", type=float, default=5, help="per run of the rounds")
    parser.add_argument("--sweep-seconds", type=float, default=2, help="per point of the sweep")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deadline-ms", dest="deadline_ms", type=int, default=200)
    parser.add_argument("--width", type=int, default=1024, help="MLP input width (hidden: twice that)")
    parser.add_argument("--max-queue-size", type=int, default=0,
                        help="of the rounds' server; 0: what the sweep's peak clears in half a deadline")
    parser.add_argument("--backoff-ms", dest="backoff_ms", type=int, default=20,
                        help="a client answered RESOURCE_EXHAUSTED waits this long before retrying")
    parser.add_argument("--factors", default="1,4",
                        help="client counts of the rounds, as multiples of C (1,4,16: also 16C)")
    parser.add_argument("--short", action="store_true", help="a few seconds in total (CI)")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.sweep_seconds, args.rounds, args.width = 0.5, 0.3, 1, 256
    BUILD = batching_compare.BUILD = pathlib.Path(args.build_dir).resolve()

    cores = os.cpu_count() or 1
    model, flags = cpu_description()
    print(f"cpu: {model}, {cores} cores, flags: {' '.join(flags)}")
    print(f"load average at start: {loadavg()}")
    w = args.width
    print(f"model: MLP {w}-{2 * w}-{2 * w}-10 FP32, 1-row requests, KServe gRPC raw contents, "
          f"nireq={cores} x 1 intra-op thread, deadline {args.deadline_ms} ms per call, "
          f"{args.backoff_ms} ms backoff after RESOURCE_EXHAUSTED")
    with tempfile.TemporaryDirectory(prefix="overload_bench_") as tmp:
        workdir = pathlib.Path(tmp)
        batching_compare.make_model(workdir / "mlp" / "1", w)

        # 1. Sweep, on a server whose queue never fills (at most 64 clients).
        with Server(workdir, "sweep", cores, 4096) as (port, pid):
            run_load(port, args, cores, args.sweep_seconds, "warmup", pid)
            print("\nsweep (saturating concurrency; capacity = goodput per core left to us):")
            print(HEADER)
            sweep = []
            concurrency, best, flat = 1, 0.0, 0
            while concurrency <= 64 and flat < 2:  # stop after two doublings without growth
                r = run_load(port, args, concurrency, args.sweep_seconds, "sweep", pid)
                r["capacity"] = r["rps"] / max(0.25, cores - r["other_cores"])
                print(row(r) + f"  capacity {r['capacity']:.1f}", flush=True)
                sweep.append(r)
                flat = flat + 1 if r["capacity"] < 1.05 * best else 0
                best = max(best, r["capacity"])
                concurrency *= 2
        peak = max(s["rps"] for s in sweep)
        top = max(s["capacity"] for s in sweep)
        c = int(min(s["concurrency"] for s in sweep if s["capacity"] >= 0.9 * top))
        # The queue holds what the workers clear in half a deadline.
        queue = args.max_queue_size or max(2 * cores, int(peak * args.deadline_ms / 1000 / 2))
        print(f"peak goodput {peak:.1f} req/s; saturating concurrency C = {c} (first to reach 90% "
              f"of the top capacity); max_queue_size for the rounds = {queue}")

        # 2. Rounds, interleaved, on a fresh server with that queue limit.
        factors = [int(f) for f in args.factors.split(",")]
        names = {f * c: ("C" if f == 1 else f"{f}C") for f in factors}
        runs = {n: [] for n in names}
        with Server(workdir, "rounds", cores, queue) as (port, pid):
            run_load(port, args, cores, args.sweep_seconds, "warmup", pid)
            print(f"\nrounds: {', '.join(f'{v} = {k}' for k, v in names.items())} clients, "
                  f"interleaved, {args.seconds:g} s per run:")
            print(HEADER)
            for i in range(args.rounds):
                order = list(names) if i % 2 == 0 else list(reversed(names))
                for n in order:
                    r = run_load(port, args, n, args.seconds, names[n], pid)
                    print(row(r), flush=True)
                    runs[n].append(r)

    def median(n, key):
        return statistics.median(r[key] for r in runs[n])

    ratios = [b["rps"] / a["rps"] for a, b in zip(runs[c], runs[4 * c]) if a["rps"]]
    print(f"\nmedian goodput: C {median(c, 'rps'):.1f}/s, 4C {median(4 * c, 'rps'):.1f}/s; "
          f"p99: C {median(c, 'p99_us') / 1000:.2f} ms, 4C {median(4 * c, 'p99_us') / 1000:.2f} ms")
    print(f"goodput(4C)/goodput(C) per round: {' '.join(f'{x:.2f}' for x in ratios)}; "
          f"median {statistics.median(ratios):.2f}")
    print(f"goodput(4C) median / sweep peak: {median(4 * c, 'rps') / peak:.2f}")
    for n, name in names.items():
        if n not in (c, 4 * c):
            print(f"{name}: median goodput {median(n, 'rps'):.1f}/s ({median(n, 'rps') / peak:.2f} of the "
                  f"peak), p99 {median(n, 'p99_us') / 1000:.2f} ms, "
                  f"{median(n, 'deadline_exceeded'):.0f} DEADLINE_EXCEEDED per run")
    busy = sum(r["busy"] for rs in runs.values() for r in rs)
    if busy:
        print(f"{busy} run(s) flagged busy: other processes used more than {BUSY_CORES} cores meanwhile")
    answered = all(r["requests"] > 0 for rs in runs.values() for r in rs)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
