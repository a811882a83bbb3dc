#!/bin/sh
# The ASan + UBSan run of make test: configures BUILD_DIR with -DISOSCOPE_SANITIZE=ON, builds
# it, and runs the unit, corpus-replay, CLI and e2e tests there (not the style checks: same
# sources). Every sanitizer report goes to a file under BUILD_DIR/sanitizer-reports, so a report
# from a background daemon or from a command a test expects to fail is not lost: the run fails
# when any test fails or when any report file exists.
# Usage: sanitize_test.sh BUILD_DIR JOBS [extra cmake flags...]
set -u
build=$1
jobs=$2
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
# clang: its runtime writes UBSan reports to log_path as well (GCC 12's libubsan prints them to
# stderr only, where a background daemon's report would be lost). -O2 -g: ASan at -O0 makes
# the e2e training runs several times slower (past their timeouts).
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$build/CMakeCache.txt"; then
  rm -rf "$build"  # configured with another compiler: CMake cannot switch in place
fi
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DISOSCOPE_BUILD_TESTS=ON \
  -DISOSCOPE_SANITIZE=ON "$@" >/dev/null || exit 1
cmake --build "$build" -j"$jobs" || exit 1
reports=$(cd "$build" && pwd)/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# detect_leaks: LeakSanitizer too. halt_on_error + -fno-sanitize-recover=all: the first report
# ends the process with exit code 86, which no test treats as an expected failure.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=86"
export LSAN_OPTIONS="exitcode=86"
(cd "$build" && ctest --output-on-failure -j"$jobs" -LE 'Benchmark' -E '^style\.')
rc=$?
found=$(find "$reports" -type f | wc -l)
if [ "$found" -ne 0 ]; then
  echo "sanitizer reports ($found files in $reports):"
  for f in "$reports"/*; do
    echo "== $f"
    head -40 "$f"
  done
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
echo "sanitizers: ASan + UBSan + LSan, no reports"
