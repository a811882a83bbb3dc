#!/bin/sh
# The core must stay pure (no I/O, clocks, threads, process state) so that it builds for
# WebAssembly and behaves the same everywhere. Fails on any include or call that breaks that.
set -eu
cd "$1/core"
pattern='#include <(fstream|iostream|thread|chrono|mutex|atomic|filesystem|ctime|random_device|unistd\.h|sys/)|std::(cout|cerr|thread|chrono|mutex|random_device)|[^_a-z](fopen|printf|puts|getenv|time|rand|srand|clock)\('
if grep -rEn "$pattern" include src; then
  echo "core purity check failed: the lines above do I/O, read a clock or use threads" >&2
  exit 1
fi
echo "core is pure: $(find include src -name '*.h' -o -name '*.cc' | wc -l) files checked"
