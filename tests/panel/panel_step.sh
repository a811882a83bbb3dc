#!/bin/sh
# One step of the Grafana panel's checks (wasm/panel), run by ctest:
#   panel_step.sh deps|build|typecheck|unit|e2e|explain|standalone|demo|bench BUILD_DIR ISOSCOPE
# deps runs `npm ci` from the committed lockfile (again only when the lockfile or Node changed);
# build makes BUILD_DIR/panel/dist (module.js, plugin.json, .wasm, the standalone page) and
# the harness; e2e drives headless Debian Chromium; screenshots land in BUILD_DIR/panel-e2e.
# Every step runs on the Node and npm pinned in tools/node (tools/ci/node.sh), not the machine's.
set -eu
STEP=$1
BUILD=$(cd "$2" && pwd)
ISOSCOPE=$(readlink -f "$3")
NATIVE_BENCH=${4:+$(readlink -f "$4")}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PANEL=$ROOT/wasm/panel
PATH=$("$ROOT/tools/ci/node.sh"):$PATH
export PATH
export ISOSCOPE_WASM_DIR="$BUILD/wasm"
export ISOSCOPE_PANEL_DIST="$BUILD/panel/dist"
cd "$PANEL"
case $STEP in
  deps)
    # --engine-strict: npm refuses any package whose engines exclude the pinned Node; the stamp
    # holds the Node version too, so a new pinned Node re-runs that check.
    stamp=node_modules/.isoscope-lock
    if [ -f "$stamp" ] && { cat package-lock.json; node --version; } | cmp -s - "$stamp"; then
      echo "node_modules is up to date with package-lock.json and node $(node --version)"
    else
      npm ci --engine-strict --no-audit --no-fund
      { cat package-lock.json; node --version; } >"$stamp"
    fi ;;
  build)
    # plugin.json's version is the build's: the binary's (webpack.config.cjs fills it in).
    ISOSCOPE_VERSION=$("$ISOSCOPE" --version | cut -d' ' -f2)
    export ISOSCOPE_VERSION
    npm run --silent build
    node harness/build.mjs "$BUILD/panel/harness"
    ls -l "$ISOSCOPE_PANEL_DIST" ;;
  typecheck) npm run --silent typecheck && echo "tsc: no errors" ;;
  unit) npm test ;;
  e2e)
    ISOSCOPE=$ISOSCOPE PANEL_DIST=$ISOSCOPE_PANEL_DIST HARNESS_JS=$BUILD/panel/harness/harness.js \
      OUT_DIR=$BUILD/panel-e2e node harness/e2e.mjs ;;
  explain)
    ISOSCOPE=$ISOSCOPE PANEL_DIST=$ISOSCOPE_PANEL_DIST HARNESS_JS=$BUILD/panel/harness/harness.js \
      OUT_DIR=$BUILD/panel-e2e node harness/explain_e2e.mjs ;;
  standalone)
    ISOSCOPE=$ISOSCOPE PANEL_DIST=$ISOSCOPE_PANEL_DIST OUT_DIR=$BUILD/panel-e2e \
      node harness/standalone_e2e.mjs ;;
  demo)
    ISOSCOPE=$ISOSCOPE ROOT=$ROOT OUT_DIR=$BUILD/demo-e2e node harness/demo_e2e.mjs ;;
  bench)
    ISOSCOPE=$ISOSCOPE PANEL_DIST=$ISOSCOPE_PANEL_DIST HARNESS_JS=$BUILD/panel/harness/harness.js \
      OUT_DIR=$BUILD/panel-bench BENCH_NATIVE=$NATIVE_BENCH node harness/bench.mjs ;;
  *) echo "panel_step.sh: unknown step $STEP" >&2; exit 2 ;;
esac
