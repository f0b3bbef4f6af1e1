#!/usr/bin/env bash
# Installs ONNX Runtime's CPU build for the benchmarks (bench/ort/node_modules):
# npm's onnxruntime-node ships libonnxruntime.so inside the package. Its
# postinstall would download GPU files; ONNXRUNTIME_NODE_INSTALL=skip turns
# that off, so this works offline from the npm registry alone. Not a runtime
# dependency of Tessera.
# Needs node and npm (Debian: nodejs, npm).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/onnxruntime-node ] && exit 0
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --no-save
