#!/bin/bash
# The Kubernetes manifests, offline (there is no cluster): schema and wiring checks by
# check_manifests.mjs (npm packages from the committed package-lock.json, installed with
# `npm ci` on first use), then the real tools on what the manifests carry: `isoscope
# check-config` on the ConfigMap's isoscope.yml, `promtool check rules` on the PrometheusRule's
# groups, `promtool check config` on scrape_config.example.yml.
#   check_manifests.sh ISOSCOPE
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEPLOY=$ROOT/native/deploy/kubernetes
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# node and npm: those pinned in tools/node (the schema packages need Node >= 22).
PATH=$("$ROOT/tools/ci/node.sh"):$PATH || { echo "FAIL: tools/ci/node.sh"; exit 1; }
export PATH
command -v promtool >/dev/null || { echo "FAIL: promtool not found (Debian's prometheus)"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-deploy.XXXXXX")
trap 'rm -rf "$W"' EXIT

# npm ci again only when the lockfile or Node changed since the last install; --engine-strict:
# npm refuses any package whose engines exclude this Node.
stamp() { cat "$HERE/package-lock.json"; node --version; }
if ! stamp | cmp -s - "$HERE/node_modules/.isoscope-lock" 2>/dev/null; then
  (cd "$HERE" && npm ci --engine-strict --no-audit --no-fund --loglevel=error >"$W/npm.log" 2>&1) &&
    stamp >"$HERE/node_modules/.isoscope-lock" ||
    { echo "FAIL: npm ci in $HERE"; cat "$W/npm.log"; exit 1; }
fi

node "$HERE/check_manifests.mjs" "$DEPLOY" "$W" >"$W/node.out" 2>&1
rc=$?
sed 's/^/  /' "$W/node.out"
[ $rc = 0 ] && ok || bad "schema and wiring checks (above)"
# The counts of the node script count here too.
n_ok=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$W/node.out")
[ "${n_ok:-0}" -ge 100 ] && ok || bad "the node script ran its checks (${n_ok:-none})"

"$ISOSCOPE" check-config --config "$W/isoscope.yml" >"$W/check.out" 2>&1 && ok ||
  { bad "isoscope check-config on the ConfigMap's isoscope.yml"; sed 's/^/  | /' "$W/check.out"; }
promtool check rules "$W/rules.yml" >"$W/rules.out" 2>&1 && grep -q "SUCCESS: 4 rules found" "$W/rules.out" && ok ||
  { bad "promtool check rules on the PrometheusRule"; sed 's/^/  | /' "$W/rules.out"; }
promtool check config "$DEPLOY/scrape_config.example.yml" >"$W/scrape.out" 2>&1 && ok ||
  { bad "promtool check config scrape_config.example.yml"; sed 's/^/  | /' "$W/scrape.out"; }

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
