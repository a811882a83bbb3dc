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
# A build directory configured from wasm/ alone (before the core's target was shared) is
# configured again from the top level.
if [ -f "$OUT/CMakeCache.txt" ] &&
  ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT" "$OUT/CMakeCache.txt"; then
  rm -rf "$OUT/CMakeCache.txt" "$OUT/CMakeFiles"
fi
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  # The top-level CMakeLists builds the core's target and wasm/ when EMSCRIPTEN is set.
  # emcmake sets node --experimental-wasm-threads as the test emulator, which Node 20 refuses.
  emcmake cmake -S "$ROOT" -B "$OUT" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node" >/dev/null
fi
cmake --build "$OUT" -j"${JOBS:-2}"
