"""Shared fixtures for end-to-end tests: the real tessera binary on free
ports, talked to only over the wire."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("TESSERA_BUILD_DIR", ROOT / "build"))
BINARY = BUILD / "src" / "server" / "tessera"
sys.path.insert(0, str(BUILD / "python"))
sys.path.insert(0, str(ROOT / "scripts"))

from kserve import grpc_predict_v2_pb2 as kpb  # noqa: E402
from kserve import grpc_predict_v2_pb2_grpc as kgrpc  # noqa: E402
import make_example_models as models  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tessera:
    """One tessera process. Logs go to a file inside the test's tmp dir."""

    def __init__(self, args, workdir):
        self.grpc_port = free_port()
        self.log_path = pathlib.Path(workdir) / f"tessera-{self.grpc_port}.log"
        args = list(args)
        if "--rest_port" in args:  # the test chose its own
            self.rest_port = int(args[args.index("--rest_port") + 1])
            rest_args = []
        else:
            self.rest_port = free_port()
            rest_args = ["--rest_port", str(self.rest_port), "--rest_bind_address", "127.0.0.1"]
        self.rest_url = f"http://127.0.0.1:{self.rest_port}"
        # Tests stop servers with SIGTERM; they drain only when they ask to.
        if not any(a.startswith("--drain_seconds") for a in args):
            rest_args += ["--drain_seconds", "0"]
        self.args = [str(BINARY), "--port", str(self.grpc_port),
                     "--grpc_bind_address", "127.0.0.1"] + rest_args + args
        self.proc = None
        self.channel = None
        self.stub = None

    def start(self, wait_ready=True, timeout=60):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        self.connect()
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def connect(self):
        """A new gRPC channel (and KServe stub) to the server."""
        if self.channel:
            self.channel.close()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self.stub = kgrpc.GRPCInferenceServiceStub(self.channel)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"tessera exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if self.stub.ServerReady(kpb.ServerReadyRequest(), timeout=1).ready:
                    return
            except grpc.RpcError:
                # gRPC listens only once the models are loaded: a channel that
                # found no listener waits out a growing reconnect backoff.
                self.connect()
            time.sleep(0.1)
        raise AssertionError(f"tessera not ready after {timeout}s:\n{self.logs()}")

    def logs(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code."""
        if self.channel:
            self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"tessera did not stop on SIGTERM:\n{self.logs()}")
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def start_tessera(tmp_path):
    """start_tessera(*args) -> running Tessera; stopped (exit 0 asserted) at teardown."""
    started = []

    def start(*args, wait_ready=True):
        server = Tessera(args, tmp_path).start(wait_ready=wait_ready)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            assert server.stop() == 0, server.logs()


def make_repository(root):
    """Example models: dense 1 and 2, add_sub 1, int_ops 1 under `root`."""
    root = pathlib.Path(root)
    models.make_dense(str(root / "dense" / "1"), seed=1)
    models.make_dense(str(root / "dense" / "2"), seed=2)
    models.make_add_sub(str(root / "add_sub" / "1"))
    models.make_int_ops(str(root / "int_ops" / "1"))
    return root


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    """Models are built once per session, then copied where tests need them."""
    return make_repository(tmp_path_factory.mktemp("model_cache"))


@pytest.fixture
def repo(tmp_path, model_cache):
    """A fresh copy of the example repository in the test's tmp dir."""
    root = tmp_path / "repo"
    shutil.copytree(model_cache, root)
    return root


def write_config(path, models_config):
    """Writes an OVMS config.json; models_config: list of config dicts."""
    import json
    tmp = pathlib.Path(str(path) + ".tmp")
    tmp.write_text(json.dumps({"model_config_list": [{"config": c} for c in models_config]}))
    os.replace(tmp, path)


def torch_reference(model_file, *inputs):
    """Runs a TorchScript file with python3-torch; returns a tuple of numpy arrays."""
    import torch
    module = torch.jit.load(str(model_file))
    with torch.no_grad():
        out = module(*[torch.from_numpy(x) for x in inputs])
    if isinstance(out, dict):
        return tuple(v.numpy() for v in out.values())
    if isinstance(out, (tuple, list)):
        return tuple(o.numpy() for o in out)
    return (out.numpy(),)


def raw_request(model, arrays, datatypes, version="", outputs=(), request_id=""):
    """A KServe ModelInferRequest carrying `arrays` (name -> numpy) as raw_input_contents."""
    req = kpb.ModelInferRequest(model_name=model, model_version=version, id=request_id)
    for name, array in arrays.items():
        req.inputs.add(name=name, datatype=datatypes[name], shape=list(array.shape))
        req.raw_input_contents.append(np.ascontiguousarray(array).tobytes())
    for name in outputs:
        req.outputs.add(name=name)
    return req


def output_array(response, name):
    """Output `name` of a ModelInferResponse (raw_output_contents) as a numpy array."""
    dtypes = {"FP32": np.float32, "INT64": np.int64, "BOOL": np.bool_}
    for i, out in enumerate(response.outputs):
        if out.name == name:
            return np.frombuffer(response.raw_output_contents[i],
                                 dtype=dtypes[out.datatype]).reshape(out.shape)
    raise KeyError(name)


def run_tessera(args, timeout=30):
    """Runs tessera to completion (for command-line and bad-config tests)."""
    return subprocess.run([str(BINARY)] + list(args), capture_output=True, text=True,
                          timeout=timeout)


# Polls `predicate` every 0.1 s until it is true; fails after `timeout` s.
def wait_until(predicate, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
