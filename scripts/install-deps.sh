#!/usr/bin/env bash
# Installs the Debian packages Tessera needs to build, test and benchmark.
# Idempotent: packages already present are left alone.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev
  # oneDNN and its ideep wrapper, libtorch's own, for the fused convolutions
  # (src/backend/torch/conv_fusion.h).
  libdnnl-dev libideep-dev
  # libtorch's Linear/matmul call the system BLAS; Debian's default is the
  # unoptimised reference one. The OpenMP build honours each worker's thread
  # count (docs/performance.md).
  libopenblas0-openmp
  libonnx-dev libonnx-testdata
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libssl-dev openssl rapidjson-dev libspdlog-dev libfmt-dev libcxxopts-dev
  zlib1g-dev
  libopencv-imgcodecs-dev libopencv-imgproc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev  # json_bench's reference reader only (bench/README.md)
  python3-grpcio python3-protobuf python3-numpy python3-requests
  python3-pytest python3-torch python3-torchvision python3-onnx python3-opencv
  nghttp2-client wrk
  # perf, to profile the engine (docs/performance.md).
  linux-perf
  # Operations tests (docs/operations.md): a real Prometheus scraping /metrics
  # (promtool checks the exposition), nginx in front of two replicas, and
  # PyYAML to read the deploy/ manifests.
  prometheus nginx python3-yaml
  # Sanitizer and fuzzing builds (docs/reliability.md): clang with the
  # sanitizer/libFuzzer runtimes, and llvm-symbolizer for their stacks.
  clang-14 libclang-rt-14-dev llvm-14
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
