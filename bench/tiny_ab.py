#!/usr/bin/python3
"""Interleaved A/B of the tiny model (y = x + 1, FP32 [1, 16]) on every front
door: one or more tessera binaries against the bare servers of the same
libraries (bare_grpc_server, bare_http_server).

Every round runs each (front door, concurrency) point on every target in
turn (A B C A B C ...), so a change of machine load hits all of them alike;
the summary gives medians over the rounds and each tessera's p50 difference
and req/s ratio to the bare server. Load generators, request bodies and the
bare servers' canned replies are run_all.py's (h2load for gRPC, wrk with
post_body.lua for REST).

  bench/tiny_ab.py                                  # build/src/server/tessera
  bench/tiny_ab.py --tessera before=/tmp/tessera_main --tessera after=build/src/server/tessera
  bench/tiny_ab.py --tessera off=build/src/server/tessera,--inline_run_max_us,0 \
                   --tessera on=build/src/server/tessera --doors kserve_grpc,tfs_rest
"""
import argparse
import json
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run_all as R  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--build-dir", default=str(R.ROOT / "build"))
parser.add_argument("--tessera", action="append", default=[],
                    help="NAME=BINARY[,ARG,...] (repeatable); default: tessera=BUILD/src/server/tessera")
parser.add_argument("--seconds", type=float, default=3)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--concurrency", default="1,16")
parser.add_argument("--doors", default=",".join(R.DOORS))
args = parser.parse_args()
build = pathlib.Path(args.build_dir).resolve()
sys.path.insert(0, str(build / "python"))  # the generated KServe / TF Serving stubs
doors = args.doors.split(",")
levels = [int(c) for c in args.concurrency.split(",")]


def start_tessera(name, spec, config, work, bodies):
    binary, *extra = spec.split(",")
    ports = {"grpc": R.free_port(), "rest": R.free_port()}
    proc = subprocess.Popen(R.tessera_command(binary, config, ports, extra),
                            stdout=open(work / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    R.wait_port(ports["rest"], proc)
    R.wait_served(ports, bodies, work, proc)
    return proc, ports


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still stop the servers
    work = pathlib.Path(tempfile.mkdtemp(prefix="tiny_ab_"))
    models = build / "bench_models"
    subprocess.run(["/usr/bin/python3", str(R.BENCH / "make_bench_models.py"), str(models), "--only", "tiny"],
                   check=True, stdout=subprocess.DEVNULL)
    config = work / "config.json"
    config.write_text(json.dumps({"model_config_list": [
        {"config": {"name": "tiny", "base_path": str(models / "tiny")}}]}))
    bodies = R.Bodies(work, "tiny")
    procs, targets = [], {}
    try:
        for spec in args.tessera or [f"tessera={build / 'src' / 'server' / 'tessera'}"]:
            name, binary = spec.split("=", 1)
            proc, ports = start_tessera(name, binary, config, work, bodies)
            procs.append(proc)
            targets[name] = ports
        bare = {}
        for kind, reply in R.BARE_REPLIES:
            port = R.free_port()
            proc = subprocess.Popen(R.bare_server_command(build, kind, port, work / reply),
                                    stdout=subprocess.DEVNULL)
            procs.append(proc)
            R.wait_port(port, proc)
            bare[kind] = port
        targets["bare"] = {"grpc": bare["bare_grpc"], "rest": bare["bare_http"]}
        model, flags = R.cpu_description()
        print(f"CPU: {model}, {R.CORES} cores, flags {' '.join(flags)}; load average at start {R.loadavg()}",
              flush=True)
        results, busy_runs = {}, 0
        for rnd in range(args.rounds):
            for door in doors:
                for c in levels:
                    for name, ports in targets.items():
                        watch = R.OtherCpu(p.pid for p in procs)
                        if door in R.GRPC_PATHS:
                            r = R.run_h2load(ports["grpc"], R.GRPC_PATHS[door], bodies.path[door], c,
                                             args.seconds, work)
                        else:
                            r = R.run_wrk(R.rest_url(ports["rest"], door, "tiny"), door, bodies, c, args.seconds)
                        other = watch.cores()
                        busy_runs += other > R.BUSY_CORES
                        results.setdefault((door, c, name), []).append(r)
                        print(f"round {rnd} {door:20s} c={c:<3d} {name:10s} p50 {r['p'][0] * 1000:7.0f} us "
                              f"{r['rps']:8.0f} req/s  failed {r['failed']}  other {other:.2f} cores"
                              f"{'  busy' if other > R.BUSY_CORES else ''}", flush=True)
        print(f"\nmedians over {args.rounds} rounds: p50 us (difference to bare), req/s (ratio to bare); "
              f"load average now {R.loadavg()}; {busy_runs} run(s) busy (other processes used more "
              f"than {R.BUSY_CORES} cores)")
        for door in doors:
            for c in levels:
                def med(name, key):
                    return statistics.median(r["p"][0] * 1000 if key == "p50" else r["rps"]
                                             for r in results[(door, c, name)])
                bp, br = med("bare", "p50"), med("bare", "rps")
                line = f"{door:20s} c={c:<3d} bare {bp:5.0f} us {br:7.0f}/s |"
                for name in targets:
                    if name != "bare":
                        p, r = med(name, "p50"), med(name, "rps")
                        line += f" {name} {p:5.0f} us ({p - bp:+4.0f}) {r:7.0f}/s ({r / br:.2f}) |"
                print(line)
    finally:
        for proc in procs:
            R.stop(proc)


if __name__ == "__main__":
    main()
