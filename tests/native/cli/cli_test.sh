#!/bin/bash
# End-to-end checks of the isoscope binary as a user runs it. Expected scores come from
# scikit-learn (the committed golden files), never from isoscope itself.
set -u
ISOSCOPE=$1
PY=$2
ROOT=$3
GOLDEN=$ROOT/tests/golden/sklearn
W=$(mktemp -d)
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$W"' EXIT
passed=0
failed=0

check() {  # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@" >"$W/out" 2>"$W/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
    sed 's/^/  out: /' "$W/out" | head -20
    sed 's/^/  err: /' "$W/err" | head -20
  fi
}

wait_for_scores() {  # wait_for_scores LOG: the port the daemon logged, then /metrics with a score in $W/metrics
  local port=""
  for _ in $(seq 100); do
    port=$(grep -o 'msg="listening on 127.0.0.1:[0-9]*"' "$1" | grep -o '[0-9]*"$' | tr -d '"')
    [ -n "$port" ] && break
    sleep 0.1
  done
  : >"$W/metrics"
  for _ in $(seq 100); do
    [ -n "$port" ] || break
    curl -s "http://127.0.0.1:$port/metrics" >"$W/metrics" 2>/dev/null
    grep -q '^anomaly_score{' "$W/metrics" && break
    sleep 0.1
  done
}

