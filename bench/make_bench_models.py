#!/usr/bin/python3
"""Writes the benchmark's model repository: traced TorchScript with random
weights (python3-torch, python3-torchvision; nothing is downloaded).

  tiny/1/model.pt         y = x + 1 on FP32 [-1, 16]
  mobilenet_v2/1/model.pt torchvision mobilenet_v2, FP32 [-1, 3, 224, 224] -> [-1, 1000]
  mobilenet_v3/1/model.pt torchvision mobilenet_v3_large, same shapes
  resnet50/1/model.pt     torchvision resnet50, same shapes

Usage: make_bench_models.py OUT_DIR [--only tiny,mobilenet_v3]
Models already present are kept."""
import argparse
import json
import os

import torch

SIGNATURE_FILE = "signature.json"
IMAGE_SIGNATURE = {
    "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 224, 224]}],
    "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 1000]}],
}
TINY_SIGNATURE = {
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 16]}],
}


class AddOne(torch.nn.Module):
    def forward(self, x):
        return x + 1


def image_model(name):
    import torchvision
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None)


MODELS = {
    "tiny": (lambda: AddOne(), torch.zeros(1, 16), TINY_SIGNATURE),
    "mobilenet_v2": (lambda: image_model("mobilenet_v2"), torch.zeros(1, 3, 224, 224),
                     IMAGE_SIGNATURE),
    "mobilenet_v3": (lambda: image_model("mobilenet_v3_large"), torch.zeros(1, 3, 224, 224),
                     IMAGE_SIGNATURE),
    "resnet50": (lambda: image_model("resnet50"), torch.zeros(1, 3, 224, 224), IMAGE_SIGNATURE),
}


def save(out_dir, name):
    path = os.path.join(out_dir, name, "1", "model.pt")
    if os.path.exists(path):
        return path
    make, example, signature = MODELS[name]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        traced = torch.jit.trace(make().eval(), example)
    tmp = path + ".tmp"
    torch.jit.save(traced, tmp, _extra_files={SIGNATURE_FILE: json.dumps(signature)})
    os.replace(tmp, path)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--only", default=",".join(MODELS))
    args = parser.parse_args()
    for name in args.only.split(","):
        print(save(args.out_dir, name))


if __name__ == "__main__":
    main()
