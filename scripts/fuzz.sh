#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) and fuzzes each for SECONDS.
#
#   scripts/fuzz.sh [SECONDS]      default 300 s per harness
#
# Environment:
#   FUZZ_BUILD_DIR  build directory (default build-asan: the ASan+UBSan build
#                   of scripts/sanitize.sh asan, which holds the harnesses
#                   too, so CI compiles the project with clang only once)
#   FUZZ_TARGETS    harness names to run (default: all of fuzz/*_fuzz.cc)
#   FUZZ_JOBS       harnesses fuzzed at once (default: nproc)
#   FUZZ_NO_BUILD=1 run the harnesses already built, do not build
#   FUZZ_WORK       where the growing corpora and crash files go (default
#                   $FUZZ_BUILD_DIR/fuzz-work; seeds come from fuzz/corpus)
#
# Each harness starts from its committed seeds (fuzz/corpus/<name>) plus
# anything a previous run of this script left in FUZZ_WORK. A crash, leak,
# timeout (> 25 s for one input) or out-of-memory (> 2048 MB) is written to
# FUZZ_WORK/<name>/artifacts/ and fails the script; to keep it as a
# regression, copy it to fuzz/regressions/<name>/ (replayed by ctest's
# fuzz_<name> test). Prints one line per harness: runs, coverage, result.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-300}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-asan}
WORK=${FUZZ_WORK:-$BUILD_DIR/fuzz-work}
JOBS=${FUZZ_JOBS:-$(nproc)}
CLANG=${CLANG:-clang++-14}
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a names <<<"$FUZZ_TARGETS"
else
  names=()
  for f in fuzz/*_fuzz.cc; do n=$(basename "$f" _fuzz.cc); names+=("$n"); done
fi

targets=()
for n in "${names[@]}"; do targets+=("${n}_fuzz"); done
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || BUILD_DIR="$BUILD_DIR" \
  CMAKE_ARGS="-DCMAKE_CXX_COMPILER=$CLANG -DCMAKE_C_COMPILER=${CLANG_C:-clang-14} -DTESSERA_SANITIZE=address,undefined -DTESSERA_FUZZ=ON -DTESSERA_BENCH=OFF ${CMAKE_ARGS:-}" \
  scripts/build.sh "${targets[@]}"

. sanitizers/env.sh

run_one() {
  local n=$1 dir="$WORK/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local bin
  bin=$(find "$BUILD_DIR/fuzz" -maxdepth 1 -name "${n}_fuzz" -type f)
  local dict=()
  [ -f "fuzz/dict/$n.dict" ] && dict=(-dict="fuzz/dict/$n.dict")
  set +e
  "$bin" "$dir/corpus" "fuzz/corpus/$n" "${dict[@]}" \
    -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1
  local rc=$?
  set -e
  local runs cov
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  local result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc): $(ls "$dir/artifacts" | tr '\n' ' ')"
  fi
  printf '%-16s %10s runs %6s cov  %s\n' "$n" "${runs:-?}" "${cov:-?}" "$result" >"$dir/summary"
  [ "$rc" -eq 0 ]
}

echo "== fuzz: ${#names[@]} harnesses x ${SECONDS_EACH} s, $JOBS at a time (logs in $WORK/<name>/log)"
pids=()
failed=0
for n in "${names[@]}"; do
  run_one "$n" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$JOBS" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
for n in "${names[@]}"; do cat "$WORK/$n/summary"; done
if [ "$failed" -ne 0 ]; then
  for n in "${names[@]}"; do
    if compgen -G "$WORK/$n/artifacts/*" >/dev/null; then
      echo "---- $n: tail of $WORK/$n/log" >&2
      tail -60 "$WORK/$n/log" >&2
    fi
  done
  echo "fuzz: crashes found (see above)" >&2
  exit 1
fi
echo "fuzz: no crashes"
