#!/bin/sh
# Fails when any tracked C++ file differs from .clang-format's layout.
set -eu
cd "$1"
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find core native tests tools -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -w) files formatted"
