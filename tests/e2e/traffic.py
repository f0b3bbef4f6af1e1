"""Inference traffic on the four front doors for tests that change the
server underneath (drain, restarts): one thread per door loops requests to
the example `dense` model until stopped, checks every reply's values and
keeps every failure. Import after conftest."""
import threading
import time

import numpy as np

import four_doors
from conftest import torch_reference

DOORS = ("KServe gRPC", "TFS gRPC", "KServe REST", "TFS REST")


def dense_reference(model_file, rows=8):
    """(inputs, outputs): `rows` distinct (1, 16) inputs and the model's outputs."""
    x = (np.arange(rows * 16, dtype=np.float32).reshape(rows, 16) % 7) / 7 - 0.3 * np.arange(
        rows, dtype=np.float32).reshape(rows, 1)
    (y,) = torch_reference(model_file, x)
    return x, y


def infer(door, target, x):
    """One inference of `x` through `door` of `target` (has .stub, .channel,
    .rest_url); returns the output y. Raises four_doors.WireError on an error reply."""
    if door == "KServe gRPC":
        return four_doors.kserve_grpc_infer(target, "dense", array=x, name="x")["y"]
    if door == "TFS gRPC":
        return four_doors.tfs_grpc_predict(target, "dense", array=x, name="x")["y"]
    if door == "KServe REST":
        return four_doors.kserve_rest_infer(target, "dense", array=x, name="x")["y"]
    reply = four_doors.tfs_rest_predict(target, "dense", {"instances": x.tolist()})
    return np.array(reply["predictions"], np.float32)


class Traffic:
    """Loops inference on every door of `target` until stop(); thread-safe counters."""

    def __init__(self, target, inputs, outputs, doors=DOORS):
        self.target, self.inputs, self.outputs, self.doors = target, inputs, outputs, doors
        self.lock = threading.Lock()
        self.ok = {d: 0 for d in doors}
        self.failures = []  # (door, seconds since start, message)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(d,), daemon=True) for d in doors]
        self.started = time.time()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _loop(self, door):
        i = 0
        while not self.stopping.is_set():
            row = i % len(self.inputs)
            i += 1
            try:
                y = infer(door, self.target, self.inputs[row:row + 1])
                np.testing.assert_allclose(y, self.outputs[row:row + 1], rtol=1e-4, atol=1e-5)
                with self.lock:
                    self.ok[door] += 1
            except Exception as e:  # any error reply, lost connection or wrong value
                with self.lock:
                    self.failures.append((door, round(time.time() - self.started, 2), repr(e)[:300]))
                time.sleep(0.05)

    def counts(self):
        with self.lock:
            return dict(self.ok)

    def wait_for_more(self, than, each=3, timeout=60):
        """Waits until every door has `each` more successes than the counts `than`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            now = self.counts()
            if all(now[d] - than[d] >= each for d in self.doors):
                return now
            time.sleep(0.05)
        raise AssertionError(f"traffic stalled: {self.counts()} (from {than}); failures {self.failures[-5:]}")

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(60)
        return self.counts()
