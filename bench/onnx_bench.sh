#!/usr/bin/env bash
# Makes the models onnx_bench compares (torchvision ResNet-50 and
# MobileNetV3-large: a traced TorchScript archive and an ONNX export of each,
# random weights from a fixed seed) with Debian's python3-torch, then runs
# the benchmark once per intra-op thread count.
#
# Usage: bench/onnx_bench.sh [--short] [--bench BINARY] [--models DIR]
#                            [--threads "1 2"] [-- extra onnx_bench flags]
#   --short    MobileNetV3-large only, two rounds (a smoke run for ctest)
#   --bench    default: build/bench/onnx_bench
#   --models   where model files are written and reused (default:
#              build/bench/onnx_bench_models); delete it to re-export
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=build/bench/onnx_bench
MODELS=build/bench/onnx_bench_models
ARCHS=(resnet50 mobilenet_v3_large)
THREADS="1 2"
OPSET=17
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) ARCHS=(mobilenet_v3_large); THREADS=1; EXTRA+=(--short) ;;
    --bench) BENCH=$2; shift ;;
    --models) MODELS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --) shift; EXTRA+=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

missing=()
for arch in "${ARCHS[@]}"; do
  [ -f "$MODELS/${arch}_torchscript/1/model.pt" ] &&
    [ -f "$MODELS/${arch}_opset${OPSET}/1/model.onnx" ] || missing+=("$arch")
done
if [ ${#missing[@]} -gt 0 ]; then
  /usr/bin/python3 scripts/make_vision_models.py "$MODELS" "${missing[@]}" \
    --opset "$OPSET" --torchscript
fi

arch_flags=()
for arch in "${ARCHS[@]}"; do arch_flags+=(--arch "$arch"); done
for threads in $THREADS; do
  "$BENCH" --models "$MODELS" "${arch_flags[@]}" --opset "$OPSET" --threads "$threads" \
    "${EXTRA[@]}"
done
