#!/usr/bin/python3
"""Writes torchvision image classifiers as ONNX and TorchScript model files.

Usage: /usr/bin/python3 scripts/make_vision_models.py OUT_DIR ARCH [ARCH...]
           [--opset N]... [--torchscript]

For each ARCH (a torchvision.models constructor name, see ARCHS) writes

  OUT_DIR/<ARCH>_opset<N>/1/model.onnx   for each --opset N (default 17)
  OUT_DIR/<ARCH>_torchscript/1/model.pt  with --torchscript

Weights are random (torchvision's own initialisation, weights=None) drawn
after torch.manual_seed(SEED), then BatchNorm statistics are re-estimated on
random batches so that activations neither vanish nor explode (build_model).
Every run writes the same models and tests rebuild the same module to compute
reference outputs. Models are in eval mode.
ONNX files are exported with torch.onnx.export with a dynamic batch
dimension (input "input" FP32 [batch,3,H,W], output "output" FP32
[batch,1000]); TorchScript files are torch.jit.trace'd (the server freezes
them at load).

Tests and the benchmark import it as a module: build_model, input_shape,
export_onnx and export_torchscript.

Uses only Debian's python3-torch and python3-torchvision (/usr/bin/python3).
"""

import argparse
import os
import sys
import warnings

import torch
import torchvision

SEED = 0
INPUT_NAME = "input"
OUTPUT_NAME = "output"
EXPORT_BATCH = 2

# arch -> (constructor keyword arguments, input height = width)
ARCHS = {
    "resnet50": ({}, 224),
    "mobilenet_v3_large": ({}, 224),
    "efficientnet_b0": ({}, 224),
    "densenet121": ({}, 224),
    "squeezenet1_1": ({}, 224),
    "vit_b_16": ({}, 224),
    # Without the auxiliary classifier eval() returns one tensor; the
    # transform_input step (ImageNet weights only) stays off.
    "inception_v3": ({"aux_logits": False, "init_weights": True}, 299),
}


def input_shape(arch: str, batch: int):
    """The [batch, 3, H, W] input shape of `arch`."""
    size = ARCHS[arch][1]
    return [batch, 3, size, size]


def build_model(arch: str) -> torch.nn.Module:
    """The randomly initialised `arch` in eval mode (deterministic), made
    numerically well-conditioned (see _calibrate)."""
    kwargs, _ = ARCHS[arch]
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, arch)(weights=None, **kwargs)
    _calibrate(model, arch)
    return model.eval()


def _calibrate(model: torch.nn.Module, arch: str) -> None:
    """Random initialisation alone leaves some of these networks degenerate:
    activations shrink layer by layer (MobileNetV3's outputs are ~1e-10, so
    float rounding differences between two correct engines show up as a 10%
    relative error), and ViT's classifier head starts at zero (all outputs 0).
    So BatchNorm running statistics are re-estimated on a few random batches
    (every normalised activation has unit variance again) and zero-initialised
    classifier weights are drawn from N(0, 0.02^2)."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() >= 2 and not param.any():
                param.normal_(0.0, 0.02, generator=generator)
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average over the batches below
        model.train()
        for _ in range(2):
            model(torch.randn(input_shape(arch, 4), generator=generator))


def _example_input(arch: str) -> torch.Tensor:
    return torch.zeros(input_shape(arch, EXPORT_BATCH))


# Both exporters run with autograd on: under no_grad, eval-mode transformer
# layers (vit_b_16) take PyTorch's fused fast path, whose
# aten::_native_multi_head_attention neither exporter can write out.


def export_onnx(model: torch.nn.Module, arch: str, path: str, opset: int) -> str:
    """Writes `model` to `path` as ONNX at `opset` with a dynamic batch."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, _example_input(arch), path, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    return path


def export_torchscript(model: torch.nn.Module, arch: str, path: str) -> str:
    """Writes `model` to `path` as a traced TorchScript archive."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(model, _example_input(arch)), path)
    return path


def onnx_dir(out_dir: str, arch: str, opset: int) -> str:
    return os.path.join(out_dir, f"{arch}_opset{opset}")


def torchscript_dir(out_dir: str, arch: str) -> str:
    return os.path.join(out_dir, f"{arch}_torchscript")


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("archs", nargs="+", choices=sorted(ARCHS))
    parser.add_argument("--opset", type=int, action="append",
                        help="ONNX opset to export (repeatable; default 17)")
    parser.add_argument("--torchscript", action="store_true",
                        help="also write a traced TorchScript model")
    args = parser.parse_args(argv[1:])
    for arch in args.archs:
        model = build_model(arch)
        for opset in args.opset or [17]:
            print(export_onnx(model, arch,
                              os.path.join(onnx_dir(args.out_dir, arch, opset), "1", "model.onnx"),
                              opset))
        if args.torchscript:
            print(export_torchscript(model, arch,
                                     os.path.join(torchscript_dir(args.out_dir, arch), "1",
                                                  "model.pt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
