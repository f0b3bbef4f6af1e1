"""Model lifecycle over the wire: versions appearing and disappearing on
disk, config edits, bad configs, shutdown — with clients running throughout."""
import os
import shutil
import threading
import time

import grpc
import numpy as np
import pytest

from conftest import kpb, models, run_tessera, torch_reference, wait_until, write_config


def infer_dense(stub, x, version=""):
    req = kpb.ModelInferRequest(model_name="dense", model_version=version)
    req.inputs.add(name="x", datatype="FP32", shape=list(x.shape))
    req.raw_input_contents.append(x.tobytes())
    resp = stub.ModelInfer(req, timeout=10)
    return resp.model_version, np.frombuffer(resp.raw_output_contents[0], np.float32).reshape(-1, 4)


def model_ready(stub, name, version=""):
    try:
        return stub.ModelReady(kpb.ModelReadyRequest(name=name, version=version)).ready
    except grpc.RpcError:
        return False


def add_version_atomically(repo, model, version, src_dir):
    """Copies a version dir beside the repository, then renames it in."""
    staging = repo.parent / f"staging-{model}-{version}"
    shutil.copytree(src_dir, staging)
    os.rename(staging, repo / model / str(version))


class Client(threading.Thread):
    """Loops default-version requests, recording every failure."""

    def __init__(self, stub):
        super().__init__(daemon=True)
        self.stub, self.stop, self.failures, self.versions = stub, threading.Event(), [], set()
        self.count = 0

    def run(self):
        x = np.ones((1, 16), np.float32)
        while not self.stop.is_set():
            try:
                version, _ = infer_dense(self.stub, x)
                self.versions.add(version)
                self.count += 1
            except grpc.RpcError as e:
                self.failures.append(f"{e.code()}: {e.details()}")


def test_versions_added_and_removed_without_failed_requests(start_tessera, repo, model_cache):
    shutil.rmtree(repo / "dense" / "2")
    write_config(repo / "config.json", [{"name": "dense", "base_path": "dense"}])
    server = start_tessera("--config_path", str(repo / "config.json"),
                           "--file_system_poll_wait_seconds", "1")
    client = Client(server.stub)
    client.start()
    try:
        time.sleep(0.5)
        add_version_atomically(repo, "dense", 2, model_cache / "dense" / "2")
        wait_until(lambda: infer_dense(server.stub, np.ones((1, 16), np.float32))[0] == "2",
                   what="version 2 to serve")
        x = np.random.default_rng(3).standard_normal((2, 16)).astype(np.float32)
        (expected,) = torch_reference(repo / "dense" / "2" / "model.pt", x)
        np.testing.assert_allclose(infer_dense(server.stub, x)[1], expected, rtol=1e-5, atol=1e-6)
        # latest{1}: version 1 is retired.
        wait_until(lambda: not model_ready(server.stub, "dense", "1"), what="version 1 retired")
        shutil.rmtree(repo / "dense" / "2")
        wait_until(lambda: infer_dense(server.stub, np.ones((1, 16), np.float32))[0] == "1",
                   what="version 1 to serve again")
        time.sleep(0.5)
    finally:
        client.stop.set()
        client.join()
    assert client.failures == []
    assert client.count > 20
    assert client.versions == {"1", "2"}


def test_config_edits_add_remove_and_change_policy(start_tessera, repo):
    config = repo / "config.json"
    write_config(config, [{"name": "dense", "base_path": "dense"}])
    server = start_tessera("--config_path", str(config), "--file_system_poll_wait_seconds", "1")
    assert not model_ready(server.stub, "add_sub")
    client = Client(server.stub)
    client.start()
    try:
        write_config(config, [
            {"name": "dense", "base_path": "dense", "model_version_policy": {"all": {}}},
            {"name": "add_sub", "base_path": str(repo / "add_sub")},
        ])
        wait_until(lambda: model_ready(server.stub, "add_sub"), what="add_sub to load")
        wait_until(lambda: model_ready(server.stub, "dense", "1"), what="dense 1 to load")
        md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense"))
        assert list(md.versions) == ["1", "2"]

        write_config(config, [{"name": "dense", "base_path": "dense",
                               "model_version_policy": {"specific": {"versions": [1]}}}])
        wait_until(lambda: not model_ready(server.stub, "add_sub"), what="add_sub removed")
        wait_until(lambda: not model_ready(server.stub, "dense", "2"), what="dense 2 retired")
        with pytest.raises(grpc.RpcError) as err:
            req = kpb.ModelInferRequest(model_name="add_sub")
            server.stub.ModelInfer(req)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        time.sleep(0.5)
    finally:
        client.stop.set()
        client.join()
    assert client.failures == []
    assert client.versions == {"2", "1"}


