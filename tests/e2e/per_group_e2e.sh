#!/bin/bash
# model: per: group against real parts (Debian's prometheus, the real binary, scikit-learn):
# six groups whose latency levels differ by orders of magnitude (x1, x100, x10000) and one,
# `fresh`, with two hours of history (120 rows, under min_rows: 1000).
#  1. three training shards (`train --shard I/3`): shard 0 installs the pooled model; together
#     they write exactly the six expected group directories models/fleet/groups/<hash>/ (hashes
#     from tools/shard_hash.py), each on the shard the hash names; `fresh` falls back;
#  2. a group's bundle holds its labels and is scikit-learn's StandardScaler + IsolationForest
#     fitted on that group's rows alone (tests/e2e/per_group_check.py pulls them itself);
#     an unsharded run whose --group-memory forces pass 2 into three batches installs the same;
#  3. three serving shards score each of the seven groups once, by the replica the hash
#     names; isoscope_group_models says 6 by their own model, 1 pooled; GET .../groups names
#     each group's model and why `fresh` is pooled; /bundle?group= serves the group's bundle;
#     a group's anomaly_score equals `isoscope score` with its own bundle.
#   per_group_e2e.sh ISOSCOPE [PYTHON3]
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
E2E_DAYS=2 e2e_begin pergroup
PIDS=("" "" "")
e2e_on_cleanup() { stop_replicas; }
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# groups METRIC SCALE?: jobs checkout-i and payments-i (i = 0, 1, 2), latency times 100^i when
# SCALE is set; plus `fresh`, checkout's series over the last two hours only.
groups() {
  local i q="" v
  for i in 0 1 2; do
    v=$1
    [ -n "${2:-}" ] && v="$1 * $((100 ** i))"
    q="$q${q:+ or }label_replace($v, \"job\", \"\$1-$i\", \"job\", \"(.*)\")"
  done
  echo "$q or (label_replace($1{job=\"checkout\"}, \"job\", \"fresh\", \"job\", \".*\") and on() (vector(time()) > $((PROM_END - 7200))))"
}
LAT=$(groups latency_p95 scale)
ERR=$(groups error_rate)
JOBS=(checkout-0 checkout-1 checkout-2 payments-0 payments-1 payments-2)
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
    lookback: 1d
    interval: 1s
    model:
      n_estimators: 40
      contamination: 0.02
      random_state: 42
      per: group
      group_n_estimators: 20
      min_rows: 1000
YAML
"$ISOSCOPE" check-config --config "$W/isoscope.yml" >"$W/check.out" &&
  grep -q "per group: 20 trees x max_samples 128 per group with at least 1000 rows, else the pooled model" \
    "$W/check.out" && ok || bad "check-config: $(cat "$W/check.out")"
"$PY" "$HERE/per_group_check.py" hashes fleet "${JOBS[@]}" fresh >"$W/hashes.txt" || exit 1
hash_of() { awk -v j="$1" '$1 == j { print $2 }' "$W/hashes.txt"; }
shard_of() { "$PY" -c "print(int('$(hash_of "$1")', 16) % 3)"; }

# 1. Three training shards.
for i in 0 1 2; do
  "$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end "$PROM_END" \
    --shard "$i/3" >"$W/train_$i.out" 2>"$W/train_$i.err" && ok ||
    { bad "train --shard $i/3"; cat "$W/train_$i.out" "$W/train_$i.err"; }
done
grep -q "installed .*models/fleet/.*(latest)" "$W/train_0.out" && ok || bad "shard 0 installs the pooled model"
for i in 1 2; do
  grep -q "the pooled model of detector fleet is trained by shard 0/3" "$W/train_$i.out" && ok ||
    bad "shard $i leaves the pooled model to shard 0: $(cat "$W/train_$i.out")"
