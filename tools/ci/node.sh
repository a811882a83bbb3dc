#!/bin/sh
# Prints the directory that holds the node and npm the project's npm toolchains run on
# (wasm/panel, tests/deploy), installing them first when needed:
#   PATH=$(tools/ci/node.sh):$PATH
# They are pinned in tools/node/package-lock.json (Node 24 LTS from the npm registry's
# node-linux-<cpu> packages, and npm 11): Debian 12's own Node is 18, which playwright-core,
# happy-dom, @grafana/ui's dependencies and the Kubernetes schema packages no longer support,
# and a machine's own Node (nodesource or other) would make the tests depend on the machine.
# The machine's npm (Debian's `npm`, which the Makefile installs when there is none) is used
# once, to run `npm ci` there; again only when the lockfile changes. Serialised with flock:
# ctest runs the panel and deploy tests in parallel.
set -eu
DIR=$(cd "$(dirname "$0")/../node" && pwd)
# Our own bin directory: Debian's npm 9.2 links no .bin/node for the node-linux-* package.
BIN=$DIR/node_modules/.isoscope-bin
STAMP=$DIR/node_modules/.isoscope-lock
installed() { cmp -s "$DIR/package-lock.json" "$STAMP" 2>/dev/null; }
if ! installed; then
  # The machine's npm on the machine's node, never the pinned ones it is about to replace.
  SYS_PATH=$(printf '%s\n' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd: -)
  if ! PATH=$SYS_PATH command -v npm >/dev/null 2>&1; then
    echo "tools/ci/node.sh: npm not found; install it (apt-get install npm; make test does)" >&2
    exit 1
  fi
  (
    flock 9
    if ! installed; then
      echo "tools/ci/node.sh: npm ci in $DIR (pinned Node and npm)" >&2
      (cd "$DIR" && PATH=$SYS_PATH npm ci --no-audit --no-fund --loglevel=error >&2)
      mkdir -p "$BIN"
      # the one node-linux-<cpu> package npm installed for this machine (optional dependencies)
      for node in "$DIR"/node_modules/node-linux-*/bin/node; do
        ln -sfn "../${node#"$DIR/node_modules/"}" "$BIN/node"
      done
      ln -sfn ../npm/bin/npm-cli.js "$BIN/npm"
      ln -sfn ../npm/bin/npx-cli.js "$BIN/npx"
      cp "$DIR/package-lock.json" "$STAMP"
    fi
  ) 9>"$DIR/.install.lock"
fi
if ! "$BIN/node" --version >/dev/null 2>&1; then
  echo "tools/ci/node.sh: $BIN/node does not run: tools/node pins Node for linux x64 and arm64 only" >&2
  exit 1
fi
echo "$BIN"
