#!/bin/sh
# Every public header of the core compiles on its own (a user may include any one slice:
# time.h, feature_spec.h, ...), with the project's warnings as errors. A header that leans on
# another being included first fails here.
#   check_headers_alone.sh CXX SOURCE_DIR GENERATED_DIR
set -eu
CXX=$1
ROOT=$2
GENERATED=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
failed=0
for h in "$ROOT"/core/include/isoscope/*.h "$ROOT"/core/include/isoscope/detail/*.h; do
  rel=${h#"$ROOT/core/include/"}
  printf '#include "%s"\n' "$rel" > "$work/one.cc"
  if ! "$CXX" -std=c++17 -fsyntax-only -Wall -Wextra -Wpedantic -Werror \
      -I"$ROOT/core/include" -I"$GENERATED" "$work/one.cc" 2> "$work/err"; then
    echo "FAIL: $rel does not compile alone:"; head -5 "$work/err"
    failed=$((failed + 1))
  fi
  n=$((n + 1))
done
[ "$n" -gt 10 ] || { echo "FAIL: only $n headers found under $ROOT/core/include"; exit 1; }
[ "$failed" -eq 0 ] || exit 1
echo "$n core headers compile alone"
