"""Real ONNX models: torchvision classifiers exported by python3-torch at
several opsets, served by the real binary, queried over KServe v2 gRPC and
checked against the same module run by torch (eval mode).

Weights are torchvision's random initialisation under a fixed seed
(scripts/make_vision_models.py); no download. Each model is exported with a
dynamic batch dimension and queried with batch 2 (the export batch) and
batch 3 (only a dynamic dimension accepts it).

Matrix. The default run covers every architecture once and every opset at
least once (DEFAULT_MATRIX); the other architecture/opset pairs are skipped.
Run all of them with

    TESSERA_ONNX_FULL_MATRIX=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/e2e/test_onnx_models.py

Exports take ~1 s (squeezenet) to ~2 min (vit_b_16) each on 2 cores;
TESSERA_MODEL_CACHE=<dir> keeps them in <dir> (keyed by the torch version and
the model script's content) and reuses them on the next run.
"""
import hashlib
import os
import pathlib
import shutil

import numpy as np
import pytest
import torch

from conftest import Tessera, kpb, output_array, raw_request, write_config
import make_vision_models as vision

OPSETS = (11, 13, 17)
ARCHS = tuple(vision.ARCHS)
# Every architecture once, every opset at least once; the heavier exports
# (resnet50, vit_b_16, inception_v3) at the opset torch exports fastest.
DEFAULT_MATRIX = {
    ("resnet50", 17), ("mobilenet_v3_large", 13), ("efficientnet_b0", 11),
    ("densenet121", 13), ("squeezenet1_1", 11), ("vit_b_16", 17), ("inception_v3", 17),
}
FULL_MATRIX = os.environ.get("TESSERA_ONNX_FULL_MATRIX", "") not in ("", "0")
BATCHES = (vision.EXPORT_BATCH, 3)
# max |served - torch| over max |torch|, per output.
RELATIVE_TOLERANCE = 1e-4
LOAD_TIMEOUT_S = 1200


def selected(arch, opset):
    return FULL_MATRIX or (arch, opset) in DEFAULT_MATRIX


SELECTED = [(a, o) for a in ARCHS for o in OPSETS if selected(a, o)]
MATRIX = [pytest.param(a, o, id=f"{a}-opset{o}",
                       marks=() if selected(a, o) else pytest.mark.skip(
                           reason="set TESSERA_ONNX_FULL_MATRIX=1 to run every opset"))
          for a in ARCHS for o in OPSETS]


def model_name(arch, opset):
    return f"{arch}_opset{opset}"


def model_input(arch, batch):
    """Random FP32 images for `arch`, the same in every run."""
    rng = np.random.default_rng(batch)
    return rng.standard_normal(vision.input_shape(arch, batch)).astype(np.float32)


def export_dir(tmp_path_factory):
    """Where exports live: TESSERA_MODEL_CACHE (kept) or a session tmp dir."""
    cache = os.environ.get("TESSERA_MODEL_CACHE")
    if not cache:
        return tmp_path_factory.mktemp("onnx_exports")
    # Keyed by what decides the files: torch's version and the model script.
    script = hashlib.sha256(pathlib.Path(vision.__file__).read_bytes()).hexdigest()[:12]
    path = pathlib.Path(cache) / f"vision-torch{torch.__version__}-{script}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_once(model, arch, opset, exports):
    """The exported model file, written unless already there."""
    path = exports / model_name(arch, opset) / "model.onnx"
    if not path.exists():
        tmp = path.with_suffix(".onnx.tmp")
        vision.export_onnx(model, arch, str(tmp), opset)
        os.replace(tmp, path)
    return path


def link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Every selected model in one repository behind one server. Yields
    (server, references, export_errors): references[arch][batch] is torch's
    output for model_input(arch, batch); export_errors[name] says why a model
    could not be exported (its tests fail, the others run)."""
    exports = export_dir(tmp_path_factory)
    root = tmp_path_factory.mktemp("onnx_repo")
    references, export_errors, served_names = {}, {}, []
    for arch in sorted({a for a, _ in SELECTED}):
        model = vision.build_model(arch)
        with torch.no_grad():
            references[arch] = {b: model(torch.from_numpy(model_input(arch, b))).numpy()
                                for b in BATCHES}
        for opset in [o for a, o in SELECTED if a == arch]:
            name = model_name(arch, opset)
            try:
                path = export_once(model, arch, opset, exports)
            except Exception as e:  # the exporter raises many types
                export_errors[name] = f"{type(e).__name__}: {e}"
                continue
            (root / name / "1").mkdir(parents=True)
            link_or_copy(path, root / name / "1" / "model.onnx")
            served_names.append(name)
        del model
    write_config(root / "config.json", [{"name": n, "base_path": n} for n in served_names])
    server = Tessera(["--config_path", str(root / "config.json")], root).start(
        timeout=LOAD_TIMEOUT_S)
    yield server, references, export_errors
    assert server.stop() == 0, server.logs()


def require_ready(served, name):
    server, _, export_errors = served
    if name in export_errors:
        pytest.fail(f"torch.onnx.export failed for {name}: {export_errors[name]}")
    ready = server.stub.ModelReady(kpb.ModelReadyRequest(name=name)).ready
    if not ready:
        lines = [l for l in server.logs().splitlines() if name in l]
        pytest.fail(f"{name} is not ready; server log:\n" + "\n".join(lines[-10:]))


def relative_error(actual, expected):
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


@pytest.mark.parametrize("arch,opset", MATRIX)
def test_metadata_from_graph(served, arch, opset):
    server = served[0]
    name = model_name(arch, opset)
    require_ready(served, name)
    md = server.stub.ModelMetadata(kpb.ModelMetadataRequest(name=name))
    assert md.platform == "onnx_onnxv1"
    image = [-1] + vision.input_shape(arch, 1)[1:]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [
        (vision.INPUT_NAME, "FP32", image)]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [
        (vision.OUTPUT_NAME, "FP32", [-1, 1000])]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("arch,opset", MATRIX)
def test_outputs_match_torch(served, arch, opset, batch):
    server, references, _ = served
    name = model_name(arch, opset)
    require_ready(served, name)
    x = model_input(arch, batch)
    response = server.stub.ModelInfer(
        raw_request(name, {vision.INPUT_NAME: x}, {vision.INPUT_NAME: "FP32"}), timeout=120)
    actual = output_array(response, vision.OUTPUT_NAME)
    expected = references[arch][batch]
    assert actual.shape == expected.shape == (batch, 1000)
    assert np.all(np.isfinite(actual))
    assert relative_error(actual, expected) <= RELATIVE_TOLERANCE, (
        f"max abs diff {np.max(np.abs(actual - expected)):.3g}, "
        f"max abs {np.max(np.abs(expected)):.3g}")
