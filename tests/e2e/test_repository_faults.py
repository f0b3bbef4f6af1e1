"""Repository faults over the wire: a broken new version never takes the model
down (the old version keeps serving until a successor is AVAILABLE), and a
missing or vanished base path is named in every front door's model status."""
import json
import os
import shutil
import threading
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import kpb, torch_reference, wait_until, write_config
from four_doors import WireError, tfs_grpc_predict, tfs_rest_predict
from tensorflow_serving.apis import get_model_metadata_pb2  # noqa: E402
from tensorflow_serving.apis import get_model_status_pb2  # noqa: E402
from tensorflow_serving.apis import model_service_pb2_grpc  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402

POLL = ["--file_system_poll_wait_seconds", "1"]
X = np.random.default_rng(7).standard_normal((2, 16)).astype(np.float32)


def infer(stub, model="dense", x=X, version=""):
    req = kpb.ModelInferRequest(model_name=model, model_version=version)
    req.inputs.add(name="x", datatype="FP32", shape=list(x.shape))
    req.raw_input_contents.append(x.tobytes())
    resp = stub.ModelInfer(req, timeout=10)
    return resp.model_version, np.frombuffer(resp.raw_output_contents[0], np.float32).reshape(-1, 4)


class Client(threading.Thread):
    """Sends KServe gRPC requests in a loop; records failures and wrong values."""

    def __init__(self, stub, expected):
        super().__init__(daemon=True)
        self.stub, self.expected = stub, expected  # version string -> output
        self.stop, self.failures, self.versions, self.count = threading.Event(), [], [], 0

    def run(self):
        while not self.stop.is_set():
            try:
                version, y = infer(self.stub)
            except grpc.RpcError as e:
                self.failures.append(f"{e.code().name}: {e.details()}")
                continue
            self.count += 1
            if not self.versions or self.versions[-1] != version:
                self.versions.append(version)
            want = self.expected.get(version)
            if want is None or not np.allclose(y, want, rtol=1e-5, atol=1e-6):
                self.failures.append(f"wrong answer from version {version}")

    def finish(self):
        self.stop.set()
        self.join()


def add_version_atomically(repo, version, fill):
    """Builds the version directory beside the repository, then renames it in."""
    staging = repo.parent / f"staging-{version}"
    staging.mkdir()
    fill(staging)
    os.rename(staging, repo / "dense" / str(version))


def rest_status(server, model):
    return requests.get(f"{server.rest_url}/v1/models/{model}", timeout=10)


def versions_by_number(server, model="dense"):
    resp = rest_status(server, model)
    assert resp.status_code == 200, resp.text
    return {int(v["version"]): v for v in resp.json()["model_version_status"]}


def grpc_status(server, model):
    req = get_model_status_pb2.GetModelStatusRequest()
    req.model_spec.name = model
    return model_service_pb2_grpc.ModelServiceStub(server.channel).GetModelStatus(req, timeout=10)


# --- the six faults, each as a new version directory ------------------------

def corrupt(good):
    def fill(d):
        data = bytearray(good.read_bytes())
        data[-512:] = np.random.default_rng(1).integers(0, 256, 512, np.uint8).tobytes()
        (d / "model.pt").write_bytes(bytes(data))
    return fill


