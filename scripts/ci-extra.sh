#!/usr/bin/env bash
# CI stages after the normal build and tests (scripts/test.sh): sanitizer
# builds and short fuzzing runs. docs/reliability.md ("What CI runs") lists
# what each stage runs and how long it took.
#
#   TESSERA_CI_STAGES="asan fuzz tsan"   the default; any subset, in any order
#     asan  clang ASan+UBSan build (build-asan, also holds the fuzz
#           harnesses): unit tests, fuzz corpus + regression replay (ctest),
#           then the end-to-end subset TESSERA_CI_ASAN_E2E (pytest
#           arguments; "none" skips it)
#     fuzz  every harness for TESSERA_CI_FUZZ_SECONDS (default 20) from its
#           committed seeds (reuses build-asan)
#     tsan  clang TSan build (build-tsan) of the threaded unit tests, run
#   TESSERA_CI_STAGES=none skips them all.
#
# Exit status: non-zero when any stage fails (a test, a sanitizer report, a
# fuzz crash). The stages run in the order given and stop at the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES=${TESSERA_CI_STAGES:-asan fuzz tsan}
[ "$STAGES" = none ] && { echo "ci-extra: no stages"; exit 0; }
# Every e2e file but the ONNX model matrix (minutes of uninstrumented
# libtorch), the batching timings, and the operations tests (real nginx and
# Prometheus, restarts, drain timings, deploy files), which the gcc build runs.
ASAN_E2E=${TESSERA_CI_ASAN_E2E:-tests/e2e --ignore=tests/e2e/test_onnx_models.py --ignore=tests/e2e/test_batching.py \
  --ignore=tests/e2e/test_replicas.py --ignore=tests/e2e/test_prometheus.py --ignore=tests/e2e/test_drain.py \
  --ignore=tests/e2e/test_deploy.py --ignore=tests/e2e/test_grafana_dashboard.py}
FUZZ_SECONDS=${TESSERA_CI_FUZZ_SECONDS:-20}

for stage in $STAGES; do
  start=$(date +%s)
  echo "==== ci-extra: stage $stage"
  case "$stage" in
    asan) SANITIZE_E2E="$ASAN_E2E" scripts/sanitize.sh asan ;;
    fuzz) scripts/fuzz.sh "$FUZZ_SECONDS" ;;
    tsan) scripts/sanitize.sh tsan ;;
    *) echo "ci-extra: unknown stage '$stage' (asan, fuzz, tsan)" >&2; exit 2 ;;
  esac
  echo "==== ci-extra: stage $stage passed in $(( $(date +%s) - start )) s"
done