judge_exit() {  # judge_exit NAME RC CODE PATTERN: RC must be CODE and $W/err match PATTERN ("": any)
  local name=$1 rc=$2 code=$3 pattern=$4
  if [ "$rc" = "$code" ] && { [ -z "$pattern" ] || grep -qE -- "$pattern" "$W/err"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name (exit $rc, wanted $code; stderr must match /$pattern/)"
    sed 's/^/  err: /' "$W/err" | head -10
  fi
}

expect_exit() {  # expect_exit NAME CODE PATTERN COMMAND...: exit code and stderr pattern
  local name=$1 code=$2 pattern=$3
  shift 3
  "$@" >"$W/out" 2>"$W/err"
  judge_exit "$name" $? "$code" "$pattern"
}

expect_full_stdout() {  # expect_full_stdout NAME COMMAND...: output into a full disk is exit 1
  local name=$1
  shift
  "$@" >/dev/full 2>"$W/err"
  judge_exit "$name" $? 1 "cannot write to standard output"
}

expect_in() {  # expect_in NAME FILE PATTERN: FILE (an earlier command's saved output) matches
  if grep -qE -- "$3" "$2"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1 (no /$3/ in $2)"
    head -30 "$2" | sed 's/^/  | /'
  fi
}

compare_scores() {  # compare_scores SCORES_CSV EXPECTED_CSV: |d| <= 1e-12, same predictions
  "$PY" - "$1" "$2" <<'PYEOF'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
ref = list(csv.DictReader(open(sys.argv[2])))
assert len(ours) == len(ref), (len(ours), len(ref))
worst = 0.0
for o, r in zip(ours, ref):
    d = abs(-float(o["anomaly_score"]) - float(r["score_samples"]))
    worst = max(worst, d, abs(float(o["decision"]) - float(r["decision_function"])))
    if abs(float(r["decision_function"])) >= 1e-12:
        assert (o["is_anomaly"] == "1") == (r["predict"] == "-1"), (o, r)
assert worst <= 1e-12, worst
print("rows", len(ours), "max |d|", worst)
PYEOF
}

compare_trees() {  # compare_trees INSPECT_JSON SKLEARN_MODEL_JSON: every tree array equal
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
ours, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(ours["trees"]) == len(ref["trees"])
for a, b in zip(ours["trees"], ref["trees"]):
    for k in ("features", "children_left", "children_right", "feature", "threshold", "n_node_samples"):
        assert a[k] == b[k], k
print("trees identical:", len(ours["trees"]))
PYEOF
}

# --help everywhere, exit 0; unknown command and missing flags are usage errors (2).
check "help" "$ISOSCOPE" --help
for cmd in train score inspect import-sklearn demo check-config install serve rules replay backtest; do
  check "$cmd --help" "$ISOSCOPE" "$cmd" --help
done
expect_exit "no command" 2 "subcommand" "$ISOSCOPE"
expect_exit "train without --out" 2 "out" "$ISOSCOPE" train --csv "$GOLDEN/basic_gauss/train.csv"
expect_exit "bad contamination" 2 "contamination '0.7'" \
  "$ISOSCOPE" train --csv "$GOLDEN/basic_gauss/train.csv" --out "$W/x.bundle" --contamination 0.7
expect_exit "bad max-samples" 2 "max-samples" \
  "$ISOSCOPE" train --csv "$GOLDEN/basic_gauss/train.csv" --out "$W/x.bundle" --max-samples 0
[ ! -e "$W/x.bundle" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a failed train wrote a file"; }

# sklearn parity through the CLI: train, score and inspect on a golden case.
C=$GOLDEN/contamination_float
check "train golden" "$ISOSCOPE" train --csv "$C/train.csv" --out "$W/m.bundle" --scaler none \
  --derived none --n-estimators 50 --contamination 0.05 --random-state 3
cp "$W/out" "$W/train_report"
expect_in "report gives the threshold" "$W/train_report" "threshold +anomaly_score > 0\.[0-9]+ is an anomaly"
check "score golden" "$ISOSCOPE" score --bundle "$W/m.bundle" --csv "$C/score.csv" --out "$W/s.csv"
check "scores equal sklearn" compare_scores "$W/s.csv" "$C/expected.csv"
"$ISOSCOPE" inspect --bundle "$W/m.bundle" --json >"$W/inspect.json"
check "inspect --json trees equal sklearn" compare_trees "$W/inspect.json" "$C/model.json"
check "inspect text" "$ISOSCOPE" inspect --bundle "$W/m.bundle"
cp "$W/out" "$W/inspect.txt"
# score --explain: the contributions add up to log2 of the score (whose values sklearn fixed
# above) with one constant, log2 of the baseline score inspect prints; top_input is the input
# with the largest contribution (raw inputs only here: one column per input).
check "score --explain" "$ISOSCOPE" score --bundle "$W/m.bundle" --csv "$C/score.csv" \
  --out "$W/explain.csv" --explain
check "contributions add up to log2 of the score" "$PY" - "$W/explain.csv" "$W/inspect.txt" <<'PYEOF'
import csv, math, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cols = [c for c in rows[0] if c.startswith("contribution:")]
assert cols and "top_input" in rows[0], rows[0].keys()
base = [math.log2(float(r["anomaly_score"])) - sum(float(r[c]) for c in cols) for r in rows]
assert max(base) - min(base) <= 1e-12, (min(base), max(base))
s0 = float(re.search(r"baseline score ([0-9.]+)", open(sys.argv[2]).read()).group(1))
assert abs(2 ** base[0] - s0) <= 5e-5, (2 ** base[0], s0)
for r in rows:
    top = max(cols, key=lambda c: float(r[c]))
    flat = len({float(r[c]) for c in cols}) == 1  # all equal: no input stands out
    assert r["top_input"] == ("" if flat else top[len("contribution:"):]), (r["top_input"], top)
print(len(rows), "rows; log2 s0 =", base[0])
PYEOF
# ... and equal to an independent Python TreeSHAP (Algorithm 2, tools/treeshap_ref.py) on
# scikit-learn's own forests: bootstrap, feature subsets, ties, a constant column.
compare_explain() {  # compare_explain CASE: first 8 rows, |d| <= 1e-12
  local dir=$GOLDEN/$1
  "$ISOSCOPE" import-sklearn --model "$dir/model.json" --out "$W/$1.bundle" >/dev/null &&
    "$ISOSCOPE" score --bundle "$W/$1.bundle" --csv "$dir/score.csv" --explain -q \
      --out "$W/$1.explain.csv" &&
    "$PY" "$ROOT/tools/treeshap_ref.py" "$dir/model.json" "$dir/score.csv" 8 >"$W/$1.ref.csv" &&
    "$PY" - "$W/$1.explain.csv" "$W/$1.ref.csv" <<'PYEOF'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
ref = list(csv.DictReader(open(sys.argv[2])))
assert len(ref) == 8
worst = max(abs(float(o["contribution:" + k]) - float(v)) for o, r in zip(ours, ref) for k, v in r.items())
assert worst <= 1e-12, worst
PYEOF
}
for case in bootstrap max_features_frac max_features_int_bootstrap discrete_ties constant_duplicate_columns; do
  check "score --explain equals Python TreeSHAP: $case" compare_explain "$case"
done

# The origin-story warnings: short history, contamination not given.
printf 'timestamp,latency\n' >"$W/short.csv"
for i in $(seq 0 2000); do echo "$((1767571200 + i * 60)),$((100 + i % 17))"; done >>"$W/short.csv"
check "train short history" "$ISOSCOPE" train --csv "$W/short.csv" --out "$W/short.bundle"
cp "$W/out" "$W/short_report"
expect_in "warns: days of history" "$W/short_report" "WARNING: only 1\.[0-9] days of history"
expect_in "warns: contamination" "$W/short_report" "WARNING: contamination was not given"

# Missing values: training drops and counts, scoring says why instead of inventing a number.
printf 'timestamp,a,b\n2026-01-05T00:00:00Z,1,2\n2026-01-05T00:01:00Z,,2\n2026-01-05T00:02:00Z,1.5,inf\n2026-01-05T00:03:00Z,1.2,2.2\n' >"$W/gaps.csv"
check "train with gaps" "$ISOSCOPE" train --csv "$W/gaps.csv" --out "$W/gaps.bundle" --contamination 0.1
cp "$W/out" "$W/gaps_report"
expect_in "dropped rows counted" "$W/gaps_report" "2 dropped \(of 4\)"
check "score with gaps" "$ISOSCOPE" score --bundle "$W/gaps.bundle" --csv "$W/gaps.csv" --out "$W/gaps_scores.csv"
expect_in "no score, with reason" "$W/gaps_scores.csv" '^1,2026-01-05T00:01:00Z,,,,no score: missing value in a,,$'
expect_in "infinite reason" "$W/gaps_scores.csv" 'no score: infinite value in b'
expect_in "scored rows" "$W/gaps_scores.csv" '^0,2026-01-05T00:00:00Z,0\.[0-9]+,-?[0-9.e-]+,[01],,[0-9.e-]+,[0-9.e-]+$'
# Both training rows score 0.5 (two points isolate alike): a row scoring the training mean has
# z = 0, a surprise of -log10(1/2) = 0.30103.
expect_in "surprise column" "$W/gaps_scores.csv" '^0,2026-01-05T00:00:00Z,0\.5,0\.0,0,,0\.30102999566398'
# The first row's onset: no earlier score, so the tail share is (0 + 1) / (0 + 1), level
# -log10(1) + 0.1 * 0.30103, and nothing before it to top.
expect_in "onset column" "$W/gaps_scores.csv" '^0,2026-01-05T00:00:00Z,0\.5,0\.0,0,,0\.30102999566398[0-9]*,0\.0301029995663'

# Damaged and foreign bundles: exit 3 with a message naming the problem.
head -c 1000 "$W/m.bundle" >"$W/trunc.bundle"
expect_exit "truncated bundle" 3 "truncated" "$ISOSCOPE" score --bundle "$W/trunc.bundle" --csv "$C/score.csv"
expect_exit "foreign bundle" 3 "not an isoscope bundle" "$ISOSCOPE" inspect --bundle "$C/model.json"
"$PY" -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[5000] ^= 0x55; open(sys.argv[2], 'wb').write(b)" "$W/m.bundle" "$W/flip.bundle"
expect_exit "corrupted bundle" 3 "checksum" "$ISOSCOPE" inspect --bundle "$W/flip.bundle"
expect_exit "missing file" 2 "not exist|No such" "$ISOSCOPE" score --bundle "$W/none.bundle" --csv "$C/score.csv"

# Migration from a Python pipeline: joblib files -> JSON -> bundle, same scores as sklearn.
P=$GOLDEN/scaler_pipeline
NAMES=latency_ms,error_ratio,rps,cpu,queue
check "sklearn_export pipeline" "$PY" "$ROOT/tools/sklearn_export.py" --model "$P/pipeline.joblib" \
  --feature-names "$NAMES" --out "$W/pipe.json"
check "import-sklearn" "$ISOSCOPE" import-sklearn --model "$W/pipe.json" --out "$W/pipe.bundle" --training-csv "$P/train.csv"
check "score imported" "$ISOSCOPE" score --bundle "$W/pipe.bundle" --csv "$P/score.csv" --out "$W/pipe_scores.csv"
check "imported scores equal sklearn" compare_scores "$W/pipe_scores.csv" "$P/expected.csv"
check "sklearn_export separate files" "$PY" "$ROOT/tools/sklearn_export.py" --model "$P/iforest.joblib" \
  --scaler "$P/scaler.joblib" --feature-names "$NAMES" --out "$W/sep.json"
check "import separate" "$ISOSCOPE" import-sklearn --model "$W/sep.json" --out "$W/sep.bundle"
check "score separate" "$ISOSCOPE" score --bundle "$W/sep.bundle" --csv "$P/score.csv" --out "$W/sep_scores.csv"
check "separate scores equal sklearn" compare_scores "$W/sep_scores.csv" "$P/expected.csv"
expect_exit "import rejects other JSON" 1 "format" "$ISOSCOPE" import-sklearn --model "$W/inspect.json" --out "$W/bad.bundle"

# The demo, small: it must flag the injected incidents it reports.
check "demo" "$ISOSCOPE" demo --days 28 --out-dir "$W/demo"
cp "$W/out" "$W/demo_out"
expect_in "demo reports incidents" "$W/demo_out" "auto features: [0-9] of 4 incidents paged"
expect_in "demo table has the leak" "$W/demo_out" "^   memory_leak +20[0-9-]+T[0-9:]+Z +(PAGED|missed) "
expect_in "demo wrote a bundle that loads" "$W/demo_out" "wrote +.*model.bundle"

# replay: the demo's history against its own incidents; a table row per incident, JSON, usage.
check "replay demo" "$ISOSCOPE" replay --bundle "$W/demo/model.bundle" --csv "$W/demo/history.csv" \
  --incidents "$W/demo/incidents.csv"
cp "$W/out" "$W/replay_out"
for inc in memory_leak latency_spike level_shift error_burst; do
  expect_in "replay lists $inc" "$W/replay_out" "^$inc +20[0-9-]+T[0-9:]+Z +(yes|no) "
done
expect_in "replay counts pages" "$W/replay_out" '^pages \(critical firing starts\): [0-9]+, [0-9.]+ per week$'
check "replay json" sh -c '"$1" replay --bundle "$2/demo/model.bundle" --csv "$2/demo/history.csv" \
  --incidents "$2/demo/incidents.csv" --contamination 0.01 --json | "$3" -c "
import json, sys
d = json.load(sys.stdin)
assert len(d[\"incidents\"]) == 4 and abs(d[\"flagged_share\"] - 0.01) < 0.005, d[\"flagged_share\"]
assert d[\"pages\"] == d[\"critical\"][\"firing_count\"] == len(d[\"critical\"][\"firing\"])
b = d[\"baseline\"]
assert [i[\"name\"] for i in b[\"incidents\"]] == [i[\"name\"] for i in d[\"incidents\"]]
assert b[\"critical\"] == 4 and b[\"false_pages\"] <= b[\"pages\"]
"' _ "$ISOSCOPE" "$W" "$PY"
expect_in "replay reports the z-score baseline" "$W/replay_out" '^baseline: [0-4] of 4 incidents caught; false pages: [0-9]+ '
expect_exit "replay warns about a 2-sample smoothing window" 0 \
  "WARNING: --smooth 2m holds fewer than 3 samples at the model's step of 1m" \
  "$ISOSCOPE" replay --bundle "$W/demo/model.bundle" --csv "$W/demo/history.csv" --smooth 2m
expect_exit "replay bad --for" 2 "--for: '3x' is not a duration" \
  "$ISOSCOPE" replay --bundle "$W/demo/model.bundle" --csv "$W/demo/history.csv" --for 3x

# score to standard output that cannot take it: a full disk is an error (exit 1), not a silent
# 0; a reader that stops early (`| head`) ends the process by SIGPIPE, as for any filter, on
# whichever thread writes (the workers must not block SIGPIPE).
expect_full_stdout "score to a full stdout" \
  "$ISOSCOPE" score --bundle "$W/demo/model.bundle" --csv "$W/demo/history.csv" -q
# The same for every command, in the one place where errors become exit codes.
expect_full_stdout "inspect --json to a full stdout" \
  "$ISOSCOPE" inspect --bundle "$W/demo/model.bundle" --json
"$ISOSCOPE" score --bundle "$W/demo/model.bundle" --csv "$W/demo/history.csv" -q 2>"$W/err" |
  head -n 1 >"$W/pipe_head"
judge_exit "score | head -n 1 ends by SIGPIPE" "${PIPESTATUS[0]}" 141 ""
expect_in "score | head -n 1 got the header" "$W/pipe_head" "^row,timestamp,anomaly_score"

# backtest: walk forward with weekly retrains. No look-ahead: the same history cut short
# three days early gives identical scores and model versions for every row both have.
check "backtest" "$ISOSCOPE" backtest --csv "$W/demo/history.csv" --out "$W/bt_full.csv" \
  --initial 14d --retrain-every 7d --train-window 90d --n-estimators 20 --contamination 0.02
head -n $((1 + 25 * 1440)) "$W/demo/history.csv" >"$W/history_cut.csv"
check "backtest cut" "$ISOSCOPE" backtest --csv "$W/history_cut.csv" --out "$W/bt_cut.csv" \
  --initial 14d --retrain-every 7d --train-window 90d --n-estimators 20 --contamination 0.02 -q
check "backtest has no look-ahead" "$PY" -c '
import csv, sys
full = list(csv.DictReader(open(sys.argv[1])))
cut = list(csv.DictReader(open(sys.argv[2])))
assert len(cut) == 25 * 1440 and len(full) == 28 * 1440, (len(cut), len(full))
assert all(r["model_version"] == "" for r in full[:14 * 1440]), "scored before --initial"
assert full[14 * 1440]["model_version"] != "" and full[14 * 1440]["anomaly_score"] != ""
for a, b in zip(full, cut):
    assert (a["anomaly_score"], a["model_version"], a["surprise"]) == \
        (b["anomaly_score"], b["model_version"], b["surprise"]), (a, b)
versions = [r["model_version"] for r in full if r["model_version"]]
assert len(set(versions)) == 2, set(versions)  # days 14 and 21
print("identical rows:", len(cut))
' "$W/bt_full.csv" "$W/bt_cut.csv"
# A first model whose features cannot warm yet waits for the next retrain instead of
# aborting: seasonal_diff(x,1d) has no usable row in the first 12 hours, so the first model is
# trained at 12h + 1d on rows whose day-ago values exist.
check "backtest waits for warm features" "$ISOSCOPE" backtest --csv "$W/demo/history.csv" \
  --out "$W/bt_wait.csv" --initial 12h --retrain-every 1d --train-window 90d --n-estimators 10 \
  --contamination 0.02 --derived "seasonal_diff(latency_p95,1d)"
expect_in "backtest says it waits" "$W/err" "no model yet .*warming.*; waiting"
check "backtest's first model after warm-up" "$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first = next(i for i, r in enumerate(rows) if r["model_version"])
assert first == 36 * 60, first
assert rows[first]["anomaly_score"] != "" and rows[first]["surprise"] != ""
' "$W/bt_wait.csv"
expect_exit "backtest bad span" 2 "give a duration like 7d" \
  "$ISOSCOPE" backtest --csv "$W/demo/history.csv" --out "$W/x.csv" --initial 2x \
  --retrain-every 7d --train-window 90d

# replay on backtest's output: the scores as given, relative thresholds per model version from
# the bundles backtest kept. Time features only, so a slice of the history scores alone as it
# did inside the whole (the re-score side below needs no look-back).
check "backtest --save-bundles --openmetrics" "$ISOSCOPE" backtest --csv "$W/demo/history.csv" \
  --out "$W/bt.csv" --initial 14d --retrain-every 7d --train-window 90d --n-estimators 20 \
  --contamination 0.02 --derived hour_of_week,is_deploy_window --save-bundles "$W/bt_models" \
  --openmetrics "$W/bt.om" --detector demo -q
check "a bundle per model version" "$PY" -c '
import csv, os, sys
versions = {r["model_version"] for r in csv.DictReader(open(sys.argv[1])) if r["model_version"]}
files = set(os.listdir(sys.argv[2]))
assert len(versions) == 2 and files == {v + ".bundle" for v in versions}, (versions, files)
' "$W/bt.csv" "$W/bt_models"
# The last model alone: its rows of backtest's output, and the same rows of the history.
check "slice one model" "$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
last = rows[-1]["model_version"]
keep = {r["timestamp"] for r in rows if r["model_version"] == last}
assert len(keep) == 7 * 1440, len(keep)
for src, dst in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    lines = open(src).read().splitlines()
    col = lines[0].split(",").index("timestamp")
    out = [lines[0]] + [l for l in lines[1:] if l.split(",")[col] in keep]
    assert len(out) == len(keep) + 1, (src, len(out))
    open(dst, "w").write("\n".join(out) + "\n")
open(sys.argv[5], "w").write(last)
' "$W/bt.csv" "$W/bt_last.csv" "$W/demo/history.csv" "$W/history_last.csv" "$W/bt_last_version"
LAST=$(cat "$W/bt_last_version")
check "score the slice with the kept bundle" "$ISOSCOPE" score --bundle "$W/bt_models/$LAST.bundle" \
  --csv "$W/history_last.csv" --out "$W/last_scores.csv" -q
check "kept bundle scores as backtest did" "$PY" -c '
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
assert len(a) == len(b) == 7 * 1440
assert all((x["anomaly_score"], x["is_anomaly"]) == (y["anomaly_score"], y["is_anomaly"]) for x, y in zip(a, b))
' "$W/bt_last.csv" "$W/last_scores.csv"
for thresholds in "--warning contamination --critical contamination/2" "--warning 1% --critical 0.58 --for 5m"; do
  # shellcheck disable=SC2086
  "$ISOSCOPE" replay --csv "$W/bt_last.csv" --bundles "$W/bt_models" --incidents "$W/demo/incidents.csv" \
    $thresholds --json >"$W/as_given.json" 2>"$W/err"
  # shellcheck disable=SC2086
  "$ISOSCOPE" replay --bundle "$W/bt_models/$LAST.bundle" --csv "$W/history_last.csv" \
    --incidents "$W/demo/incidents.csv" $thresholds --json >"$W/rescored.json" 2>>"$W/err"
  check "replay on output equals re-scoring ($thresholds)" "$PY" -c '
import json, sys
given, rescored = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert given.pop("scores_as_given") is True
rescored.pop("baseline")  # the z-score baseline needs the raw inputs: re-scoring only
models = given.pop("models")
assert [m["model_version"] for m in models] == [sys.argv[3]], models
assert (models[0]["warning"], models[0]["critical"]) == (rescored["settings"]["warning"], rescored["settings"]["critical"])
assert given == rescored, [(k, given.get(k), rescored.get(k)) for k in rescored if given.get(k) != rescored.get(k)]
print("pages", given["pages"], "warnings", given["warning"]["firing_count"])
' "$W/as_given.json" "$W/rescored.json" "$LAST"
done
# score's output with --bundle (no model_version column): the demo model's look-back features
# included, replaying its scores equals re-scoring the history.
"$ISOSCOPE" replay --csv "$W/demo/scores.csv" --bundle "$W/demo/model.bundle" --incidents "$W/demo/incidents.csv" \
  --json >"$W/score_given.json" 2>"$W/err"
"$ISOSCOPE" replay --csv "$W/demo/history.csv" --bundle "$W/demo/model.bundle" --incidents "$W/demo/incidents.csv" \
  --json >"$W/score_rescored.json" 2>>"$W/err"
check "replay on score output equals re-scoring" "$PY" -c '
import json, sys
given, rescored = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert given.pop("scores_as_given") is True and len(given.pop("models")) == 1
rescored.pop("baseline")
assert given == rescored and rescored["scored_rows"] > 0
' "$W/score_given.json" "$W/score_rescored.json"
# The whole output: two models, each with its own thresholds from its first row on; before
# the first model no score, so nothing fires there.
check "replay backtest output, two models" "$ISOSCOPE" replay --csv "$W/bt.csv" --bundles "$W/bt_models" --json
cp "$W/out" "$W/bt_replay.json"
for v in $(ls "$W/bt_models"); do
  "$ISOSCOPE" replay --bundle "$W/bt_models/$v" --csv "$W/history_last.csv" --json >"$W/one_$v.json"
done
check "per-model thresholds from each model's first row" "$PY" -c '
import csv, json, sys
d = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
first = {}
for r in rows:
    if r["model_version"]:
        first.setdefault(r["model_version"], r["timestamp"])
assert [(m["model_version"], m["from"]) for m in d["models"]] == list(first.items()), d["models"]
for m in d["models"]:
    one = json.load(open(sys.argv[3] + "/one_" + m["model_version"] + ".bundle.json"))
    assert (m["warning"], m["critical"], m["threshold"]) == (one["settings"]["warning"], one["settings"]["critical"], one["threshold"]), (m, one["settings"])
assert d["settings"]["critical"] is None and d["model_version"] is None
assert d["scored_rows"] == sum(1 for r in rows if r["anomaly_score"])
assert d["flagged_rows"] == sum(1 for r in rows if r["is_anomaly"] == "1")
assert all(f["start"] >= d["models"][0]["from"] for s in ("warning", "critical") for f in d[s]["pending"])
' "$W/bt_replay.json" "$W/bt.csv" "$W"
# A hand-made CSV of scores, numeric thresholds, no model: smoothing over (t-1m, t] is the
# score itself; 0.9 at minutes 5..9 holds from 5m, fires at 7m (for 2m), ends at 10m:
# pending 1, firing 1, 3.0m firing, 1 page in 15 minutes = 672 per week.
{ echo "timestamp,anomaly_score"
  for i in $(seq 0 14); do
    if [ "$i" -ge 5 ] && [ "$i" -le 9 ]; then s=0.9; else s=0.1; fi
    echo "$((1767571200 + i * 60)),$s"
  done; } >"$W/hand_scores.csv"
check "replay hand-made scores" "$ISOSCOPE" replay --csv "$W/hand_scores.csv" --warning 0.5 --critical 0.8 \
  --for 2m --smooth 1m --eval-interval 1m
cp "$W/out" "$W/hand_out"
expect_in "hand-made: scores as given" "$W/hand_out" '^replay of .*hand_scores\.csv, scores as given \(no model_version\): 15 rows \(15 scored\)'
expect_in "hand-made: critical row" "$W/hand_out" '^critical +0\.8 +1 +1 +672\.00 +3\.0m$'
expect_in "hand-made: pages" "$W/hand_out" '^pages \(critical firing starts\): 1, 672\.00 per week$'
expect_exit "relative threshold without bundles" 2 \
  "--critical 'contamination/2' is relative to the model .*pass --bundles DIR" \
  "$ISOSCOPE" replay --csv "$W/hand_scores.csv" --warning 0.5
expect_exit "contamination without bundles" 2 "--contamination re-chooses .*--bundles DIR" \
  "$ISOSCOPE" replay --csv "$W/bt.csv" --warning 0.5 --critical 0.8 --contamination 0.01
mkdir -p "$W/bt_one_model"
cp "$W/bt_models/$LAST.bundle" "$W/bt_one_model/"
expect_exit "a model version with no bundle" 2 "no bundle for model [0-9]{8}-[0-9a-f]+ in --bundles" \
  "$ISOSCOPE" replay --csv "$W/bt.csv" --bundles "$W/bt_one_model"
expect_exit "inputs without --bundle" 2 "has no anomaly_score column.*give --bundle B" \
  "$ISOSCOPE" replay --csv "$W/demo/history.csv"
expect_exit "--bundle and --bundles" 2 "not both" \
  "$ISOSCOPE" replay --csv "$W/bt.csv" --bundle "$W/bt_models/$LAST.bundle" --bundles "$W/bt_models"
# The OpenMetrics file backfills with the real promtool; the TSDB holds every sample of the
# CSV (2 per scored row, anomaly_score and is_anomaly; 2 per row with a model, threshold and
# model_version_timestamp), and anomaly_score reads back as the CSV's score at its time.
check "promtool accepts backtest --openmetrics" promtool tsdb create-blocks-from openmetrics -q \
  --max-block-duration=486h "$W/bt.om" "$W/bt_tsdb"
mkdir -p "$W/bt_tsdb/wal"  # promtool 2.42 dump opens the WAL of a Prometheus data dir
promtool tsdb list "$W/bt_tsdb" >"$W/bt_blocks" 2>&1
promtool tsdb dump --match='anomaly_score{detector="demo"}' "$W/bt_tsdb" >"$W/bt_dump" 2>&1
check "backfilled samples equal the CSV" "$PY" -c '
import csv, datetime, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
scored = [r for r in rows if r["anomaly_score"]]
modeled = [r for r in rows if r["model_version"]]
total = sum(int(l.split()[4]) for l in open(sys.argv[2]).read().splitlines()[1:])
assert total == 2 * len(scored) + 2 * len(modeled), (total, len(scored), len(modeled))
ms = lambda t: int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
want = {ms(r["timestamp"]): float(r["anomaly_score"]) for r in scored}
got = {}
for l in open(sys.argv[3]):
    m = re.match(r"^\{.*detector=\"demo\".*\} (\S+) (\d+)$", l.strip())
    assert m, l
    got[int(m.group(2))] = float(m.group(1))
assert got == want, (len(got), len(want))
print("samples", total, "scores read back", len(got))
' "$W/bt.csv" "$W/bt_blocks" "$W/bt_dump"

# The daemon without Prometheus: the demo's bundle installed into a store, and isoscope serve
# replaying the demo's history (--replay-csv); /metrics shows the score isoscope score gave.
cat >"$W/replay.yml" <<'EOF'
prometheus: {url: http://127.0.0.1:9}
models_dir: models
detectors:
  - name: demo
    queries: {latency_p95: latency_p95, error_rate: error_rate, cpu_throttle: cpu_throttle, memory_mb: memory_mb}
    model: {contamination: 0.02}
  - name: partial
    queries: {latency_p95: latency_p95}
    model: {contamination: 0.02}
EOF
check "install demo bundle" "$ISOSCOPE" install --config "$W/replay.yml" --detector demo --bundle "$W/demo/model.bundle"
cp "$W/out" "$W/install_out"
expect_in "install moves latest" "$W/install_out" "installed +.*/models/demo/[0-9]{8}-[0-9a-f]+\.bundle \(latest\)"
expect_exit "install refuses missing inputs" 1 "has no query for: error_rate, cpu_throttle, memory_mb" \
  "$ISOSCOPE" install --config "$W/replay.yml" --detector partial --bundle "$W/demo/model.bundle"
expect_exit "install refuses a damaged bundle" 3 "checksum" \
  "$ISOSCOPE" install --config "$W/replay.yml" --detector demo --bundle "$W/flip.bundle"
sed -i '/name: partial/,$d' "$W/replay.yml"
printf 'timestamp,latency_p95\n2026-08-03T00:00:00Z,1\n' >"$W/one_column.csv"
expect_exit "replay without a query's column" 1 "has no column 'error_rate'" \
  "$ISOSCOPE" serve --config "$W/replay.yml" --replay-csv "$W/one_column.csv" --web.listen-address 127.0.0.1:0
expect_exit "bad replay speed" 2 "replay-speed" \
  "$ISOSCOPE" serve --config "$W/replay.yml" --replay-csv "$W/demo/history.csv" --replay-speed 0
REPLAY_AT=2026-08-20T03:00:00Z
"$ISOSCOPE" serve --config "$W/replay.yml" --replay-csv "$W/demo/history.csv" --start-time "$REPLAY_AT" \
  --web.listen-address 127.0.0.1:0 2>"$W/serve.log" &
SERVE_PID=$!
wait_for_scores "$W/serve.log"
expect_in "replay serve scores" "$W/metrics" '^anomaly_score\{detector="demo"\} 0\.[0-9]+'
expect_in "replay serve state" "$W/metrics" '^anomaly_model_state\{detector="demo",state="scored"\} 1'
expect_in "replay serve logs the replay" "$W/serve.log" 'msg="replaying history instead of querying Prometheus".* rows=40320 '
check "replay score equals isoscope score" "$PY" -c '
import csv, re, sys
served = float(re.search(r"^anomaly_score\{detector=\"demo\"\} (\S+)$", open(sys.argv[1]).read(), re.M).group(1))
row = [r for r in csv.DictReader(open(sys.argv[2])) if r["timestamp"] == sys.argv[3]][0]
assert abs(served - float(row["anomaly_score"])) <= 1e-12, (served, row)
print("served", served, "scored", row["anomaly_score"])
' "$W/metrics" "$W/demo/scores.csv" "$REPLAY_AT"
kill "$SERVE_PID"
wait "$SERVE_PID"
rc=$?
SERVE_PID=""
expect_in "replay serve stops on SIGTERM" "$W/serve.log" 'msg=stopped'
[ "$rc" = 0 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: serve exit $rc after SIGTERM"; }

# The same for a model on seasonal baselines: the daemon fetches each past period's value per
# row (look-ups) and, for the smoothed residual, fills half an hour of them at start-up; its
# score must equal the batch score the moment it starts.
check "train seasonal" "$ISOSCOPE" train --csv "$W/demo/history.csv" --out "$W/seasonal.bundle" \
  --n-estimators 50 --contamination 0.02 --derived \
  'raw=off,seasonal_median_diff(latency_p95,1w,3),seasonal_median_diff(memory_mb,1w,3,30m),seasonal_median_diff(error_rate,1d,2,10m)'
check "score seasonal" "$ISOSCOPE" score --bundle "$W/seasonal.bundle" --csv "$W/demo/history.csv" \
  --out "$W/seasonal_scores.csv"
sed 's#^models_dir: models#models_dir: models_seasonal#' "$W/replay.yml" >"$W/seasonal.yml"
check "install seasonal" "$ISOSCOPE" install --config "$W/seasonal.yml" --detector demo --bundle "$W/seasonal.bundle"
SEASONAL_AT=2026-08-26T03:07:00Z
"$ISOSCOPE" serve --config "$W/seasonal.yml" --replay-csv "$W/demo/history.csv" --start-time "$SEASONAL_AT" \
  --web.listen-address 127.0.0.1:0 2>"$W/seasonal.log" &
SERVE_PID=$!
wait_for_scores "$W/seasonal.log"
check "seasonal serve score equals isoscope score at start" "$PY" -c '
import csv, re, sys
served = float(re.search(r"^anomaly_score\{detector=\"demo\"\} (\S+)$", open(sys.argv[1]).read(), re.M).group(1))
row = [r for r in csv.DictReader(open(sys.argv[2])) if r["timestamp"] == sys.argv[3]][0]
assert row["anomaly_score"] != "", row
assert abs(served - float(row["anomaly_score"])) <= 1e-12, (served, row)
print("served", served, "scored", row["anomaly_score"])
' "$W/metrics" "$W/seasonal_scores.csv" "$SEASONAL_AT"
kill "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=""

# Time columns as real exports have them (the same rules in train, score, backtest and replay).
# Expected outputs are written by hand, or are the same command on the file cleaned by hand.
# A repeated timestamp: the later row wins, the earlier gets a row without a score.
printf 'timestamp,x\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,2\n2026-01-05T00:01:00Z,3\n2026-01-05T00:02:00Z,4\n' >"$W/tc_dup.csv"
printf 'timestamp,x\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,3\n2026-01-05T00:02:00Z,4\n' >"$W/tc_dup_clean.csv"
sed '1s/latency/x/' "$W/short.csv" >"$W/tc_x_train.csv"
check "time: train a point model on x" "$ISOSCOPE" train --csv "$W/tc_x_train.csv" --out "$W/tc_x.bundle" \
  --derived none --n-estimators 20 --contamination 0.1 -q
# The order rules hold where order matters: for a model with temporal features. A point model
# scores each row alone and keeps every row as written (rows of several hosts may share a time).
check "time: train a temporal model on x" "$ISOSCOPE" train --csv "$W/tc_x_train.csv" --out "$W/tc_xt.bundle" \
  --derived 'delta(x,1m)' --n-estimators 20 --contamination 0.1 -q
check "time: a point model scores every row of a repeated timestamp" "$ISOSCOPE" score --bundle "$W/tc_x.bundle" \
  --csv "$W/tc_dup.csv" --out "$W/tc_dup_point.csv"
check "time: ... each row scored, none dropped" "$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["row"] for r in rows] == ["0", "1", "2", "3"] and all(r["anomaly_score"] for r in rows), rows
' "$W/tc_dup_point.csv"
check "time: score a repeated timestamp" "$ISOSCOPE" score --bundle "$W/tc_xt.bundle" --csv "$W/tc_dup.csv" --out "$W/tc_dup_scores.csv"
cp "$W/err" "$W/tc_dup_err"
expect_in "time: the earlier row says why it has no score" "$W/tc_dup_scores.csv" \
  '^1,2026-01-05T00:01:00Z,,,,no score: time repeated by row 2 \(the later row is scored\),,$'
expect_in "time: score says how many rows repeated a time" "$W/tc_dup_err" \
  'tc_dup\.csv: 1 row repeated the time of the row after it; the later row was kept \(first at row 1\)$'
"$ISOSCOPE" score --bundle "$W/tc_xt.bundle" --csv "$W/tc_dup_clean.csv" --out "$W/tc_clean_scores.csv" -q
check "time: the later row's value is scored" "$PY" -c '
import csv, sys
dup = list(csv.DictReader(open(sys.argv[1])))
clean = list(csv.DictReader(open(sys.argv[2])))
assert [r["row"] for r in dup] == ["0", "1", "2", "3"], dup
assert [r["anomaly_score"] for r in (dup[0], dup[2], dup[3])] == [r["anomaly_score"] for r in clean], (dup, clean)
' "$W/tc_dup_scores.csv" "$W/tc_clean_scores.csv"

# A temporal model on a file with a repeated time: trains as on the file without it (same model).
{ echo "timestamp,x"
  for i in $(seq 0 299); do
    echo "$((1767571200 + i * 60)),$((i % 7))"
    [ "$i" = 100 ] && echo "$((1767571200 + i * 60)),9"
  done; } >"$W/tc_dup_long.csv"
"$PY" -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
out = [l for i, l in enumerate(lines) if i + 1 == len(lines) or i == 0 or l.split(",")[0] != lines[i + 1].split(",")[0]]
assert len(out) == len(lines) - 1
open(sys.argv[2], "w").write("\n".join(out) + "\n")
' "$W/tc_dup_long.csv" "$W/tc_dup_long_clean.csv"
check "time: train temporal on a repeated time" "$ISOSCOPE" train --csv "$W/tc_dup_long.csv" --out "$W/tc_t.bundle" \
  --derived 'delta(x,5m)' --n-estimators 20 --contamination 0.05
cp "$W/out" "$W/tc_train_report"
expect_in "time: report counts the repeated row" "$W/tc_train_report" '^  dropped +1 rows: time repeated by the next row \(the later row kept\)$'
expect_in "time: report counts every row of the file" "$W/tc_train_report" '^rows +295 used, 6 dropped \(of 301\)$'
check "time: train on the file cleaned by hand" "$ISOSCOPE" train --csv "$W/tc_dup_long_clean.csv" --out "$W/tc_t_clean.bundle" \
  --derived 'delta(x,5m)' --n-estimators 20 --contamination 0.05
cp "$W/out" "$W/tc_train_clean_report"
check "time: the same model as on the clean file" "$PY" -c '
import re, sys
v = [re.search(r"^model version +(\S+)$", open(f).read(), re.M).group(1) for f in sys.argv[1:]]
assert v[0] == v[1], v
' "$W/tc_train_report" "$W/tc_train_clean_report"

# score works in chunks of 4,096 kept rows, all steps at once on every core. A temporal model
# on 12,001 rows whose repeated times fall on and around the chunk boundaries (file row 4,096,
# the first after chunk 0's last kept row, repeats the next; a run of three from 8,190; a pair
# at 11,000): each kept row's output equals the row of the file cleaned by hand, and each
# dropped row names the later row, found here from the file alone.
"$PY" -c '
import sys
rows, t = [], 1767571200
for i in range(12000):
    rows.append((t + 60 * i, (i * 37) % 101 / 10))
for at, n in ((4096, 1), (8190, 2), (11000, 1)):
    rows[at + 1:at + 1] = [(rows[at][0], 5.5 + k) for k in range(n)]
rows = rows[:12001]
open(sys.argv[1], "w").write("timestamp,x\n" + "".join("%d,%s\n" % r for r in rows))
keep = [i for i in range(len(rows)) if i + 1 == len(rows) or rows[i][0] != rows[i + 1][0]]
open(sys.argv[2], "w").write("timestamp,x\n" + "".join("%d,%s\n" % rows[i] for i in keep))
' "$W/chunks_dup.csv" "$W/chunks_clean.csv"
check "chunks: score a long file with repeated times" "$ISOSCOPE" score --bundle "$W/tc_t.bundle" \
  --csv "$W/chunks_dup.csv" --out "$W/chunks_dup_scores.csv" -q
check "chunks: score the file cleaned by hand" "$ISOSCOPE" score --bundle "$W/tc_t.bundle" \
  --csv "$W/chunks_clean.csv" --out "$W/chunks_clean_scores.csv" -q
check "chunks: kept rows as on the clean file, dropped rows name the later row" "$PY" -c '
import csv, sys
dup = list(csv.DictReader(open(sys.argv[1])))
clean = list(csv.DictReader(open(sys.argv[2])))
times = [l.split(",")[0] for l in open(sys.argv[3]).read().splitlines()[1:]]
assert [r["row"] for r in dup] == [str(i) for i in range(len(times))], len(dup)
later = {}
for i in range(len(times) - 1, -1, -1):
    later[i] = later[i + 1] if i + 1 < len(times) and times[i + 1] == times[i] else i
dropped = [i for i in range(len(times)) if later[i] != i]
assert dropped == [4096, 8190, 8191, 11000], dropped
kept = [r for i, r in enumerate(dup) if later[i] == i]
cols = ["timestamp", "anomaly_score", "decision", "is_anomaly", "reason", "surprise", "onset"]
assert len(kept) == len(clean)
for a, b in zip(kept, clean):
    assert [a[c] for c in cols] == [b[c] for c in cols], (a, b)
for i in dropped:
    assert dup[i]["reason"] == "no score: time repeated by row %d (the later row is scored)" % later[i], dup[i]
' "$W/chunks_dup_scores.csv" "$W/chunks_clean_scores.csv" "$W/chunks_dup.csv"
# A point model builds each chunk's rows inside its scoring step; --explain builds them all up
# front. Both give the same rows, missing values among them.
"$PY" -c '
import sys
out = ["a,b"]
for i in range(10000):
    a = "" if i % 1999 == 5 else "%g" % ((i * 13) % 97)
    out.append("%s,%g" % (a, (i * 7) % 89 / 3))
open(sys.argv[1], "w").write("\n".join(out) + "\n")
' "$W/chunks_point.csv"
check "chunks: train a point model" "$ISOSCOPE" train --csv "$W/chunks_point.csv" --out "$W/chunks_point.bundle" \
  --derived none --n-estimators 30 --contamination 0.05 -q
check "chunks: score in chunks" "$ISOSCOPE" score --bundle "$W/chunks_point.bundle" --csv "$W/chunks_point.csv" \
  --out "$W/chunks_point_scores.csv" -q
check "chunks: score with --explain" "$ISOSCOPE" score --bundle "$W/chunks_point.bundle" \
  --csv "$W/chunks_point.csv" --explain --out "$W/chunks_point_explain.csv" -q
check "chunks: rows built in the chunks score as rows built whole" "$PY" -c '
import csv, sys
a = list(csv.reader(open(sys.argv[1])))
b = [r[:8] for r in csv.reader(open(sys.argv[2]))]
assert len(a) == 10001 and a == b, (len(a), len(b))
assert sum(1 for r in a[1:] if r[5].startswith("no score: missing value in a")) == 5
' "$W/chunks_point_scores.csv" "$W/chunks_point_explain.csv"

# A repeated hour, as a clock change leaves it in real exports: 5-minute rows, the skipped
# hour's twelve rows all stamped 03:00:00, times without a zone.
"$PY" -c '
import datetime as dt
t = dt.datetime(2014, 3, 5)
rows = []
while t < dt.datetime(2014, 3, 12):
    if t.date() == dt.date(2014, 3, 9) and t.hour == 2:
        rows.append(("2014-03-09 03:00:00", t.minute))
    else:
        rows.append((t.strftime("%Y-%m-%d %H:%M:%S"), t.minute))
    t += dt.timedelta(minutes=5)
open("'"$W"'/tc_hour.csv", "w").write("timestamp,value\n" + "".join("%s,%d\n" % r for r in rows))
first = [r[0] for r in rows].index("2014-03-09 03:00:00")
open("'"$W"'/tc_hour_first", "w").write(str(first))
'
FIRST=$(cat "$W/tc_hour_first")  # the first of the 13 rows at 03:00 (12 of the hour + its own)
check "time: train temporal on a repeated hour" "$ISOSCOPE" train --csv "$W/tc_hour.csv" --out "$W/tc_hour.bundle" \
  --derived 'zscore(value,1h),hour_of_week' --n-estimators 20 --contamination 0.05
cp "$W/out" "$W/tc_hour_report"
expect_in "time: 12 repeated rows dropped" "$W/tc_hour_report" '^  dropped +12 rows: time repeated by the next row \(the later row kept\)$'
expect_in "time: zone-less times read as UTC" "$W/tc_hour_report" \
  "^WARNING: times without a zone \(such as '2014-03-05 00:00:00'\) were read as UTC$"
[ "$(grep -c 'without a zone' "$W/tc_hour_report")" = 1 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: the zone note is not said exactly once"; }
check "time: score a repeated hour" "$ISOSCOPE" score --bundle "$W/tc_hour.bundle" --csv "$W/tc_hour.csv" --out "$W/tc_hour_scores.csv"
cp "$W/err" "$W/tc_hour_err"
expect_in "time: score notes the repeated hour" "$W/tc_hour_err" "12 rows repeated the time of the row after it; the later row was kept \(first at row $FIRST\)$"
expect_in "time: score notes the zone once" "$W/tc_hour_err" "times without a zone \(such as '2014-03-05 00:00:00'\) were read as UTC$"
check "time: score rows of a repeated hour" "$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first = int(sys.argv[2])
assert [int(r["row"]) for r in rows] == list(range(len(rows)))
for r in rows[first:first + 12]:
    assert r["timestamp"] == "2014-03-09 03:00:00" and r["anomaly_score"] == "", r
    assert r["reason"] == "no score: time repeated by row %d (the later row is scored)" % (first + 12), r
assert rows[first + 12]["timestamp"] == "2014-03-09 03:00:00" and "repeated" not in rows[first + 12]["reason"]
assert sum(1 for r in rows if r["anomaly_score"]) > 1900
' "$W/tc_hour_scores.csv" "$FIRST"
# Zone-less times are UTC, whatever the machine's zone: the same rows written with Z score the
# same with hour_of_week.
sed -E '2,$s/^([0-9-]+) ([0-9:]+),/\1T\2Z,/' "$W/tc_hour.csv" >"$W/tc_hour_z.csv"
TZ=America/New_York "$ISOSCOPE" score --bundle "$W/tc_hour.bundle" --csv "$W/tc_hour.csv" --out "$W/tc_hour_scores.csv" -q
"$ISOSCOPE" score --bundle "$W/tc_hour.bundle" --csv "$W/tc_hour_z.csv" --out "$W/tc_hour_z_scores.csv" -q
check "time: zone-less scores equal UTC scores" "$PY" -c '
import csv, sys
a = [r["anomaly_score"] for r in csv.DictReader(open(sys.argv[1]))]
b = [r["anomaly_score"] for r in csv.DictReader(open(sys.argv[2]))]
assert a == b and len(a) == 2016, len(a)
' "$W/tc_hour_scores.csv" "$W/tc_hour_z_scores.csv"
check "time: backtest a repeated hour" "$ISOSCOPE" backtest --csv "$W/tc_hour.csv" --out "$W/tc_hour_bt.csv" \
  --initial 3d --retrain-every 2d --train-window 7d --derived 'zscore(value,1h)' --n-estimators 20 --contamination 0.05
cp "$W/err" "$W/tc_hour_bt_err"
expect_in "time: backtest notes the repeated hour" "$W/tc_hour_bt_err" "backtest: .*tc_hour\.csv: 12 rows repeated the time of the row after it"
check "time: backtest rows of a repeated hour" "$PY" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first = int(sys.argv[2])
assert len(rows) == 2016 and [int(r["row"]) for r in rows] == list(range(2016))
for r in rows[first:first + 12]:
    assert (r["timestamp"], r["anomaly_score"], r["model_version"]) == ("2014-03-09T03:00:00Z", "", ""), r
    assert r["reason"] == "no score: time repeated by row %d (the later row is scored)" % (first + 12), r
assert rows[first + 12]["model_version"] != "" and "repeated" not in rows[first + 12]["reason"]
' "$W/tc_hour_bt.csv" "$FIRST"
check "time: replay a repeated hour" "$ISOSCOPE" replay --bundle "$W/tc_hour.bundle" --csv "$W/tc_hour.csv"
cp "$W/out" "$W/tc_hour_replay"
expect_in "time: replay notes the repeated hour" "$W/tc_hour_replay" "tc_hour\.csv: 12 rows repeated the time of the row after it; the later row was kept \(first at row $FIRST\)$"
expect_in "time: replay notes the zone" "$W/tc_hour_replay" "tc_hour\.csv: times without a zone \(such as '2014-03-05 00:00:00'\) were read as UTC$"

# A step back in time: exit 1 (bad data), both rows (0-based, as score's row column) and times.
printf 'timestamp,x\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,2\n2026-01-05T00:02:00Z,3\n2026-01-05T00:01:30Z,4\n2026-01-05T00:03:00Z,5\n' >"$W/tc_back.csv"
BACK="tc_back\.csv: the time goes back at row 3: '2026-01-05T00:01:30Z' is earlier than '2026-01-05T00:02:00Z' at row 2 \(rows numbered from 0"
expect_exit "time: score refuses a step back" 1 "$BACK" "$ISOSCOPE" score --bundle "$W/tc_xt.bundle" --csv "$W/tc_back.csv"
check "time: a point model scores rows in any order" "$ISOSCOPE" score --bundle "$W/tc_x.bundle" --csv "$W/tc_back.csv" -q
expect_exit "time: train refuses a step back" 1 "$BACK" "$ISOSCOPE" train --csv "$W/tc_back.csv" --out "$W/tc_back.bundle" --derived 'delta(x,1m)'
expect_exit "time: backtest refuses a step back" 1 "$BACK" "$ISOSCOPE" backtest --csv "$W/tc_back.csv" --out "$W/tc_back_bt.csv" \
  --initial 2 --retrain-every 1 --train-window 2
expect_exit "time: replay refuses a step back" 1 "$BACK" "$ISOSCOPE" replay --bundle "$W/tc_x.bundle" --csv "$W/tc_back.csv"
printf 'timestamp,anomaly_score\n2026-01-05T00:00:00Z,0.1\n2026-01-05T00:01:00Z,0.2\n2026-01-05T00:02:00Z,0.3\n2026-01-05T00:01:30Z,0.4\n' >"$W/tc_back_scores.csv"
expect_exit "time: replay of scores refuses a step back" 1 \
  "tc_back_scores\.csv: the time goes back at row 3: '2026-01-05T00:01:30Z' is earlier than '2026-01-05T00:02:00Z' at row 2" \
  "$ISOSCOPE" replay --csv "$W/tc_back_scores.csv" --warning 0.5 --critical 0.8
[ ! -e "$W/tc_back.bundle" ] && [ ! -e "$W/tc_back_bt.csv" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a refused file left output"; }

# The other repeated hour: a local clock set back (01:00-01:55 twice) goes back in time, which
# no order can be guessed for; the README says to convert such an export to UTC first.
{ echo "timestamp,x"
  for h in 00 01 01 02; do for m in 00 05 10 15 20 25 30 35 40 45 50 55; do echo "2014-11-02 $h:$m:00,1"; done; done; } >"$W/tc_fallback.csv"
expect_exit "time: a local clock set back is refused" 1 \
  "tc_fallback\.csv: the time goes back at row 24: '2014-11-02 01:00:00' is earlier than '2014-11-02 01:55:00' at row 23 " \
  "$ISOSCOPE" score --bundle "$W/tc_xt.bundle" --csv "$W/tc_fallback.csv"

# replay: a repeated time in a CSV of scores (the later row wins) replays as the file without it.
{ echo "timestamp,anomaly_score"
  for i in $(seq 0 14); do
    if [ "$i" -ge 5 ] && [ "$i" -le 9 ]; then s=0.9; else s=0.1; fi
    [ "$i" = 7 ] && echo "$((1767571200 + i * 60)),0.1"
    echo "$((1767571200 + i * 60)),$s"
  done; } >"$W/tc_dup_scores_given.csv"
"$ISOSCOPE" replay --csv "$W/tc_dup_scores_given.csv" --warning 0.5 --critical 0.8 --for 2m --smooth 1m --json >"$W/tc_dup_given.json"
"$ISOSCOPE" replay --csv "$W/hand_scores.csv" --warning 0.5 --critical 0.8 --for 2m --smooth 1m --json >"$W/tc_hand.json"
check "time: replay with a repeated time equals the clean file" "$PY" -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert (a.pop("rows"), a.pop("repeated_time_rows"), b.pop("rows"), b.pop("repeated_time_rows")) == (16, 1, 15, 0)
assert a == b, [(k, a[k], b[k]) for k in a if a[k] != b.get(k)]
' "$W/tc_dup_given.json" "$W/tc_hand.json"

# replay: rates per week of scored time. Minutes 0-9 warming (no score), 10-24 scored (0.9 at
# 15-19), no rows 25-74, 75-89 scored: 90 evaluations of 1m, 30 of them with a score (smooth
# 1m holds only the row at t). One page (pending 15m, firing 17m-20m): 10080 / 30 = 336 a week,
# not 10080 / 90 = 112.
{ echo "timestamp,anomaly_score"
  for i in $(seq 0 89); do
    if [ "$i" -lt 10 ]; then s=""; elif [ "$i" -ge 15 ] && [ "$i" -le 19 ]; then s=0.9; else s=0.1; fi
    if [ "$i" -lt 25 ] || [ "$i" -ge 75 ]; then echo "$((1767571200 + i * 60)),$s"; fi
  done; } >"$W/tc_gap_scores.csv"
check "time: replay with warming and a gap" "$ISOSCOPE" replay --csv "$W/tc_gap_scores.csv" --warning 0.5 --critical 0.8 \
  --for 2m --smooth 1m --eval-interval 1m
cp "$W/out" "$W/tc_gap_out"
expect_in "time: replay says how much time was scored" "$W/tc_gap_out" '^scored time: 30\.0m of 1\.5h \('
expect_in "time: critical firings per scored week" "$W/tc_gap_out" '^critical +0\.8 +1 +1 +336\.00 +3\.0m$'
expect_in "time: pages per scored week" "$W/tc_gap_out" '^pages \(critical firing starts\): 1, 336\.00 per week$'
"$ISOSCOPE" replay --csv "$W/tc_gap_scores.csv" --warning 0.5 --critical 0.8 --for 2m --smooth 1m --json >"$W/tc_gap.json"
check "time: replay JSON gives scored and replayed seconds" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["scored_seconds"], d["replayed_seconds"], d["pages"], d["pages_per_week"]) == (1800, 5400, 1, 336), d
assert d["warning"]["firings_per_week"] == 336 and d["evaluations"] == 90, d
' "$W/tc_gap.json"

# --help of train and backtest lists the whole --derived grammar; backtest takes every model flag.
"$ISOSCOPE" train --help >"$W/tc_train_help"
"$ISOSCOPE" backtest --help >"$W/tc_bt_help"
for f in hour_of_week is_deploy_window 'lag(x,D)' 'lag(x,k)' 'lag(x,1..k)' 'delta(x,D)' 'rate(x,D)' 'zscore(x,D)' \
  'range(x,D)' 'mean(x,D)' 'seasonal_diff(x,P)' 'seasonal_median_diff(x,P,K[,S])' raw=off "'auto'" "'none'"; do
  for h in tc_train_help tc_bt_help; do
    grep -qF -- "$f" "$W/$h" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: $h lacks $f"; }
  done
done
# --config-only flags (Prometheus pulls: --chunk, --shard, --group-memory) have no meaning for a CSV backtest.
for flag in $(grep -oE '^ +--[a-z-]+' "$W/tc_train_help" | tr -d ' ' | grep -vxE -- '--(config|detector|end|chunk|shard|group-memory|no-time|help)'); do
  grep -qE -- "^ +$flag( |$)" "$W/tc_bt_help" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: backtest lacks train's $flag"; }
done
check "time: backtest with train's --scaler --max-features --bootstrap" "$ISOSCOPE" backtest --csv "$W/tc_hour.csv" \
  --out "$W/tc_flags_bt.csv" --initial 3d --retrain-every 7d --train-window 7d --derived hour_of_week \
  --scaler none --max-features 1 --bootstrap --n-estimators 5 --contamination 0.05 --save-bundles "$W/tc_flags_models" -q
"$ISOSCOPE" inspect --bundle "$(ls "$W"/tc_flags_models/*.bundle | head -1)" >"$W/tc_flags_inspect"
expect_in "time: backtest passed --scaler none" "$W/tc_flags_inspect" '^scaler +none$'
expect_in "time: backtest passed --max-features and --bootstrap" "$W/tc_flags_inspect" 'max_features 1 \(1 of 2\), bootstrap yes'

# The daemon's configuration: the README example passes; a bad file lists every problem (exit 2).
FIX=$ROOT/tests/fixtures
check "check-config example" "$ISOSCOPE" check-config --config "$FIX/isoscope.yml"
cp "$W/out" "$W/check_out"
expect_in "check-config OK" "$W/check_out" 'isoscope\.yml: OK \(2 detectors: checkout, queue\)$'
expect_in "check-config summary" "$W/check_out" \
  '^  checkout: 3 queries \(latency_p95, error_rate, cpu_throttle\), group_by \[job\].*lookback 90d.*200 trees, contamination 0\.02'
expect_exit "check-config bad file" 2 \
  'bad_several\.yml:13: detectors\[0\]\.model\.contamination: missing — set the expected share' \
  "$ISOSCOPE" check-config --config "$FIX/bad_several.yml"
cp "$W/err" "$W/check_err"
expect_in "check-config lists every problem" "$W/check_err" 'bad_several\.yml: 13 problems$'
expect_in "check-config line of a typo" "$W/check_err" 'bad_several\.yml:11: detectors\[0\]\.lookbak: unknown key — did you mean lookback\?'
expect_in "check-config path traversal" "$W/check_err" "bad_several\.yml:8: detectors\[0\]\.name: '\.\./x' cannot be"
[ ! -s "$W/out" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check-config printed OK output for a bad file"; }
expect_exit "check-config syntax error" 2 'bad_syntax\.yml:7: YAML syntax error at column [0-9]+' \
  "$ISOSCOPE" check-config --config "$FIX/bad_syntax.yml"
expect_exit "check-config missing file" 2 "not exist" "$ISOSCOPE" check-config --config "$W/none.yml"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
