#!/bin/bash
# Keeping a model right (docs/lifecycle.md), as a user runs it on the demo. Training
# exclusions: train --exclude leaves the demo's incidents out (counts by hand from
# incidents.csv), backtest takes it too, too little left refuses and writes nothing.
# isoscope tune: the chosen settings, replayed by `isoscope
# replay` (the reference for what rules do on a history), stay within the budget and catch what
# tune says; the written alerts: block is a valid isoscope.yml (check-config) whose rules
# promtool accepts; wrong flags exit 2.
#   tests/native/lifecycle_cli_test.sh build/native/isoscope /usr/bin/python3
set -u
ISOSCOPE=$1
PY=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failed=0

fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

"$ISOSCOPE" demo --out-dir "$W/demo" >/dev/null 2>&1 || { echo "FAIL: demo"; exit 1; }
D=$W/demo

# 0. Exclusions. incidents.csv: memory_leak 01:00-07:00 (360 one-minute rows), latency_spike
# 15:30-15:35 (5), level_shift 11:30-14:30 (180), error_burst 03:00-03:20 (20).
"$ISOSCOPE" train --csv "$D/history.csv" --out "$W/ex.bundle" --exclude "$D/incidents.csv" \
  --contamination 0.02 --derived auto >"$W/ex.txt" 2>"$W/err" || fail "train --exclude: $(cat "$W/err")"
for want in "360 rows: excluded: --exclude memory_leak" "5 rows: excluded: --exclude latency_spike" \
  "180 rows: excluded: --exclude level_shift" "20 rows: excluded: --exclude error_burst"; do
  grep -q "dropped  *$want\$" "$W/ex.txt" || fail "train --exclude report lacks '$want'"
done
# The 30m-smoothed seasonal features re-warm for 29 rows after each window.
grep -q "dropped  *116 rows: re-warming after an excluded window$" "$W/ex.txt" ||
  fail "train --exclude: 4 x 29 rows re-warm"
"$ISOSCOPE" backtest --csv "$D/history.csv" --exclude "$D/incidents.csv" --contamination 0.02 \
  --initial 28d --retrain-every 7d --train-window 28d --out "$W/bt.csv" -q >"$W/out" 2>&1 ||
  fail "backtest --exclude: $(cat "$W/out")"
printf 'name,start,end\nmost,2026-08-01T00:00:00Z,2026-10-01T00:00:00Z\n' >"$W/most.csv"
"$ISOSCOPE" train --csv "$D/history.csv" --out "$W/most.bundle" --exclude "$W/most.csv" \
  --contamination 0.02 >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" = 1 ] || fail "too little left: exit $rc, not 1"
grep -q "too little training data after exclusions" "$W/err" || fail "too little left: $(cat "$W/err")"
[ ! -e "$W/most.bundle" ] || fail "too little left: a bundle was written"
"$ISOSCOPE" train --config "$D/isoscope.yml" --detector demo --exclude "$D/incidents.csv" \
  >"$W/out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "train --config --exclude: exit $rc, not 2"

# 1. One page a week, incidents within 15m: JSON, then the same settings through replay.
"$ISOSCOPE" tune --bundle "$D/model.bundle" --csv "$D/history.csv" --incidents "$D/incidents.csv" \
  --budget 1/week --max-delay 15m --json --out "$W/alerts.yml" >"$W/tune.json" 2>"$W/err" ||
  fail "tune --json: $(cat "$W/err")"
read -r FLAGS < <("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rules_flags"])' "$W/tune.json")
# shellcheck disable=SC2086  # the flags are words
"$ISOSCOPE" replay --bundle "$D/model.bundle" --csv "$D/history.csv" --incidents "$D/incidents.csv" \
  $FLAGS --json >"$W/replay.json" 2>"$W/err" ||
  fail "replay of the chosen flags: $(cat "$W/err")"
