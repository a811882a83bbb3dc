#!/bin/bash
# Every command shown in docs/*.md runs here, and the figures the prose quotes are compared
# with the output that produces them (figures.tsv), so the docs cannot rot.
#  - A ```sh block runs. All the sh blocks of one page run in order in one bash (set -euo
#    pipefail), in a fresh temp dir holding links to the repo's tools/ and native/, with the
#    tested `isoscope` first on PATH. Any failing command fails the page.
#  - A page with the line <!-- doctest: prometheus --> gets the real Prometheus of the e2e tests
#    (tests/e2e/prom_fixture.sh: 15 days of latency_p95, error_rate, cpu_throttle for jobs
#    checkout and payments, ending 2026-01-01T00:00:00Z) as PROM_URL.
#  - A ```sh cluster block (kubectl: there is no cluster here) is NOT run; every path it names
#    (-k DIR, -f FILE) must exist in the repo, and kubectl must be the only command.
#  - Any other fence that holds commands (bash, shell, console, or sh with another tag) fails,
#    so no command can hide from this test.
#   run_docs.sh ISOSCOPE [PYTHON3]
set -u
ISOSCOPE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
BIN=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-docbin.XXXXXX")
ln -s "$ISOSCOPE" "$BIN/isoscope"
ln -s "$PY" "$BIN/python3"  # Debian's, with scikit-learn, whatever python3 is first on PATH
PROM_STARTED=""
cleanup_all() {
  rm -rf "$BIN"
  [ -n "$PROM_STARTED" ] && prom_fixture_cleanup
}
trap cleanup_all EXIT

# blocks FILE TAG: the fenced blocks with exactly this info string, each followed by a line
# "#--- end of block N (line L)".
blocks() {
  awk -v tag="$2" '
    /^```/ {
      if (!inside) { inside = 1; info = substr($0, 4); start = NR; n++; next }
      inside = 0
      if (info == tag) printf "#--- end of block %d (line %d)\n", n, start
      next
    }
    inside && info == tag { print }' "$1"
}

pages=0
for page in "$ROOT"/docs/*.md; do
  name=$(basename "$page")
  pages=$((pages + 1))
  # Fences other than sh / sh cluster / the plain data languages may not hold commands.
  others=$(awk '/^```/ { if (!inside) { inside = 1; info = substr($0, 4); if (info != "sh" && info != "sh cluster" && info !~ /^(yaml|text|json|promql|csv|python)$/) print NR ": ```" info } else inside = 0 }' "$page")
  [ -z "$others" ] && ok || bad "$name: fences that are neither sh, sh cluster nor data: $others"

  # kubectl blocks: paths exist.
  while IFS= read -r line; do
    case "$line" in "#--- end"* | "" | "#"*) continue ;; esac
    [ "${line%% *}" = kubectl ] || { bad "$name: a sh cluster line that is not kubectl: $line"; continue; }
    for p in $(echo "$line" | grep -oE -- '(-k|-f) [^ ]+' | awk '{ print $2 }'); do
      [ -e "$ROOT/$p" ] && ok || bad "$name: kubectl path $p does not exist"
    done
  done < <(blocks "$page" "sh cluster")

  script=$(blocks "$page" sh)
  [ -z "$script" ] && continue
  W=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-doc.XXXXXX")
  ln -s "$ROOT/tools" "$W/tools"
  ln -s "$ROOT/native" "$W/native"
  if grep -q '^<!-- doctest: prometheus -->' "$page" && [ -z "$PROM_STARTED" ]; then
    # shellcheck source=../e2e/prom_fixture.sh
    source "$ROOT/tests/e2e/prom_fixture.sh"
    prom_fixture_start 15 60 || { bad "$name: Prometheus fixture"; continue; }
    trap cleanup_all EXIT
    PROM_STARTED=1
  fi
  {
    echo 'set -euo pipefail'
    # Leaves no daemon behind: every background job of the page is stopped at its end.
    echo 'trap '"'"'rc=$?; for p in $(jobs -p); do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; exit $rc'"'"' EXIT'
    echo "$script"
  } >"$W/.doc.sh"
  t0=$SECONDS
  if (cd "$W" && PATH="$BIN:$PATH" PROM_URL="${PROM_URL:-}" bash "$W/.doc.sh" >"$W/.doc.out" 2>&1); then
    ok
    echo "ok $name: $(grep -c '^#--- end of block' "$W/.doc.sh") blocks ran ($((SECONDS - t0)) s)"
  else
    bad "$name: a command failed; the page's output ends with:"
    echo "  (block markers: $(grep -n '^#--- end of block' "$W/.doc.sh" | tr '\n' ' '))"
    tail -25 "$W/.doc.out" | sed 's/^/  | /'
  fi
  rm -rf "$W"
done
[ "$pages" -ge 7 ] && ok || bad "expected the 7+ guides in docs/ (found $pages)"

# The figures the prose quotes (thresholds, false pages a week, delays), against the output of
# the commands that produce them: tests/docs/figures.tsv says which field goes where.
FW=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-figures.XXXXXX")
if (cd "$FW" && PATH="$BIN:$PATH" "$PY" "$HERE/check_figures.py" "$HERE/figures.tsv" "$ROOT"); then
  ok
else
  bad "figures quoted in README.md or docs/ differ from the commands' output (lines above)"
fi
rm -rf "$FW"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
