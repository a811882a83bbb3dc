#!/bin/bash
# The user path of paging on the calibrated surprise (issue 16 items 1 and 3), on the demo's
# data: `isoscope rules --warning surprise:2 --critical surprise:3` writes rules that promtool
# accepts, on the smoothed anomaly_surprise; `isoscope replay` with the same thresholds pages
# every injected incident within the demo's targets (the leak within 2 hours, the others
# within 15 minutes, at most one false page a week: demo_paging_test.sh's targets, from the
# issue, and the generator's incident windows), whether it scores the history itself or reads
# score's surprise column; thresholds mixing a score and a surprise, and a scores CSV without
# a surprise column, are refused with exit 2.
#   surprise_alerts_test.sh ISOSCOPE PYTHON3
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
ok() { :; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v promtool >/dev/null || { echo "FAIL: promtool not found (Debian's prometheus)"; exit 1; }

"$ISOSCOPE" demo --out-dir "$W" >"$W/demo.out" 2>"$W/demo.err" || { cat "$W/demo.err"; exit 1; }

# rules: the demo's config with surprise thresholds, checked by promtool.
G=$W/rules
"$ISOSCOPE" rules --config "$W/isoscope.yml" --warning surprise:2 --critical surprise:3 \
  --out "$G" >"$W/rules.out" 2>&1 && ok || { bad "isoscope rules"; sed 's/^/  | /' "$W/rules.out"; }
for f in "$G"/*.rules.yml; do
  promtool check rules "$f" >"$W/check.out" 2>&1 && ok ||
    { bad "promtool check rules $(basename "$f")"; sed 's/^/  | /' "$W/check.out"; }
done
grep -qF "record: job:anomaly_surprise:avg5m" "$G/demo.recording.rules.yml" &&
  grep -qF "expr: 'avg_over_time(anomaly_surprise{detector=\"demo\"}[5m])'" "$G/demo.recording.rules.yml" &&
  ok || bad "the recording rule of the smoothed surprise"
grep -qF "expr: 'job:anomaly_surprise:avg5m{detector=\"demo\"} > 3'" "$G/demo.alerting.rules.yml" &&
  grep -qF "expr: 'job:anomaly_surprise:avg5m{detector=\"demo\"} > 2'" "$G/demo.alerting.rules.yml" &&
  ok || bad "the alerts compare the smoothed surprise with 2 and 3"
# check-config accepts the same thresholds in the file.
sed 's/^    model: /    alerts: {warning: "surprise:2", critical: "surprise:3"}\n    model: /' \
  "$W/isoscope.yml" >"$W/surprise.yml"
"$ISOSCOPE" check-config --config "$W/surprise.yml" >"$W/cc.out" 2>&1 &&
  grep -q "warning > surprise:2, critical > surprise:3" "$W/cc.out" && ok ||
  { bad "check-config with surprise thresholds"; sed 's/^/  | /' "$W/cc.out"; }

# replay: scored here, then as score wrote it (its surprise column).
"$ISOSCOPE" replay --bundle "$W/model.bundle" --csv "$W/history.csv" --incidents \
  "$W/incidents.csv" --warning surprise:2 --critical surprise:3 --json >"$W/rescored.json" \
  2>"$W/rescored.err" || { bad "replay --bundle with surprise thresholds"; cat "$W/rescored.err"; }
"$ISOSCOPE" replay --csv "$W/scores.csv" --incidents "$W/incidents.csv" --warning surprise:2 \
  --critical surprise:3 --json >"$W/given.json" 2>"$W/given.err" ||
  { bad "replay of score's output with surprise thresholds"; cat "$W/given.err"; }
"$PY" - "$W/rescored.json" "$W/given.json" "$W/incidents.csv" <<'PYEOF' || bad "replay verdicts"
import csv, json, sys
from datetime import datetime, timedelta

def t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))

truth = {r["name"]: (t(r["start"]), t(r["end"])) for r in csv.DictReader(open(sys.argv[3]))}
deadline = {"memory_leak": 120}
problems = []
runs = {}
for path in sys.argv[1:3]:
    r = json.load(open(path))
    runs[path] = r
    if r["settings"]["series"] != "surprise":
        problems.append(f"{path}: rules on {r['settings']['series']}, not the surprise")
    if (r["settings"]["warning"], r["settings"]["critical"]) != (2, 3):
        problems.append(f"{path}: thresholds {r['settings']}")
    if [i["name"] for i in r["incidents"]] != list(truth):
        problems.append(f"{path}: incidents {r['incidents']}")
    for inc in r["incidents"]:
        limit = deadline.get(inc["name"], 15)
        delay = inc["page_delay_seconds"]
        if delay is None or delay > limit * 60:
            problems.append(f"{path}: {inc['name']}: page delay {delay} s, target {limit} min")
    weeks = r["scored_seconds"] / (7 * 86400)
    grace = timedelta(minutes=8)  # for: 3m + smoothing 5m
    false_pages = [p for p in r["critical"]["firing"]
                   if not any(a <= t(p["start"]) <= b + grace for a, b in truth.values())]
    if len(false_pages) > weeks:
        problems.append(f"{path}: {len(false_pages)} false pages in {weeks:.1f} weeks")
    print(f"{path}: {sum(i['caught'] for i in r['incidents'])} of {len(truth)} caught, "
          f"{len(false_pages)} false pages in {weeks:.1f} weeks")
# score's surprise column is the stream replay recomputes: the same alerts either way.
a, b = runs.values()
if a["critical"]["firing"] != b["critical"]["firing"] or a["warning"]["firing"] != b["warning"]["firing"]:
    problems.append("replay --bundle and replay of score's surprise column disagree")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PYEOF

# backtest's output: each model's rows carry their own model's surprise, so surprise thresholds
# need no --bundles (relative ones would); the rules still run on the surprise.
"$ISOSCOPE" backtest --csv "$W/history.csv" --out "$W/bt.csv" --initial 28d --retrain-every 7d \
  --train-window 90d --contamination 0.02 --detector demo >"$W/bt.out" 2>&1 ||
  { bad "backtest"; sed 's/^/  | /' "$W/bt.out"; }
"$ISOSCOPE" replay --csv "$W/bt.csv" --incidents "$W/incidents.csv" --warning surprise:2 \
  --critical surprise:3 --json >"$W/bt.json" 2>"$W/bt.err" ||
  { bad "replay of backtest's output with surprise thresholds"; cat "$W/bt.err"; }
"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["settings"]["series"] == "surprise", r["settings"]
assert len(r["models"]) > 1, r["models"]  # several retrains, one surprise column
assert r["scored_seconds"] > 0 and r["evaluations"] > 0, r
' "$W/bt.json" || bad "replay of backtest's output on the surprise"

# Refusals: a score and a surprise mixed; a scores CSV without a surprise column.
"$ISOSCOPE" replay --bundle "$W/model.bundle" --csv "$W/history.csv" --warning contamination \
  --critical surprise:3 >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "give both as surprise:N" "$W/bad.out" && ok ||
  { bad "mixed thresholds refused with exit 2 (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }
cut -d, -f1-6 "$W/scores.csv" >"$W/no_surprise.csv"
"$ISOSCOPE" replay --csv "$W/no_surprise.csv" --warning surprise:2 --critical surprise:3 \
  >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "has no surprise column" "$W/bad.out" && ok ||
  { bad "a CSV without surprise refused with exit 2 (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }
"$ISOSCOPE" replay --bundle "$W/model.bundle" --csv "$W/history.csv" --warning surprise:0 \
  --critical surprise:3 >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "surprise:N needs N > 0" "$W/bad.out" && ok ||
  { bad "surprise:0 refused with exit 2 (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }

[ $fails = 0 ] && echo "PASS" || echo "$fails failure(s)"
[ $fails = 0 ]
