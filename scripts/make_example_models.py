#!/usr/bin/python3
"""Writes Tessera's example model repository (TorchScript models).

Usage: /usr/bin/python3 scripts/make_example_models.py OUT_DIR

Layout written (see examples/README.md):

  OUT_DIR/dense/1/model.pt      MLP x FP32 [-1,16] -> y FP32 [-1,4], seed 1,
                                signature embedded in the archive
  OUT_DIR/dense/2/model.pt      same architecture, seed 2 (different outputs)
  OUT_DIR/add_sub/1/model.pt    a, b FP32 [-1,8] -> sum, diff (a tuple);
  OUT_DIR/add_sub/1/signature.json   signature beside the model
  OUT_DIR/int_ops/1/model.pt    x INT64 [-1,4] -> y INT64 = x*3, mask BOOL = x>0
                                (a Dict[str, Tensor]), signature embedded
  OUT_DIR/classifier/1/model.pt image classifier: data FP32 [-1,3,32,32] (NCHW)
                                -> probs FP32 [-1,10] (softmax), signature
                                embedded; served with layout NHWC:NCHW so it
                                takes JPEG/PNG images

Everything is deterministic: weights come from seeded torch.Generators, not
from the global RNG. Importable from tests: make_dense / make_add_sub /
make_int_ops / make_classifier / make_repository build models into any directory, and the
*_reference functions compute the expected outputs for numpy inputs.

Uses only Debian's python3-torch and python3-numpy (run with /usr/bin/python3).
"""

import json
import os
import sys
from typing import Dict, Tuple, Union

import numpy as np
import torch

MODEL_FILE = "model.pt"
SIGNATURE_FILE = "signature.json"

DENSE_IN, DENSE_HIDDEN, DENSE_OUT = 16, 32, 4
ADD_SUB_WIDTH = 8
INT_OPS_WIDTH = 4
# Seed used for each version of the example "dense" model.
DENSE_SEEDS = {1: 1, 2: 2}

DENSE_SIGNATURE = {
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, DENSE_IN]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, DENSE_OUT]}],
}
ADD_SUB_SIGNATURE = {
    "inputs": [
        {"name": "a", "datatype": "FP32", "shape": [-1, ADD_SUB_WIDTH]},
        {"name": "b", "datatype": "FP32", "shape": [-1, ADD_SUB_WIDTH]},
    ],
    "outputs": [
        {"name": "sum", "datatype": "FP32", "shape": [-1, ADD_SUB_WIDTH]},
        {"name": "diff", "datatype": "FP32", "shape": [-1, ADD_SUB_WIDTH]},
    ],
}
INT_OPS_SIGNATURE = {
    "inputs": [{"name": "x", "datatype": "INT64", "shape": [-1, INT_OPS_WIDTH]}],
    "outputs": [
        {"name": "y", "datatype": "INT64", "shape": [-1, INT_OPS_WIDTH]},
        {"name": "mask", "datatype": "BOOL", "shape": [-1, INT_OPS_WIDTH]},
    ],
}


