"""examples/config.json as scripts/run-examples.sh serves it: its models,
custom node libraries and pipelines, called as examples/README.md shows."""
import json
import shutil

import numpy as np
import requests

from conftest import BUILD, ROOT, models
from four_doors import kserve_grpc_infer
from test_images import encode, pattern, send_images


def test_example_config_serves_every_model_and_pipeline(start_tessera, tmp_path):
    shutil.copy(ROOT / "examples" / "config.json", tmp_path / "config.json")
    models.make_repository(str(tmp_path / "models"))
    (tmp_path / "lib").mkdir()
    for name in ("add_sub", "dynamic_demultiplex", "image_transformation"):
        shutil.copy(BUILD / "src" / "custom_node" / f"libcustom_node_{name}.so", tmp_path / "lib")
    server = start_tessera("--config_path", str(tmp_path / "config.json"))
    config = requests.get(f"{server.rest_url}/v1/config", timeout=30).json()
    for name, status in config.items():
        assert status["model_version_status"][-1]["state"] == "AVAILABLE", (name, status)
    names = {p["name"] for p in json.loads((ROOT / "examples" / "config.json").read_text())["pipeline_config_list"]}
    assert names <= set(config)

    x = np.ones((1, 16), np.float32)
    x[0, 0] = 2
    dense = models.dense_reference(tmp_path / "models" / "dense" / "2", x)
    out = kserve_grpc_infer(server, "dense_plus_100", array=x, name="x")
    np.testing.assert_allclose(out["y"], dense + 100, rtol=1e-5)
    reply = requests.post(f"{server.rest_url}/v2/models/dense_rows/infer", timeout=30, json={
        "inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": x.ravel().tolist()}]}).json()
    rows = np.array(reply["outputs"][0]["data"], np.float32).reshape(reply["outputs"][0]["shape"])
    assert rows.shape == (2, 1, 4)
    for k in range(2):
        np.testing.assert_allclose(rows[k], models.dense_reference(tmp_path / "models" / "dense" / "2", x + k),
                                   rtol=1e-5, atol=1e-6)

    image = encode(pattern(40, 48, 3, 5), ".jpg")
    probs = kserve_grpc_infer(server, "classify_image", images=[image], name="image")["probs"]
    np.testing.assert_allclose(probs, send_images("kserve_grpc_raw", server, "classifier", [image]),
                               rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
