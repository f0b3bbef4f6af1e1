#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit tests (ctest),
# end-to-end tests (pytest over the wire against the real binary), then the
# sanitizer and fuzzing stages (scripts/ci-extra.sh; docs/reliability.md).
# Extra arguments go to pytest and skip the extra stages unless
# TESSERA_CI_STAGES names them; TESSERA_CI_STAGES=none skips them always.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "== unit tests"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300
echo "== end-to-end tests"
TESSERA_BUILD_DIR="$PWD/$BUILD_DIR" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
if [ $# -gt 0 ] && [ -z "${TESSERA_CI_STAGES:-}" ]; then
  echo "== sanitizer and fuzz stages skipped (pytest arguments given)"
  exit 0
fi
echo "== sanitizer and fuzz stages"
env -u BUILD_DIR scripts/ci-extra.sh   # its own build dirs (build-asan, build-tsan)
