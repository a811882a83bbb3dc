#!/bin/bash
# Training for a fleet against real parts (Debian's prometheus, the real binary, scikit-learn):
#  1. `train --config --chunk 12h` streams 2 days of 12 groups in 5 chunks, twice; its trees are
#     scikit-learn's StandardScaler + IsolationForest on the same rows in the documented order
#     (tests/e2e/train_fleet_check.py pulls them itself), array for array, and its offset within
#     1e-15 of sklearn's offset_;
#     and `--chunk auto` sizes the chunks as documented (1h, then at most 1d);
#  2. three training shards (`--shard I/3`, the Indexed Job): shard 0 installs the pooled model,
#     shards 1 and 2 say they have nothing to do, exit 0 and install nothing;
#  3. three serving shards (`serve --shard I/3`) load that model and together score each of the
#     12 groups exactly once, each on the replica tools/shard_hash.py names.
#   train_fleet_e2e.sh ISOSCOPE [PYTHON3]
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
E2E_DAYS=3 e2e_begin fleet
PIDS=("" "" "")
e2e_on_cleanup() { stop_replicas; }
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# fanout METRIC: each job copied six times (job="checkout-0".."payments-5"): 12 groups.
fanout() {
  local i q=""
  for i in 0 1 2 3 4 5; do
    q="$q${q:+ or }label_replace($1, \"job\", \"\$1-$i\", \"job\", \"(.*)\")"
  done
  echo "$q"
}
LAT=$(fanout latency_p95)
ERR=$(fanout error_rate)
cat >"$W/isoscope.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 10s
models_dir: $W/models
detectors:
  - name: fleet
    queries:
      latency_p95: '$LAT'
      error_rate: '$ERR'
    group_by: [job]
    derived: []
    step: 60s
    lookback: 2d
    interval: 1s
    model:
      n_estimators: 40
      contamination: 0.02
      random_state: 42
YAML

# 1. Streamed training equals scikit-learn on the rows in the documented order.
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end "$PROM_END" --chunk 12h \
  >"$W/train.out" 2>"$W/train.err" && ok || { bad "train --chunk 12h"; cat "$W/train.out" "$W/train.err"; exit 1; }
grep -q "groups            12" "$W/train.out" && ok || bad "12 groups"
grep -q "pass 2: joined 34572 rows over 12 groups" "$W/train.err" && ok ||
  bad "pass 2 saw (2*1440+1)*12 rows: $(cat "$W/train.err")"
"$ISOSCOPE" inspect --json --bundle "$W/models/fleet/latest" >"$W/ours.json" && ok || bad "inspect --json"
"$PY" "$HERE/train_fleet_check.py" "$PROM_URL" "$PROM_END" 172800 43200 60 40 0.02 42 \
  "latency_p95=$LAT" "error_rate=$ERR" >"$W/sklearn.json" && ok || bad "scikit-learn reference"
"$PY" - "$W/ours.json" "$W/sklearn.json" <<'PYEOF' && ok || bad "trees and offset equal scikit-learn's"
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
assert ours["training"]["rows_used"] == ref["rows"], (ours["training"]["rows_used"], ref["rows"])
assert len(ours["trees"]) == len(ref["trees"]) == 40
for t, (a, b) in enumerate(zip(ours["trees"], ref["trees"])):
    for k in ("children_left", "feature", "threshold", "n_node_samples"):
        assert a[k] == b[k], f"tree {t} {k}"
assert abs(ours["offset_"] - ref["offset_"]) <= 1e-15, (ours["offset_"], ref["offset_"])
print(f"  {ref['rows']} rows, 40 trees identical to scikit-learn's, offset {ours['offset_']!r}")
PYEOF

# --chunk auto (the default): the first chunk one hour (60 steps), then 250,000 rows at 12 groups
# is capped at one day (1,440 steps); the window's 2,881 steps are 60 + 1,440 + 1,381: 3 chunks.
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end "$PROM_END" \
  >"$W/auto.out" 2>"$W/auto.err" && ok || bad "train --chunk auto"
grep -q "pass 2: joined 34572 rows over 12 groups .* (3 chunks, largest 17280 rows" "$W/auto.err" && ok ||
  bad "auto chunks: 1h, 1d, the rest: $(cat "$W/auto.err")"

# 2. Three training shards: only shard 0 trains the pooled model.
before=$(find "$W/models/fleet" -name '*.bundle' | wc -l)
for i in 0 1 2; do
  "$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end "$((PROM_END - 60))" \
    --shard "$i/3" >"$W/shard_$i.out" 2>"$W/shard_$i.err" && ok || { bad "train --shard $i/3"; cat "$W/shard_$i.err"; }
done
grep -q "installed" "$W/shard_0.out" && ok || bad "shard 0 installs"
for i in 1 2; do
  grep -q "shard $i/3: detector fleet has one pooled model, which shard 0/3 trains; nothing to do" \
    "$W/shard_$i.out" && ok || bad "shard $i says it has nothing to do: $(cat "$W/shard_$i.out")"
done
[ "$(find "$W/models/fleet" -name '*.bundle' | wc -l)" = $((before + 1)) ] && ok || bad "one new version"
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --shard 3/3 >"$W/bad.out" 2>&1
[ $? = 2 ] && grep -q -- "--shard" "$W/bad.out" && ok || bad "--shard 3/3 refused (exit 2): $(cat "$W/bad.out")"

# 3. Three serving shards: each group scored once, by the replica the shard hash names.
for i in 0 1 2; do
  log=$W/replica_$i.log
  "$ISOSCOPE" serve --config "$W/isoscope.yml" --shard "$i/3" --web.listen-address 127.0.0.1:0 \
    --start-time "$PROM_END" 2>"$log" &
  PIDS[i]=$!
  _listening() { grep -q 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$log" 2>/dev/null; }
  wait_for 30 _listening && ok || { bad "replica $i starts"; cat "$log"; exit 1; }
done
scored() {  # the "job shard" pairs of every replica's anomaly_score series
  local i port
  for i in 0 1 2; do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$W/replica_$i.log" | grep -o '[0-9]*"$' | tr -d '"')
    curl -fs "http://127.0.0.1:$port/metrics" | grep '^anomaly_score{' |
      sed -n "s/.*job=\"\([^\"]*\)\".*/\1 $i/p"
  done | sort
}
twelve() { [ "$(scored | wc -l)" = 12 ]; }
wait_for 30 twelve && ok || bad "12 anomaly_score series over the replicas: $(scored)"
for j in checkout payments; do
  for k in 0 1 2 3 4 5; do
    echo "$j-$k $("$PY" "$ROOT/tools/shard_hash.py" --shard 3 detector=fleet "job=$j-$k")"
  done
done | sort >"$W/expected.txt"
scored >"$W/scored.txt"
diff "$W/expected.txt" "$W/scored.txt" >/dev/null && ok || bad "owners differ: $(diff "$W/expected.txt" "$W/scored.txt")"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
