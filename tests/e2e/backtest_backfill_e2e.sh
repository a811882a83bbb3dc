#!/bin/bash
# isoscope backtest --openmetrics backfilled into a real Prometheus (Debian's promtool and
# prometheus): the scores read back through PromQL as the CSV has them, one anomaly_score series
# across a retrain (no model_version label on it), so avg_over_time smooths across the retrain
# as isoscope replay does, and model_version_timestamp names the model of each time.
# Expected values come from the backtest CSV by Python, never from Prometheus's own output.
#   backtest_backfill_e2e.sh ISOSCOPE PYTHON3
set -u
ISOSCOPE=$1
PY=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found; install Debian's prometheus and curl (make deps-test)"; exit 1; }
done
PROM_FIXTURE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-backfill.XXXXXX") || exit 1
export PROM_FIXTURE_DIR
trap prom_fixture_cleanup EXIT
trap 'prom_fixture_cleanup; exit 130' INT TERM
W=$PROM_FIXTURE_DIR/w
mkdir -p "$W"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; sed 's/^/  | /' "$W/out" "$W/err" 2>/dev/null | head -20; }

"$ISOSCOPE" demo --days 28 --out-dir "$W/demo" >"$W/out" 2>"$W/err" || { bad "demo"; exit 1; }
if "$ISOSCOPE" backtest --csv "$W/demo/history.csv" --out "$W/bt.csv" --initial 14d --retrain-every 7d \
  --train-window 90d --n-estimators 20 --contamination 0.02 --openmetrics "$W/bt.om" --detector demo -q \
  >"$W/out" 2>"$W/err"; then ok; else bad "backtest --openmetrics"; exit 1; fi
if promtool tsdb create-blocks-from openmetrics -q --max-block-duration=486h "$W/bt.om" \
  "$PROM_FIXTURE_DIR/data" >"$W/out" 2>"$W/err"; then ok; else bad "promtool backfill"; exit 1; fi
cat >"$PROM_FIXTURE_DIR/prom.yml" <<'EOF'
global: {scrape_interval: 15s, evaluation_interval: 15s}
scrape_configs: []
EOF
prom_fixture_server_start 0 || exit 1

# The second model starts at 2026-08-24T00:00:00Z. At 00:02:30, (t-5m, t] holds the rows of
# 23:58 and 23:59 (model 1) and 00:00 .. 00:02 (model 2); no sample sits at t-5m, so
# Prometheus 2's closed window and 3's open one agree.
AT=$("$PY" -c 'import datetime; print(int(datetime.datetime(2026, 8, 24, 0, 2, 30, tzinfo=datetime.timezone.utc).timestamp()))')
query() {  # query PROMQL TIME > $W/q.json
  curl -fsS -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" --data-urlencode "time=$2" >"$W/q.json" 2>"$W/err"
}
query 'avg_over_time(anomaly_score{detector="demo"}[5m])' "$AT" && cp "$W/q.json" "$W/avg.json"
query 'anomaly_score{detector="demo"}' "$AT" && cp "$W/q.json" "$W/score.json"
query 'model_version_timestamp{detector="demo"}' "$((AT - 180))" && cp "$W/q.json" "$W/mv_before.json"
# A backfill has no staleness markers (a daemon's swap writes them), so the old model's series
# stays visible for the 5-minute lookback after its last sample (23:59): ask after 00:04.
query 'model_version_timestamp{detector="demo"}' "$((AT + 300))" && cp "$W/q.json" "$W/mv_after.json"
query "count_over_time(anomaly_score{detector=\"demo\"}[29d])" "$((AT + 7 * 86400))" && cp "$W/q.json" "$W/count.json"
if "$PY" - "$W" "$AT" >"$W/out" 2>"$W/err" <<'PYEOF'; then ok; else bad "PromQL on the backfill equals the CSV"; fi
import csv, datetime, json, sys
w, at = sys.argv[1], int(sys.argv[2])
rows = list(csv.DictReader(open(w + "/bt.csv")))
sec = lambda t: int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
load = lambda name: json.load(open(w + "/" + name))["data"]["result"]
window = [r for r in rows if at - 300 < sec(r["timestamp"]) <= at and r["anomaly_score"]]
versions = [r["model_version"] for r in window]
assert len(window) == 5 and len(set(versions)) == 2, versions  # the window spans the retrain
avg = load("avg.json")
assert len(avg) == 1, avg  # one series: the score has no model_version label
want = sum(float(r["anomaly_score"]) for r in window) / 5
assert abs(float(avg[0]["value"][1]) - want) <= 1e-12, (avg, want)
score = load("score.json")
last = [r for r in rows if sec(r["timestamp"]) <= at][-1]
assert len(score) == 1 and float(score[0]["value"][1]) == float(last["anomaly_score"]), (score, last)
before, after = load("mv_before.json"), load("mv_after.json")
assert [m["metric"]["model_version"] for m in before] == [versions[0]], before
assert [m["metric"]["model_version"] for m in after] == [versions[-1]], after
count = load("count.json")
assert int(count[0]["value"][1]) == sum(1 for r in rows if r["anomaly_score"]), count
print("avg_over_time", avg[0]["value"][1], "over models", sorted(set(versions)))
PYEOF
cat "$W/out"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