def test_bad_config_at_reload_keeps_serving(start_tessera, repo):
    config = repo / "config.json"
    write_config(config, [{"name": "dense", "base_path": "dense"}])
    server = start_tessera("--config_path", str(config), "--file_system_poll_wait_seconds", "1")
    config.write_text('{"model_config_list": [{"config": {"name": "dense", "base_path": "dense", '
                      '"nireq": "lots"}}]}')
    wait_until(lambda: "keeping the current models" in server.logs(), what="reload error log")
    assert "nireq" in server.logs()
    config.write_text("{ not json")
    time.sleep(2.5)
    version, _ = infer_dense(server.stub, np.ones((1, 16), np.float32))
    assert version == "2"
    # A good config afterwards is applied again.
    write_config(config, [{"name": "add_sub", "base_path": "add_sub"},
                          {"name": "dense", "base_path": "dense"}])
    wait_until(lambda: model_ready(server.stub, "add_sub"), what="add_sub after recovery")


def test_failed_model_does_not_block_others(start_tessera, repo):
    (repo / "broken" / "1").mkdir(parents=True)
    (repo / "broken" / "1" / "model.pt").write_bytes(b"not a torchscript archive")
    write_config(repo / "config.json", [{"name": "broken", "base_path": "broken"},
                                        {"name": "dense", "base_path": "dense"}])
    server = start_tessera("--config_path", str(repo / "config.json"))
    assert server.stub.ServerReady(kpb.ServerReadyRequest()).ready
    assert not model_ready(server.stub, "broken")
    assert model_ready(server.stub, "dense")
    with pytest.raises(grpc.RpcError) as err:
        server.stub.ModelInfer(kpb.ModelInferRequest(model_name="broken"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "model.pt" in server.logs()


@pytest.mark.parametrize("content,needle", [
    ("{ not json", "config"),
    ('{"model_config_list": [{"config": {"name": "m", "base_path": "/x", "bogus": 1}}]}',
     "bogus"),
    ('{"model_config_list": [{"config": {"name": "m", "base_path": "/x", '
     '"model_version_policy": {"latest": {"num_versions": 0}}}}]}', "num_versions"),
    ('{"models": []}', "models"),
])
def test_bad_config_at_start_refuses_to_start(tmp_path, content, needle):
    config = tmp_path / "config.json"
    config.write_text(content)
    result = run_tessera(["--config_path", str(config)])
    assert result.returncode != 0
    assert needle in (result.stdout + result.stderr)


def test_missing_config_file_refuses_to_start(tmp_path):
    result = run_tessera(["--config_path", str(tmp_path / "none.json")])
    assert result.returncode != 0
    assert "none.json" in result.stderr + result.stdout


def test_single_model_mode_serves_and_picks_up_versions(start_tessera, repo, model_cache):
    shutil.rmtree(repo / "dense" / "2")
    server = start_tessera("--model_name", "dense", "--model_path", str(repo / "dense"),
                           "--file_system_poll_wait_seconds", "1")
    assert infer_dense(server.stub, np.ones((1, 16), np.float32))[0] == "1"
    add_version_atomically(repo, "dense", 2, model_cache / "dense" / "2")
    wait_until(lambda: infer_dense(server.stub, np.ones((1, 16), np.float32))[0] == "2",
               what="version 2 in single-model mode")


def test_sigterm_finishes_in_flight_and_exits_zero(start_tessera, repo):
    write_config(repo / "config.json", [{"name": "dense", "base_path": "dense"}])
    server = start_tessera("--config_path", str(repo / "config.json"))
    futures = []
    for _ in range(20):
        req = kpb.ModelInferRequest(model_name="dense")
        req.inputs.add(name="x", datatype="FP32", shape=[64, 16])
        req.raw_input_contents.append(np.ones((64, 16), np.float32).tobytes())
        futures.append(server.stub.ModelInfer.future(req))
    time.sleep(0.05)
    assert server.stop() == 0, server.logs()
    done = 0
    for f in futures:
        try:
            f.result()
            done += 1
        except grpc.RpcError as e:
            # Requests the server had not accepted yet may be refused, never half-answered.
            assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert done > 0