done
for j in "${JOBS[@]}"; do hash_of "$j"; done | sort >"$W/expected_dirs.txt"
find "$W/models/fleet/groups" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort >"$W/dirs.txt"
diff "$W/expected_dirs.txt" "$W/dirs.txt" >/dev/null && ok || bad "group dirs: $(diff "$W/expected_dirs.txt" "$W/dirs.txt")"
for i in 0 1 2; do
  mine=0 fresh=0
  for j in "${JOBS[@]}"; do [ "$(shard_of "$j")" = "$i" ] && mine=$((mine + 1)); done
  [ "$(shard_of fresh)" = "$i" ] && fresh=1
  grep -q "group models      $mine trained, $fresh fell back (too few rows, under min_rows 1000), 0 failed" \
    "$W/train_$i.out" && ok || bad "shard $i summary ($mine trained, $fresh fell back): $(cat "$W/train_$i.out")"
done
grep -q "group {job=\"fresh\"}: 120 usable rows, under min_rows 1000" "$W"/train_*.err && ok ||
  bad "fresh falls back with its row count: $(cat "$W"/train_*.err)"

# 2. A group's bundle is scikit-learn's forest on the group's rows alone (1441 rows <= the
# 2048-row score sample, so the offset is exact too), with its labels inside.
for j in checkout-2 payments-1; do
  b=$W/models/fleet/groups/$(hash_of "$j")/latest
  "$ISOSCOPE" inspect --json --bundle "$b" >"$W/$j.json" && ok || bad "inspect $j"
  "$ISOSCOPE" inspect --bundle "$b" | grep -q "^group             {detector=\"fleet\",job=\"$j\"}, hash $(hash_of "$j")$" &&
    ok || bad "inspect prints $j's group: $("$ISOSCOPE" inspect --bundle "$b" | head -8)"
  "$PY" "$HERE/per_group_check.py" fit "$PROM_URL" $((PROM_END - 86400)) "$PROM_END" 60 20 128 0.02 42 \
    "$j" "latency_p95=$LAT" "error_rate=$ERR" >"$W/$j.sklearn.json" && ok || bad "scikit-learn on $j"
  "$PY" - "$W/$j.json" "$W/$j.sklearn.json" "$j" "$(hash_of "$j")" <<'PYEOF' && ok || bad "$j equals scikit-learn"
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
assert ours["group"] == {"labels": {"detector": "fleet", "job": sys.argv[3]}, "hash": sys.argv[4]}, ours["group"]
assert ours["training"]["rows_used"] == ref["rows"] == 1441, (ours["training"]["rows_used"], ref["rows"])
assert len(ours["trees"]) == len(ref["trees"]) == 20
for t, (a, b) in enumerate(zip(ours["trees"], ref["trees"])):
    for k in ("children_left", "feature", "threshold", "n_node_samples"):
        assert a[k] == b[k], f"tree {t} {k}"
assert abs(ours["offset_"] - ref["offset_"]) <= 1e-15, (ours["offset_"], ref["offset_"])
print(f"  {sys.argv[3]}: {ref['rows']} rows, 20 trees identical to scikit-learn's, offset {ours['offset_']!r}")
PYEOF
done
echo "  group bundle bytes: $(stat -c %s "$W/models/fleet/groups/$(hash_of checkout-0)/latest" -L), pooled: $(stat -c %s -L "$W/models/fleet/latest")"

# 2b. Pass 2 in batches: one unsharded run with --group-memory 0.2 (each group's draws and
# sample are ~90 KB here, so three batches, each pulling the window again) installs, for every
# group, the trees and offset the sharded runs installed.
sed "s|^models_dir: .*|models_dir: $W/models_b|" "$W/isoscope.yml" >"$W/isoscope_b.yml"
"$ISOSCOPE" train --config "$W/isoscope_b.yml" --detector fleet --end "$PROM_END" \
  --group-memory 0.2 >"$W/train_b.out" 2>"$W/train_b.err" && ok ||
  { bad "train --group-memory 0.2"; cat "$W/train_b.out" "$W/train_b.err"; }
