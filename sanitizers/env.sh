# Sanitizer run-time options for Tessera's sanitizer and fuzzing builds.
# Source it (`. sanitizers/env.sh`) before running anything built with
# -DTESSERA_SANITIZE or -DTESSERA_FUZZ; scripts/sanitize.sh, scripts/fuzz.sh
# and the fuzz_* ctest tests do. A report in our code stops the process with
# a non-zero exit (halt_on_error, exitcode), so tests and CI fail on it; the
# suppression files beside this one silence only third-party noise, each
# entry with its reason.
_tessera_supp_dir=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
_tessera_symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
if [ -z "$_tessera_symbolizer" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  _tessera_symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
if [ -n "$_tessera_symbolizer" ]; then
  export ASAN_SYMBOLIZER_PATH="$_tessera_symbolizer"
  _tessera_sym=":external_symbolizer_path=$_tessera_symbolizer"
else
  _tessera_sym=""
fi
export ASAN_OPTIONS="halt_on_error=1:exitcode=66:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:suppressions=$_tessera_supp_dir/asan.supp$_tessera_sym"
export LSAN_OPTIONS="suppressions=$_tessera_supp_dir/lsan.supp:print_suppressions=0$_tessera_sym"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=67:print_stacktrace=1:report_error_type=1:suppressions=$_tessera_supp_dir/ubsan.supp$_tessera_sym"
export TSAN_OPTIONS="halt_on_error=1:exitcode=68:second_deadlock_stack=1:history_size=4:suppressions=$_tessera_supp_dir/tsan.supp$_tessera_sym"
unset _tessera_supp_dir _tessera_symbolizer _tessera_sym
