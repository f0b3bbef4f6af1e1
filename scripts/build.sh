#!/usr/bin/env bash
# Configures and builds Tessera into ${BUILD_DIR:-build} (Release-like, with
# ccache when present). Usage: scripts/build.sh [extra ninja targets]
#
# ccache keys on paths relative to the checkout (CCACHE_BASEDIR, no working
# directory in the hash), so two checkouts of the same sources on one machine
# share compiled objects.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
ninja -C "$BUILD_DIR" -j"$JOBS" "$@"
