#!/usr/bin/python3
"""python3-torch's best for a TorchScript file, as a worker of engine_compare.py.

    torch_worker.py --model FILE.pt --threads T --input RAW --shape 1,3,224,224

Loads FILE with torch.jit.load, then torch.jit.freeze and
torch.jit.optimize_for_inference (the same libtorch as Tessera's, nothing
repaired), torch.set_num_threads(T), and runs forward() under
torch.inference_mode(). Speaks engine_worker's protocol (see
bench/engine_worker.cc): "ready", then "run N" -> "ok <s> <s> ...",
"dump PATH" -> "ok", "quit".
"""
import argparse
import sys
import time

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--shape", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shape = [int(d) for d in args.shape.split(",")]
    x = torch.from_numpy(np.fromfile(args.input, dtype=np.float32).reshape(shape))
    model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(args.model).eval()))

    def run():
        with torch.inference_mode():
            out = model(x)
        return out.to_dense() if out.is_mkldnn else out

    for _ in range(3):
        run()
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, operand = line.strip().partition(" ")
        if verb == "quit":
            break
        if verb == "run":
            times = []
            for _ in range(int(operand)):
                t0 = time.perf_counter()
                run()
                times.append(time.perf_counter() - t0)
            print("ok " + " ".join(f"{t:.6f}" for t in times), flush=True)
        elif verb == "dump":
            run().contiguous().numpy().astype(np.float32).tofile(operand)
            print("ok", flush=True)
        else:
            print(f"error unknown command: {line.strip()}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