"$PY" - "$W/tune.json" "$W/replay.json" <<'EOF' || fail "tune's figures differ from replay's"
import json, sys
t = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
c = t["chosen"]
assert r["pages_per_week"] <= 1.0, r["pages_per_week"]
assert r["pages"] == c["pages"], (r["pages"], c["pages"])
assert r["warning"]["firing_count"] == c["warnings"], (r["warning"]["firing_count"], c["warnings"])
within = [i for i in r["incidents"]
          if i["page_delay_seconds"] is not None and i["page_delay_seconds"] <= 900]
assert len(within) == c["caught"], (within, c["caught"])
assert sum(i["page_delay_seconds"] for i in within) == c["total_delay_seconds"]
assert c["caught"] >= 1, "the demo has an incident to catch within one page a week"
assert any(f == c for f in t["frontier"]), "the chosen setting is on the frontier"
pages = [f["pages"] for f in t["frontier"]]
assert pages == sorted(pages) and len(set(pages)) == len(pages), pages
EOF

# 2. The alerts: block goes under the detector: check-config accepts it, rules are promtool-clean.
sed 's/^/    /' "$W/alerts.yml" >"$W/indented"
cat "$D/isoscope.yml" "$W/indented" >"$W/isoscope.yml"
"$ISOSCOPE" check-config --config "$W/isoscope.yml" >"$W/out" 2>&1 || fail "check-config: $(cat "$W/out")"
"$ISOSCOPE" rules --config "$W/isoscope.yml" --out "$W/rules" >"$W/out" 2>&1 || fail "rules: $(cat "$W/out")"
grep -q WARNING "$W/out" && fail "rules warns about the chosen settings: $(cat "$W/out")"
# (rules prints 15 significant digits, so the comparison allows for that rounding)
"$PY" - "$W/alerts.yml" "$W/rules/demo.alerting.rules.yml" <<'EOF' ||
import re, sys
chosen = float(re.search(r"^  critical: (\S+)$", open(sys.argv[1]).read(), re.M).group(1))
rules = [float(x) for x in re.findall(r"> ([0-9.]+)'", open(sys.argv[2]).read())]
assert any(abs(r - chosen) <= 1e-14 for r in rules), (chosen, rules)
EOF
  fail "the alerting rules do not compare with the chosen critical threshold"
if command -v promtool >/dev/null; then
  promtool check rules "$W/rules/demo.recording.rules.yml" "$W/rules/demo.alerting.rules.yml" \
    >"$W/out" 2>&1 || fail "promtool check rules: $(cat "$W/out")"
fi

# 3. The text report: the frontier and the alerts: block.
"$ISOSCOPE" tune --csv "$D/scores.csv" --budget 2/week >"$W/text" 2>"$W/err" || fail "tune on scores"
grep -q '<- chosen$' "$W/text" || fail "no chosen row in the frontier table"
grep -qE '^  critical: 0\.[0-9]+$' "$W/text" || fail "no alerts: block in the text report"

# 4. Wrong usage exits 2 and says why.
expect_usage() {  # expect_usage NAME PATTERN ARGS...
  local name=$1 pattern=$2
  shift 2
  "$ISOSCOPE" tune "$@" >"$W/out" 2>"$W/err"
  local rc=$?
  [ "$rc" = 2 ] || fail "$name: exit $rc, not 2"
  grep -q -- "$pattern" "$W/err" || fail "$name: stderr lacks '$pattern': $(cat "$W/err")"
}
expect_usage "zero budget" "is not a rate" --csv "$D/scores.csv" --budget 0/week
expect_usage "budget per month" "is not a rate" --csv "$D/scores.csv" --budget 1/month
expect_usage "inputs without a bundle" "give --bundle" --csv "$D/history.csv"
expect_usage "bad for" "is not a duration" --csv "$D/scores.csv" --for 3x
expect_usage "smoothing under 3 steps" "fewer than 3 samples" --bundle "$D/model.bundle" \
  --csv "$D/history.csv" --smooth 1m,2m
expect_usage "for: under 3 steps of the scores" "fewer than 3 samples" --csv "$D/scores.csv" \
  --for 0s,1m

[ "$failed" = 0 ] && echo "lifecycle cli: all checks passed"
exit "$failed"