def truncated(good):
    def fill(d):
        data = good.read_bytes()
        (d / "model.pt").write_bytes(data[:len(data) // 2])
    return fill


def empty(good):
    return lambda d: (d / "model.pt").write_bytes(b"")


def wrong_extension(good):
    return lambda d: shutil.copy(good, d / "model.bin")


def two_model_files(good):
    def fill(d):
        shutil.copy(good, d / "model.pt")
        shutil.copy(good, d / "other.pt")
    return fill


def garbage_onnx(good):
    return lambda d: (d / "model.onnx").write_bytes(
        np.random.default_rng(2).integers(0, 256, 4096, np.uint8).tobytes())


# Each fault and how its load error begins (libtorch's own reason follows).
TORCH_ZIP = "Cannot load TorchScript model {dir}/model.pt: PytorchStreamReader failed reading zip archive: "
FAULTS = {
    "corrupt": (corrupt, TORCH_ZIP),
    "truncated": (truncated, TORCH_ZIP),
    "empty": (empty, TORCH_ZIP),
    "wrong_extension": (wrong_extension,
                        "No model file found in version directory (files: [model.bin]); "
                        "expected *.pt, *.torchscript or *.onnx"),
    "two_model_files": (two_model_files,
                        "More than one TorchScript file in {dir}: model.pt, other.pt; "
                        "keep exactly one model file per version directory"),
    "garbage_onnx": (garbage_onnx, "Cannot parse ONNX model {dir}/model.onnx: not a complete ONNX "
                                   "ModelProto (truncated or corrupt file?)"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failed_new_version_keeps_the_old_one_serving(start_tessera, repo, model_cache, fault):
    make, message = FAULTS[fault]
    shutil.rmtree(repo / "dense" / "2")
    write_config(repo / "config.json", [{"name": "dense", "base_path": str(repo / "dense")}])
    server = start_tessera("--config_path", str(repo / "config.json"), *POLL)
    good2 = model_cache / "dense" / "2" / "model.pt"
    expected = {"1": torch_reference(repo / "dense" / "1" / "model.pt", X)[0],
                "3": torch_reference(good2, X)[0]}
    client = Client(server.stub, expected)
    client.start()
    try:
        time.sleep(0.5)
        add_version_atomically(repo, 2, make(good2))
        wait_until(lambda: 2 in versions_by_number(server), what="version 2 listed")
        time.sleep(3)  # a few polls: nothing may change, nothing is retried

        listed = versions_by_number(server)
        assert listed[1] == {"version": "1", "state": "AVAILABLE",
                             "status": {"error_code": "OK", "error_message": ""}}
        assert listed[2]["state"] == "LOADING"
        assert listed[2]["status"]["error_code"] == "UNKNOWN"
        assert listed[2]["status"]["error_message"].startswith(message.format(dir=repo / "dense" / "2"))
        by_grpc = {s.version: s for s in grpc_status(server, "dense").model_version_status}
        assert by_grpc[1].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        assert by_grpc[2].state == get_model_status_pb2.ModelVersionStatus.LOADING
        assert by_grpc[2].status.error_code == 2  # UNKNOWN
        assert by_grpc[2].status.error_message == listed[2]["status"]["error_message"]
        md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense"), timeout=10)
        assert list(md.versions) == ["1"]
        with pytest.raises(grpc.RpcError) as err:  # asked for by number, it names its error
            infer(server.stub, version="2")
        assert (err.value.code(), err.value.details()) == (
            grpc.StatusCode.UNAVAILABLE,
            "Model dense version 2 failed to load: " + listed[2]["status"]["error_message"])
        assert requests.get(f"{server.rest_url}/v2/models/dense/ready", timeout=10).status_code == 200

        # A good successor replaces version 1; the failed one stays listed.
        add_version_atomically(repo, 3, lambda d: shutil.copy(good2, d / "model.pt"))
        wait_until(lambda: infer(server.stub)[0] == "3", what="version 3 to serve")
        wait_until(lambda: versions_by_number(server)[1]["state"] == "END", what="version 1 retired")
        time.sleep(2)
    finally:
        client.finish()
    assert client.failures == []
    assert client.versions == ["1", "3"]
    assert client.count > 20
    listed = versions_by_number(server)
    assert listed[1]["status"]["error_code"] == "OK"
    assert listed[2]["state"] == "END"
    assert listed[2]["status"]["error_code"] == "UNKNOWN"
    assert listed[2]["status"]["error_message"].startswith(message.format(dir=repo / "dense" / "2"))
    assert listed[3]["state"] == "AVAILABLE"


def failed_everywhere(server, model):
    """Inference, metadata and readiness of `model` on the four front doors,
    each as (code, message)."""
    def caught(call):
        try:
            call()
        except WireError as e:
            return e.code, e.message
        except grpc.RpcError as e:
            return e.code().name, e.details()
        raise AssertionError("the call succeeded")

    def tfs_grpc_metadata():
        req = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        req.model_spec.name = model
        prediction_service_pb2_grpc.PredictionServiceStub(server.channel).GetModelMetadata(
            req, timeout=10)

    def rest(method, path, body=None):
        resp = requests.request(method, f"{server.rest_url}{path}", data=body, timeout=10)
        raise WireError(resp.status_code, resp.json()["error"])

    return {
        "tfs grpc predict": caught(lambda: tfs_grpc_predict(server, model, array=X, name="x")),
        "tfs grpc metadata": caught(tfs_grpc_metadata),
        "tfs rest predict": caught(lambda: tfs_rest_predict(server, model, {"instances": X.tolist()})),
        "tfs rest metadata": caught(lambda: rest("GET", f"/v1/models/{model}/metadata")),
        "kserve grpc infer": caught(lambda: infer(server.stub, model)),
        "kserve grpc metadata": caught(
            lambda: server.stub.ModelMetadata(kpb.ModelMetadataRequest(name=model), timeout=10)),
        "kserve rest infer": caught(lambda: rest("POST", f"/v2/models/{model}/infer", json.dumps(
            {"inputs": [{"name": "x", "shape": list(X.shape), "datatype": "FP32",
                         "data": X.ravel().tolist()}]}))),
        "kserve rest metadata": caught(lambda: rest("GET", f"/v2/models/{model}")),
        "kserve rest ready": caught(lambda: rest("GET", f"/v2/models/{model}/ready")),
    }


def test_a_model_whose_only_version_failed_names_the_load_error_everywhere(start_tessera, repo):
    broken = repo / "broken"
    (broken / "1").mkdir(parents=True)
    corrupt(repo / "dense" / "1" / "model.pt")(broken / "1")
    write_config(repo / "config.json", [{"name": "broken", "base_path": str(broken)},
                                        {"name": "dense", "base_path": str(repo / "dense")}])
    server = start_tessera("--config_path", str(repo / "config.json"), *POLL)
    listed = versions_by_number(server, "broken")[1]
    assert listed["state"] == "LOADING"
    assert listed["status"]["error_code"] == "UNKNOWN"
    load_error = listed["status"]["error_message"]
    assert load_error.startswith(TORCH_ZIP.format(dir=broken / "1"))
    text = f"Model broken version 1 failed to load: {load_error}"
    answers = failed_everywhere(server, "broken")
    grpc_doors = {door for door in answers if " grpc " in door}
    assert answers == {door: ("UNAVAILABLE" if door in grpc_doors else 503, text)
                       for door in answers}
    # KServe gRPC readiness is an answer without a message.
    assert not server.stub.ModelReady(kpb.ModelReadyRequest(name="broken"), timeout=10).ready
    # Asked for by number, the same; the other model is untouched.
    with pytest.raises(grpc.RpcError) as err:
        infer(server.stub, "broken", version="1")
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.UNAVAILABLE, text)
    assert infer(server.stub)[0] == "2"


# --- base path faults ---------------------------------------------------------

def expect_everywhere(server, model, http_code, grpc_code, text):
    """The model's status and metadata on all four front doors carry `text`."""
    resp = rest_status(server, model)  # TFS REST
    assert (resp.status_code, resp.json()) == (http_code, {"error": text})
    with pytest.raises(grpc.RpcError) as err:  # TFS gRPC
        grpc_status(server, model)
    assert (err.value.code(), err.value.details()) == (grpc_code, text)
    resp = requests.get(f"{server.rest_url}/v2/models/{model}/ready", timeout=10)  # KServe REST
    assert (resp.status_code, resp.json()) == (http_code, {"error": text})
    resp = requests.get(f"{server.rest_url}/v2/models/{model}", timeout=10)
    assert (resp.status_code, resp.json()) == (http_code, {"error": text})
    with pytest.raises(grpc.RpcError) as err:  # KServe gRPC
        server.stub.ModelMetadata(kpb.ModelMetadataRequest(name=model), timeout=10)
    assert (err.value.code(), err.value.details()) == (grpc_code, text)
    with pytest.raises(grpc.RpcError) as err:
        server.stub.ModelReady(kpb.ModelReadyRequest(name=model), timeout=10)
    assert (err.value.code(), err.value.details()) == (grpc_code, text)


def test_missing_base_path_is_named_and_loads_when_it_appears(start_tessera, repo, model_cache):
    ghost = repo / "ghost"
    write_config(repo / "config.json", [{"name": "ghost", "base_path": str(ghost)},
                                        {"name": "dense", "base_path": str(repo / "dense")}])
    server = start_tessera("--config_path", str(repo / "config.json"), *POLL)
    text = f"Model ghost has no version: base path {ghost} does not exist"
    expect_everywhere(server, "ghost", 404, grpc.StatusCode.NOT_FOUND, text)
    with pytest.raises(grpc.RpcError) as err:
        infer(server.stub, "ghost")
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.NOT_FOUND, text)
    # The configured model stays listed in the config aggregate.
    config = requests.get(f"{server.rest_url}/v1/config", timeout=10).json()
    assert config["ghost"] == {"model_version_status": []}
    assert infer(server.stub, "dense")[0] == "2"

    staging = repo.parent / "staging-ghost"
    shutil.copytree(model_cache / "dense" / "1", staging / "1")
    os.rename(staging, ghost)
    # Listed (HTTP 200) as soon as the version is found, LOADING until loaded.
    wait_until(lambda: rest_status(server, "ghost").status_code == 200, what="ghost to be found")
    wait_until(lambda: versions_by_number(server, "ghost")[1]["state"] != "LOADING", timeout=60,
               what="ghost to load")
    assert versions_by_number(server, "ghost")[1]["state"] == "AVAILABLE"
    np.testing.assert_allclose(infer(server.stub, "ghost")[1],
                               torch_reference(ghost / "1" / "model.pt", X)[0], rtol=1e-5, atol=1e-6)


def test_base_path_that_is_a_file_or_empty_is_named(start_tessera, repo):
    (repo / "file").write_text("not a directory")
    (repo / "empty").mkdir()
    write_config(repo / "config.json", [{"name": "file", "base_path": str(repo / "file")},
                                        {"name": "empty", "base_path": str(repo / "empty")}])
    server = start_tessera("--config_path", str(repo / "config.json"), *POLL)
    expect_everywhere(server, "file", 404, grpc.StatusCode.NOT_FOUND,
                      f"Model file has no version: base path {repo / 'file'} is not a directory")
    expect_everywhere(server, "empty", 404, grpc.StatusCode.NOT_FOUND,
                      f"Model empty has no version: base path {repo / 'empty'} has no version directory")


def test_vanished_base_path_is_named_and_the_model_comes_back(start_tessera, repo):
    dense = repo / "dense"
    write_config(repo / "config.json", [{"name": "dense", "base_path": str(dense),
                                         "model_version_policy": {"all": {}}}])
    server = start_tessera("--config_path", str(repo / "config.json"), *POLL)
    assert infer(server.stub)[0] == "2"
    away = repo.parent / "dense-away"
    os.rename(dense, away)
    wait_until(lambda: all(v["state"] == "END" for v in versions_by_number(server).values()),
               what="versions retired")
    cause = f"base path {dense} does not exist"
    text = f"Model dense has no version: {cause}"
    # TFS status: the versions stay listed as END with the cause, not OK.
    for v in (1, 2):
        assert versions_by_number(server)[v] == {
            "version": str(v), "state": "END",
            "status": {"error_code": "NOT_FOUND", "error_message": cause}}
    for s in grpc_status(server, "dense").model_version_status:
        assert s.state == get_model_status_pb2.ModelVersionStatus.END
        assert (s.status.error_code, s.status.error_message) == (5, cause)
    # KServe: ready and metadata name it.
    resp = requests.get(f"{server.rest_url}/v2/models/dense/ready", timeout=10)
    assert (resp.status_code, resp.json()) == (503, {"error": text})
    resp = requests.get(f"{server.rest_url}/v2/models/dense", timeout=10)
    assert (resp.status_code, resp.json()) == (404, {"error": text})
    with pytest.raises(grpc.RpcError) as err:
        server.stub.ModelMetadata(kpb.ModelMetadataRequest(name="dense"), timeout=10)
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.NOT_FOUND, text)
    assert not server.stub.ModelReady(kpb.ModelReadyRequest(name="dense"), timeout=10).ready
    with pytest.raises(grpc.RpcError) as err:
        infer(server.stub)
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.NOT_FOUND, text)

    # Transient: the directory comes back, the next poll loads it again.
    os.rename(away, dense)
    # Versions load one after the other: wait for the latest, the default.
    wait_until(lambda: server.stub.ModelReady(kpb.ModelReadyRequest(name="dense", version="2"),
                                              timeout=10).ready,
               what="dense back")
    assert infer(server.stub)[0] == "2"
    for v in (1, 2):
        assert versions_by_number(server)[v]["status"] == {"error_code": "OK", "error_message": ""}
    np.testing.assert_allclose(infer(server.stub)[1],
                               torch_reference(dense / "2" / "model.pt", X)[0], rtol=1e-5, atol=1e-6)
