#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit tests (ctest) and
# end-to-end tests (pytest over the wire against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "== unit tests"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300
echo "== end-to-end tests"
TESSERA_BUILD_DIR="$PWD/$BUILD_DIR" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
