#!/usr/bin/env bash
# Configures and builds Tessera into ${BUILD_DIR:-build} (Release-like, with
# ccache when present). Usage: scripts/build.sh [extra ninja targets]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD_DIR" -j"$JOBS" "$@"
