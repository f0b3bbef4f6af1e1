#!/usr/bin/env bash
# Sanitizer builds of Tessera (docs/reliability.md, "Sanitizers").
#
#   scripts/sanitize.sh asan  clang ASan+UBSan build in build-asan (which also
#                             holds the fuzz harnesses), then every unit test
#                             and the end-to-end tests against its binary
#   scripts/sanitize.sh tsan  clang TSan build in build-tsan of the threaded
#                             serving/scheduler/manager/transport unit tests,
#                             then those tests
#
# Environment:
#   SANITIZE_CTEST_EXCLUDE  ctest -E regex of unit tests to skip (asan;
#                           default: onnx_conformance, and the tests with a
#                           known report listed in docs/reliability.md)
#   SANITIZE_E2E            pytest arguments for the e2e stage (asan; default
#                           tests/e2e; "none" skips it)
#   SANITIZE_TARGETS        ninja targets to build instead of the default set
# Any sanitizer report fails the run (sanitizers/env.sh). Exit 0 only when
# everything built and passed with no report.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-asan}
CLANG=${CLANG:-clang++-14}
JOBS=${JOBS:-$(nproc)}
now() { date +%s; }
stage_start=$(now)
stage() {  # prints how long the previous stage took
  local t; t=$(now)
  echo "== sanitize $MODE: $1 (previous stage $((t - stage_start)) s)"
  stage_start=$t
}

case "$MODE" in
  asan)
    export BUILD_DIR=${BUILD_DIR:-build-asan}
    export CMAKE_ARGS="-DCMAKE_CXX_COMPILER=$CLANG -DCMAKE_C_COMPILER=${CLANG_C:-clang-14} -DTESSERA_SANITIZE=address,undefined -DTESSERA_FUZZ=ON -DTESSERA_BENCH=OFF ${CMAKE_ARGS:-}"
    ;;
  tsan)
    export BUILD_DIR=${BUILD_DIR:-build-tsan}
    export CMAKE_ARGS="-DCMAKE_CXX_COMPILER=$CLANG -DCMAKE_C_COMPILER=${CLANG_C:-clang-14} -DTESSERA_SANITIZE=thread -DTESSERA_BENCH=OFF ${CMAKE_ARGS:-}"
    ;;
  *)
    echo "usage: $0 [asan|tsan]" >&2
    exit 2
    ;;
esac

# The TSan subset: unit tests of the code that runs threads of its own
# (scheduler, model manager, reaper, gRPC and HTTP servers, router over HTTP,
# the gRPC services' completion paths). None of them loads libtorch.
TSAN_TESTS=(serving_test transport_test http_server_test frontend_http_test kserve_grpc_test tfs_grpc_test)

stage "build ($BUILD_DIR)"
if [ -n "${SANITIZE_TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  scripts/build.sh $SANITIZE_TARGETS
elif [ "$MODE" = tsan ]; then
  scripts/build.sh "${TSAN_TESTS[@]}"
else
  scripts/build.sh
fi

. sanitizers/env.sh

if [ "$MODE" = tsan ]; then
  stage "unit tests (TSan subset)"
  # ctest names tests Suite.Case (gtest_discover_tests): run the binaries.
  for t in "${TSAN_TESTS[@]}"; do
    bin=$(find "$BUILD_DIR/src" -type f -name "$t" -perm -u+x | head -1)
    echo "-- $t"
    "$bin" --gtest_brief=1
  done
  stage "done"
  exit 0
fi

# onnx_conformance: 891 ONNX node tests through libtorch, minutes under ASan
# and almost all of it uninstrumented libtorch; the gcc build runs it.
# JsonReaderTest.FuzzedDocumentsAgreeWithRapidJson: its reference parser,
# RapidJSON's full-precision strtod (used by no production code), calls
# __builtin_clzll(0) in DiyFp::Normalize; clang 14's UBSan does not let
# that check be suppressed.
DEFAULT_EXCLUDE='^(onnx_conformance|JsonReaderTest\.FuzzedDocumentsAgreeWithRapidJson)$'
stage "unit tests and fuzz corpus replay (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 900 \
      -E "${SANITIZE_CTEST_EXCLUDE:-$DEFAULT_EXCLUDE}"

E2E=${SANITIZE_E2E:-tests/e2e}
if [ "$E2E" != none ]; then
  stage "end-to-end tests against the ASan binary"
  logs="$PWD/$BUILD_DIR/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  # Reports of server processes go to files too, so a report in a server
  # whose exit code no test looks at still fails the run.
  export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$logs/asan"
  export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$logs/ubsan"
  status=0
  # shellcheck disable=SC2086
  TESSERA_BUILD_DIR="$PWD/$BUILD_DIR" /usr/bin/python3 -m pytest -q -p no:cacheprovider $E2E || status=$?
  if compgen -G "$logs/*" >/dev/null; then
    echo "sanitizer reports from server processes:" >&2
    cat "$logs"/* >&2
    status=1
  fi
  [ "$status" -eq 0 ] || exit "$status"
fi
stage "done"