def _seed_weights(module: torch.nn.Module, seed: int, scale: float) -> None:
    """Draws every parameter from N(0, scale²) with a generator seeded by
    `seed` (deterministic, independent of the global RNG); eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * scale)
    module.eval()


class Dense(torch.nn.Module):
    """x -> relu(x @ W1^T + b1) @ W2^T + b2 with weights drawn from `seed`."""

    def __init__(self, seed: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(DENSE_IN, DENSE_HIDDEN)
        self.fc2 = torch.nn.Linear(DENSE_HIDDEN, DENSE_OUT)
        _seed_weights(self, seed, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


CLASSIFIER_SIZE, CLASSIFIER_CLASSES = 32, 10


def classifier_signature(channels: int = 3, nhwc: bool = False, size: int = CLASSIFIER_SIZE):
    """Signature of TinyClassifier: NCHW (or NHWC) input "data", "probs" out."""
    shape = [-1, size, size, channels] if nhwc else [-1, channels, size, size]
    return {
        "inputs": [{"name": "data", "datatype": "FP32", "shape": shape}],
        "outputs": [{"name": "probs", "datatype": "FP32", "shape": [-1, CLASSIFIER_CLASSES]}],
    }


class TinyClassifier(torch.nn.Module):
    """A small image classifier: conv 3x3 -> relu -> global average pool ->
    linear -> softmax over 10 classes. Takes NCHW (or, with nhwc, NHWC)
    pixels in 0..255; works for any image size."""

    def __init__(self, channels: int = 3, nhwc: bool = False, seed: int = 7):
        super().__init__()
        self.nhwc = nhwc
        self.conv = torch.nn.Conv2d(channels, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, CLASSIFIER_CLASSES)
        _seed_weights(self, seed, 0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)
        x = torch.relu(self.conv(x / 255.0))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.softmax(self.fc(x), dim=1)


class AddSub(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return a + b, a - b


class IntOps(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"y": x * 3, "mask": x > 0}


def _save(module: torch.nn.Module, version_dir: str, embedded_signature=None) -> str:
    os.makedirs(version_dir, exist_ok=True)
    path = os.path.join(version_dir, MODEL_FILE)
    extra = {}
    if embedded_signature is not None:
        extra[SIGNATURE_FILE] = json.dumps(embedded_signature)
    torch.jit.save(torch.jit.script(module.eval()), path, _extra_files=extra)
    return path


def make_dense(version_dir: str, seed: int) -> str:
    """Writes version_dir/model.pt (signature embedded); returns its path."""
    return _save(Dense(seed), version_dir, DENSE_SIGNATURE)


def make_add_sub(version_dir: str) -> str:
    """Writes version_dir/model.pt and version_dir/signature.json beside it."""
    path = _save(AddSub(), version_dir)
    with open(os.path.join(version_dir, SIGNATURE_FILE), "w") as f:
        json.dump(ADD_SUB_SIGNATURE, f, indent=2)
        f.write("\n")
    return path


def make_int_ops(version_dir: str) -> str:
    """Writes version_dir/model.pt (signature embedded); returns its path."""
    return _save(IntOps(), version_dir, INT_OPS_SIGNATURE)


def make_classifier(version_dir: str, channels: int = 3, nhwc: bool = False,
                    size: int = CLASSIFIER_SIZE) -> str:
    """Writes a TinyClassifier to version_dir/model.pt; `size` is the H and W
    its signature declares (-1: any). Returns its path."""
    return _save(TinyClassifier(channels, nhwc), version_dir,
                 classifier_signature(channels, nhwc, size))


def make_repository(out_dir: str) -> None:
    """Writes the whole example repository under out_dir."""
    for version, seed in DENSE_SEEDS.items():
        make_dense(os.path.join(out_dir, "dense", str(version)), seed)
    make_add_sub(os.path.join(out_dir, "add_sub", "1"))
    make_int_ops(os.path.join(out_dir, "int_ops", "1"))
    make_classifier(os.path.join(out_dir, "classifier", "1"))


def dense_reference(version_dir_or_seed: Union[str, int], x) -> np.ndarray:
    """Expected "y" for input `x` (array-like, float32 [N,16]).

    `version_dir_or_seed` is either a seed (the module is rebuilt) or a
    version directory holding a model.pt written by make_dense (it is loaded).
    """
    if isinstance(version_dir_or_seed, (int, np.integer)):
        module = Dense(int(version_dir_or_seed))
    else:
        module = torch.jit.load(os.path.join(os.fspath(version_dir_or_seed), MODEL_FILE))
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()


def add_sub_reference(a, b) -> Tuple[np.ndarray, np.ndarray]:
    """Expected ("sum", "diff") for float32 inputs a, b."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return a + b, a - b


def int_ops_reference(x) -> Tuple[np.ndarray, np.ndarray]:
    """Expected ("y" int64, "mask" bool) for int64 input x."""
    x = np.asarray(x, dtype=np.int64)
    return x * 3, x > 0


def main(argv) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir = argv[1]
    make_repository(out_dir)
    for root, _, files in sorted(os.walk(out_dir)):
        for name in sorted(files):
            print(os.path.join(root, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