grep -q "pass 2 runs in 3 batches" "$W/train_b.err" && grep -q "^pass 2, group batch 3 of 3: joined" "$W/train_b.err" &&
  ok || bad "three batches: $(cat "$W/train_b.err")"
grep -q "group models      6 trained, 1 fell back" "$W/train_b.out" && ok || bad "batched summary: $(cat "$W/train_b.out")"
for j in "${JOBS[@]}"; do
  "$ISOSCOPE" inspect --json --bundle "$W/models/fleet/groups/$(hash_of "$j")/latest" >"$W/a.json" &&
    "$ISOSCOPE" inspect --json --bundle "$W/models_b/fleet/groups/$(hash_of "$j")/latest" >"$W/b.json" &&
    "$PY" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["trees"] == b["trees"] and a["offset_"] == b["offset_"] and a["group"] == b["group"]
' "$W/a.json" "$W/b.json" && ok || bad "$j: the batched run's model differs"
done

# 3. Three serving shards.
port_of() { grep -o 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$W/replica_$1.log" | grep -o '[0-9]*"$' | tr -d '"'; }
for i in 0 1 2; do
  log=$W/replica_$i.log
  "$ISOSCOPE" serve --config "$W/isoscope.yml" --shard "$i/3" --web.listen-address 127.0.0.1:0 \
    --start-time "$PROM_END" 2>"$log" &
  PIDS[i]=$!
  _listening() { grep -q 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$log" 2>/dev/null; }
  wait_for 30 _listening && ok || { bad "replica $i starts"; cat "$log"; exit 1; }
done
scored() {
  local i
  for i in 0 1 2; do
    curl -fs "http://127.0.0.1:$(port_of "$i")/metrics" | grep '^anomaly_score{' |
      sed -n "s/.*job=\"\([^\"]*\)\".*/\1 $i/p"
  done | sort
}
seven() { [ "$(scored | wc -l)" = 7 ]; }
wait_for 30 seven && ok || bad "7 anomaly_score series over the replicas: $(scored)"
for j in "${JOBS[@]}" fresh; do echo "$j $(shard_of "$j")"; done | sort >"$W/expected.txt"
scored >"$W/scored.txt"
diff "$W/expected.txt" "$W/scored.txt" >/dev/null && ok || bad "owners differ: $(diff "$W/expected.txt" "$W/scored.txt")"
gauge_sum() {
  local i
  for i in 0 1 2; do
    curl -fs "http://127.0.0.1:$(port_of "$i")/metrics" | grep "^isoscope_group_models{.*source=\"$1\"" | awk '{print $2}'
  done | awk '{s += $1} END {print s + 0}'
}
[ "$(gauge_sum group)" = 6 ] && [ "$(gauge_sum pooled)" = 1 ] && ok ||
  bad "isoscope_group_models: group $(gauge_sum group), pooled $(gauge_sum pooled)"
for i in 0 1 2; do curl -fs "http://127.0.0.1:$(port_of "$i")/api/v1/detectors/fleet/groups"; echo; done >"$W/groups.json"
"$PY" - "$W/groups.json" "$W/hashes.txt" "$W/models/fleet" <<'PYEOF' && ok || bad "GET .../groups"
import json, os, sys
hashes = dict(line.split() for line in open(sys.argv[2]))
pooled = os.readlink(sys.argv[3] + "/latest").removesuffix(".bundle")
seen = {}
for line in open(sys.argv[1]):
    for g in json.loads(line)["groups"]:
        seen[g["labels"]["job"]] = g
assert sorted(seen) == sorted(hashes), sorted(seen)
for job, g in seen.items():
    assert g["hash"] == hashes[job], (job, g)
    if job == "fresh":
        assert g["source"] == "pooled" and g["model_version"] == pooled and "no group model" in g["reason"], g
    else:
        own = os.readlink(f"{sys.argv[3]}/groups/{hashes[job]}/latest").removesuffix(".bundle")
        assert g["source"] == "group" and g["model_version"] == own and g["reason"] == "", g
PYEOF
j=checkout-2
p=$(port_of "$(shard_of $j)")
curl -fs -D "$W/h.txt" -o "$W/served.bundle" "http://127.0.0.1:$p/api/v1/detectors/fleet/bundle?group=$(hash_of $j)" &&
  grep -qi "^X-Isoscope-Model-Source: group" "$W/h.txt" &&
  cmp -s "$W/served.bundle" "$W/models/fleet/groups/$(hash_of $j)/latest" && ok || bad "bundle?group= serves $j's bundle"
curl -fs -D "$W/h2.txt" -o "$W/served2.bundle" "http://127.0.0.1:$(port_of "$(shard_of fresh)")/api/v1/detectors/fleet/bundle?group=$(hash_of fresh)" &&
  grep -qi "^X-Isoscope-Model-Source: pooled" "$W/h2.txt" &&
  cmp -s "$W/served2.bundle" "$W/models/fleet/latest" && ok || bad "bundle?group= of fresh serves the pooled bundle"
# The daemon's score of checkout-2 (latency x10000) is its own bundle's, on the row at PROM_END
# (the instant queries' latest sample), as `isoscope score` computes it.
row=$("$PY" - "$PROM_URL" "$PROM_END" <<'PYEOF'
import json, sys, urllib.request, urllib.parse
def q(e):
    u = f"{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": e, "time": sys.argv[2]})
    return json.load(urllib.request.urlopen(u))["data"]["result"][0]["value"][1]
print(q('latency_p95{job="checkout"} * 10000') + "," + q('error_rate{job="checkout"}'))
PYEOF
)
printf 'timestamp,latency_p95,error_rate\n%s,%s\n' "$PROM_END" "$row" >"$W/row.csv"
want=$("$ISOSCOPE" score -q --bundle "$W/models/fleet/groups/$(hash_of $j)/latest" --csv "$W/row.csv" | awk -F, 'NR == 2 {print $3}')
pooled=$("$ISOSCOPE" score -q --bundle "$W/models/fleet/latest" --csv "$W/row.csv" | awk -F, 'NR == 2 {print $3}')
got=$(curl -fs "http://127.0.0.1:$p/metrics" | grep "^anomaly_score{.*job=\"$j\"" | awk '{print $2}')
"$PY" -c "import sys; w, g, p = map(float, sys.argv[1:4]); assert abs(w - g) <= 1e-12 * w and abs(p - g) > 1e-6, (w, g, p)" \
  "$want" "$got" "$pooled" && ok || bad "$j scored by its own bundle: daemon $got, its bundle $want, pooled $pooled"

# 4. `rollback --group`: a retrain of checkout-2's shard installs a second version; rolling the
# group back points its `latest` at the first again.
first=$(readlink "$W/models/fleet/groups/$(hash_of $j)/latest")
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector fleet --end $((PROM_END - 3600)) \
  --shard "$(shard_of $j)/3" -q >/dev/null 2>&1 && ok || bad "retrain shard $(shard_of $j)"
[ "$(readlink "$W/models/fleet/groups/$(hash_of $j)/latest")" != "$first" ] && ok || bad "a new group version"
"$ISOSCOPE" rollback --config "$W/isoscope.yml" --detector fleet --group "$(hash_of $j)" >"$W/rb.out" &&
  [ "$(readlink "$W/models/fleet/groups/$(hash_of $j)/latest")" = "$first" ] && ok || bad "rollback --group: $(cat "$W/rb.out")"
"$ISOSCOPE" rollback --config "$W/isoscope.yml" --detector fleet --group XYZ >/dev/null 2>&1
[ $? = 2 ] && ok || bad "rollback --group XYZ is a usage error"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
