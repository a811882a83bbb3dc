#!/bin/sh
# Builds the core for WebAssembly with Debian's Emscripten (package emscripten, em++ 3.1.6):
#   wasm/build.sh [OUT_DIR]      (default build/wasm; make test calls it through CMake)
# Output: OUT_DIR/isoscope_core.mjs (ES module, createIsoscopeModule) + isoscope_core.wasm.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/wasm}
# em++ links at -O1+ run acorn through node; Debian installs it under /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs
if ! command -v emcmake >/dev/null 2>&1; then
  echo "wasm/build.sh: emcmake not found; apt-get install emscripten (make test does)" >&2
  exit 1
fi
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  # emcmake sets node --experimental-wasm-threads as the test emulator, which Node 20 refuses.
  emcmake cmake -S "$ROOT/wasm" -B "$OUT" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node" >/dev/null
fi
cmake --build "$OUT" -j"${JOBS:-2}"
