#!/usr/bin/python3
"""Overload with deadlines: goodput at 4x the saturating concurrency.

Builds the MLP of batching_compare.py (x FP32 (1, W) -> 2W -> 2W -> 10,
a few ms per run at W = 1024 on one thread), starts `tessera` with nireq =
cores x 1 intra-op thread, and drives it with `batching_bench` (KServe gRPC,
closed loop, every call with a --deadline-ms gRPC deadline):

  1. sweep: concurrency 1, 2, 4, ... until throughput stops growing; the
     saturating concurrency C is the smallest one reaching 90% of the peak;
  2. rounds: C and 4C clients, interleaved (C, 4C, 4C, C, C, 4C, ...), each
     run reporting goodput (answers within the deadline per second), p50/p99
     of the answered calls and the DEADLINE_EXCEEDED count.

Prints the CPU model and flags, the load average, and for every run the CPU
time the machine spent outside this benchmark (tessera + the load
generator) during it: a run where that exceeds 0.2 cores is flagged "busy".

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

BUSY_CORES = 0.2  # other CPU use above this during a run flags it
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


def run_load(port, args, concurrency, seconds, label, server_pid):
    """One batching_bench run; returns its figures plus the CPU use outside it."""
    command = [str(BUILD / "bench/batching_bench"), "--target", f"127.0.0.1:{port}",
               "--model", "mlp", "--shape", f"1,{args.width}", "--concurrency", str(concurrency),
               "--seconds", str(seconds), "--label", label, "--deadline_ms", str(args.deadline_ms)]
    load_before = loadavg()
    busy0, server0, wall0 = machine_busy_seconds(), process_cpu_seconds(server_pid), time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.monotonic() - wall0
    if proc.returncode != 0:
        raise SystemExit(f"batching_bench failed ({proc.returncode}): {err}")
    # The client's CPU time, from the children's accounting of this process.
    client = os.times()
    ours = process_cpu_seconds(server_pid) - server0 + client.children_user + client.children_system
    ours -= run_load.children_seen
    run_load.children_seen = client.children_user + client.children_system
    other = max(0.0, (machine_busy_seconds() - busy0 - ours) / wall)
    figures = dict(item.split("=", 1) for item in out.split())
    result = {k: (v if k == "label" else float(v)) for k, v in figures.items()}
    result.update(concurrency=concurrency, other_cores=other, loadavg=load_before,
                  busy=other > BUSY_CORES)
    return result


run_load.children_seen = 0.0


def row(r):
    flag = " busy" if r["busy"] else ""
    return (f"{r['label']:<8} {r['concurrency']:>5.0f} {r['rps']:>9.1f} {r['p50_us'] / 1000:>8.2f} "
            f"{r['p99_us'] / 1000:>8.2f} {r['deadline_exceeded']:>9.0f} {r['errors']:>7.0f} "
            f"{r['other_cores']:>6.2f}  {r['loadavg']}{flag}")


HEADER = (f"{'run':<8} {'conc':>5} {'goodput':>9} {'p50 ms':>8} {'p99 ms':>8} {'deadl.ex':>9} "
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
    parser.add_argument("--max-queue-size", type=int, default=256)
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
          f"nireq={cores} x 1 intra-op thread, max_queue_size={args.max_queue_size}, "
          f"deadline {args.deadline_ms} ms per call")
    with tempfile.TemporaryDirectory(prefix="overload_bench_") as tmp:
        workdir = pathlib.Path(tmp)
        batching_compare.make_model(workdir / "mlp" / "1", w)
        config = workdir / "config.json"
        config.write_text(json.dumps({"model_config_list": [{"config": {
            "name": "mlp", "base_path": str(workdir / "mlp"), "nireq": cores,
            "max_queue_size": args.max_queue_size,
            "plugin_config": {"INFERENCE_NUM_THREADS": 1}}}]}))
        port = batching_compare.free_port()
        log = open(workdir / "tessera.log", "w")
        proc = subprocess.Popen([str(BUILD / "src/server/tessera"), "--config_path", str(config),
                                 "--port", str(port), "--grpc_bind_address", "127.0.0.1",
                                 "--log_level", "WARNING"], stdout=log, stderr=subprocess.STDOUT)
        try:
            batching_compare.wait_ready(port, proc)
            run_load(port, args, cores, args.sweep_seconds, "warmup", proc.pid)

            print("\nsweep (saturating concurrency):")
            print(HEADER)
            sweep = []
            concurrency, best, flat = 1, 0.0, 0
            while concurrency <= 64 and flat < 2:  # stop after two doublings without growth
                r = run_load(port, args, concurrency, args.sweep_seconds, "sweep", proc.pid)
                print(row(r), flush=True)
                sweep.append(r)
                flat = flat + 1 if r["rps"] < 1.05 * best else 0
                best = max(best, r["rps"])
                concurrency *= 2
            peak = max(s["rps"] for s in sweep)
            c = min(s["concurrency"] for s in sweep if s["rps"] >= 0.9 * peak)
            c = int(c)
            print(f"peak {peak:.1f} req/s; saturating concurrency C = {c} (first to reach 90% of the peak)")

            factors = [int(f) for f in args.factors.split(",")]
            names = {f * c: ("C" if f == 1 else f"{f}C") for f in factors}
            print(f"\nrounds: {', '.join(f'{v} = {k}' for k, v in names.items())} clients, "
                  f"interleaved, {args.seconds:g} s per run:")
            print(HEADER)
            runs = {n: [] for n in names}
            for i in range(args.rounds):
                order = list(names) if i % 2 == 0 else list(reversed(names))
                for n in order:
                    r = run_load(port, args, n, args.seconds, names[n], proc.pid)
                    print(row(r), flush=True)
                    runs[n].append(r)
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()

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
