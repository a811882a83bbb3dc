#!/bin/bash
# Sharding against real parts (Debian's prometheus, the real binary): three `isoscope serve
# --shard I/3` replicas over the fixture Prometheus, a second Prometheus scraping all three
# every second. Checked through that Prometheus's API:
#  1. coverage: every group (13: 12 of detector fleet, 1 of detector solo) has exactly one
#     anomaly_score series, carrying shard="I/3" where I is what tools/shard_hash.py (the
#     independent implementation of the spec) computes, from the replica with --shard I/3;
#     isoscope_shard_index/count say 0, 1, 2 of 3;
#  2. a replica leaving and returning (SIGTERM, then the same --shard on the same port):
#     over a 1 s-step query_range covering the whole event,
#     - at no step does any group have more than one series (no duplicate),
#     - the groups of the two other replicas have a value at every step (nothing else lost),
#     - the returning replica's groups are absent only in one contiguous gap that starts after
#       the stop and ends at most one scoring interval (1 s) plus two scrape intervals (1 s
#       each) after the replica listens again: the loss is the replica's downtime plus at most
#       one interval, which is what static sharding promises (docs/kubernetes.md).
#   shard_e2e.sh ISOSCOPE [PYTHON3]
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
E2E_DAYS=3 e2e_begin shard SCRAPER_PID
PIDS=("" "" "")
PORTS=("" "" "")
e2e_on_cleanup() { stop_replicas; }

# fanout METRIC: the metric with each job copied six times (job="checkout-0".."payments-5"),
# so that detector fleet has 12 groups.
fanout() {
  local i q=""
  for i in 0 1 2 3 4 5; do
    q="$q${q:+ or }label_replace($1, \"job\", \"\$1-$i\", \"job\", \"(.*)\")"
  done
  echo "$q"
}
cat >"$W/isoscope.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 5s
models_dir: $W/models
detectors:
  - name: fleet
    queries:
      latency_p95: '$(fanout latency_p95)'
      error_rate: '$(fanout error_rate)'
    group_by: [job]
    lookback: 2d
    interval: 1s
    model:
      n_estimators: 30
      contamination: 0.02
  - name: solo
    queries:
      latency_p95: sum(latency_p95)
    lookback: 2d
    interval: 1s
    model:
      n_estimators: 30
      contamination: 0.02
YAML
"$ISOSCOPE" check-config --config "$W/isoscope.yml" >"$W/check.out" 2>&1 && ok ||
  { bad "check-config"; cat "$W/check.out"; exit 1; }
for d in fleet solo; do
  "$ISOSCOPE" train --config "$W/isoscope.yml" --detector $d --end "$PROM_END" >"$W/train_$d.out" 2>&1 &&
    ok || { bad "train $d"; cat "$W/train_$d.out"; exit 1; }
done

# The expected owner of every group, from the independent implementation.
: >"$W/expected.txt"
for j in checkout payments; do
  for i in 0 1 2 3 4 5; do
    echo "fleet $j-$i $("$PY" "$ROOT/tools/shard_hash.py" --shard 3 detector=fleet "job=$j-$i")" >>"$W/expected.txt"
  done
done
# solo has no group label; the scraper adds its job label (job="isoscope") to it.
echo "solo isoscope $("$PY" "$ROOT/tools/shard_hash.py" --shard 3 detector=solo)" >>"$W/expected.txt"
echo "groups per shard (tools/shard_hash.py): $(awk '{ n[$3]++ } END { for (s = 0; s < 3; s++) printf "%d:%d ", s, n[s] }' "$W/expected.txt")"

# replica_start I [PORT]: `serve --shard I/3` on 127.0.0.1:PORT (default 0), log replica_I.log.
replica_start() {
  local i=$1 port=${2:-0} log=$W/replica_$1.log
  : >"$log"  # a restart's poll must not read the old run's "listening on" line
  "$ISOSCOPE" serve --config "$W/isoscope.yml" --shard "$i/3" --web.listen-address "127.0.0.1:$port" \
    --start-time "$PROM_END" 2>"$log" &
  PIDS[i]=$!
  # The shell creates the log in the background: absent for a moment, hence 2>/dev/null. ASan
  # builds on a busy 2-core machine have taken more than 10 s to start.
  # The whole port and the quote after it: a line caught half written ("127.0.0.1:" or a
  # port's first digits) once gave an empty port.
  _listening() { grep -q 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$log" 2>/dev/null; }
  wait_for 30 _listening || return 1
  PORTS[i]=$(grep -o 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$log" | grep -o '[0-9]*"$' | tr -d '"')
}
for i in 0 1 2; do
  replica_start $i && ok || { bad "replica $i starts"; cat "$W/replica_$i.log"; exit 1; }
done
grep -q 'msg=starting .*shard=1/3' "$W/replica_1.log" && ok || bad "replica 1 logs shard=1/3"

S=$W/scraper
mkdir -p "$S"
cat >"$S/prom.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 15s}
scrape_configs:
  - job_name: isoscope
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:${PORTS[0]}', '127.0.0.1:${PORTS[1]}', '127.0.0.1:${PORTS[2]}']
YAML
promtool check config "$S/prom.yml" >"$S/check.out" 2>&1 && ok || { bad "promtool check config"; cat "$S/check.out"; }
prometheus --config.file="$S/prom.yml" --storage.tsdb.path="$S/data" \
  --web.listen-address=127.0.0.1:0 </dev/null >"$S/prom.log" 2>&1 &
# shellcheck disable=SC2034  # stopped by e2e_cleanup: e2e_begin names it
SCRAPER_PID=$!
scraper_port() {
  SPORT=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$S/prom.log" 2>/dev/null | grep -o '[0-9]*$' | head -1)
  [ -n "$SPORT" ]
}
wait_for 20 scraper_port && ok || { bad "scraper listening"; cat "$S/prom.log"; exit 1; }
SURL=http://127.0.0.1:$SPORT
scraper_ready() { curl -fs "$SURL/-/ready" >/dev/null; }
wait_for 20 scraper_ready && ok || bad "scraper ready"

# q QUERY: the instant result as lines "label=value,... value" (labels sorted), via Python.
q() {
  curl -fs "$SURL/api/v1/query" --data-urlencode "query=$1" | "$PY" -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    m = r["metric"]
    print(",".join("%s=%s" % (k, m[k]) for k in sorted(m)), r["value"][1])' | sort
}
# The 13 groups as "detector job shard-index", from the scraped anomaly_score series.
scraped_groups() {
  q 'anomaly_score' | "$PY" -c '
import sys
for line in sys.stdin:
    labels = dict(p.split("=", 1) for p in line.split(" ")[0].split(","))
    print(labels["detector"], labels.get("job", "-"), labels["shard"].split("/")[0], labels["instance"])' | sort
}
all_scraped() { [ "$(q 'count(anomaly_score)')" = " 13" ]; }
wait_for 30 all_scraped && ok || bad "13 anomaly_score series scraped (got: $(q 'count(anomaly_score)'))"

# 1. Coverage: the owners are the ones the spec says, one series per group, from the right replica.
scraped_groups >"$W/scraped.txt"
cut -d' ' -f1-3 "$W/scraped.txt" | sort >"$W/scraped3.txt"
sort "$W/expected.txt" >"$W/expected_sorted.txt"
diff "$W/expected_sorted.txt" "$W/scraped3.txt" >"$W/coverage.diff" && ok ||
  { bad "each group scored once, by the shard tools/shard_hash.py names"; cat "$W/coverage.diff"; }
for i in 0 1 2; do
  wrong=$(awk -v i="$i" -v inst="127.0.0.1:${PORTS[$i]}" '$4 == inst && $3 != i' "$W/scraped.txt")
  [ -z "$wrong" ] && ok || bad "replica $i exports only shard $i: $wrong"
done
[ -z "$(q 'count by (detector, job) (anomaly_score) > 1')" ] && ok || bad "no group has two series"
[ "$(q 'isoscope_shards' | awk '{ print $2 }' | sort | tr '\n' ' ')" = "3 3 3 " ] && ok ||
  bad "isoscope_shards is 3 on all three ($(q isoscope_shards | tr '\n' ';'))"
[ "$(q 'isoscope_shard_index' | awk '{ print $2 }' | sort | tr '\n' ' ')" = "0 1 2 " ] && ok ||
  bad "isoscope_shard_index is 0, 1, 2 ($(q isoscope_shard_index | tr '\n' ';'))"
[ "$(q 'count(anomaly_model_state{state="scored"} == 1)')" = " 6" ] && ok ||
  bad "2 detectors x 3 replicas scored ($(q 'anomaly_model_state == 1' | tr '\n' ';'))"

# 2. Replica K (the one with the most groups) leaves for ~4 s and returns on the same port.
K=$(awk '{ n[$3]++ } END { best = 0; for (s = 0; s < 3; s++) if (n[s] > n[best]) best = s; print best }' "$W/expected.txt")
sleep 2
t_begin=$(date +%s.%N)
sleep 2
t_stop=$(date +%s.%N)
stop_pid "${PIDS[$K]}"
PIDS[K]=""
sleep 4
replica_start "$K" "${PORTS[$K]}" && ok || { bad "replica $K restarts on port ${PORTS[$K]}"; cat "$W/replica_$K.log"; }
t_back=$(date +%s.%N)
wait_for 30 all_scraped && ok || bad "13 series again after replica $K returned"
sleep 3
t_end=$(date +%s.%N)
curl -fs "$SURL/api/v1/query_range" --data-urlencode 'query=count by (detector, job) (anomaly_score)' \
  --data-urlencode "start=$t_begin" --data-urlencode "end=$t_end" --data-urlencode step=1 >"$W/range.json" ||
  bad "query_range"
# The verdicts; every line is "ok ..." or "FAIL ...".
"$PY" - "$W/range.json" "$W/expected.txt" "$K" "$t_stop" "$t_back" >"$W/verdict.txt" <<'PYEOF'
import json, sys
range_json, expected, k, t_stop, t_back = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
INTERVAL, SCRAPE = 1.0, 1.0
owner = {}
for line in open(expected):
    det, job, shard = line.split()
    owner[(det, job)] = shard
res = json.load(open(range_json))["data"]["result"]
start = min(float(v[0]) for r in res for v in r["values"])
end = max(float(v[0]) for r in res for v in r["values"])
steps = [start + i for i in range(int(round(end - start)) + 1)]
series = {}
for r in res:
    key = (r["metric"]["detector"], r["metric"].get("job", "-"))
    series[key] = {round(float(t) - start): float(v) for t, v in r["values"]}
missing = sorted(set(owner) - set(series))
print(("FAIL groups never seen: %s" % missing) if missing else "ok every group seen in the range")
dups = [(g, start + i) for g, s in series.items() for i, c in s.items() if c > 1]
print(("FAIL duplicates (group, time): %s" % dups[:5]) if dups else "ok no duplicate at any of %d steps" % len(steps))
worst_gap = 0.0
for g, shard in sorted(owner.items()):
    present = series.get(g, {})
    absent = [start + i for i in range(len(steps)) if i not in present]
    if shard != k:
        print(("FAIL %s of shard %s (not the one that left) absent at %d steps from %.1f" % (g, shard, len(absent), absent[0]))
              if absent else "ok %s (shard %s) present at every step" % (g, shard))
        continue
    if not absent:
        print("FAIL %s of the leaving shard %s never absent: the stop was not observed" % (g, shard))
        continue
    contiguous = absent[-1] - absent[0] == len(absent) - 1
    gap_end = absent[-1] + 1  # first step with a value again
    late = gap_end - t_back
    worst_gap = max(worst_gap, late)
    ok = contiguous and absent[0] >= t_stop and late <= INTERVAL + 2 * SCRAPE
    print("%s %s (shard %s): absent %.1f..%.1f (stop at %.1f, back at %.1f, %.2f s after)" %
          ("ok" if ok else "FAIL", g, shard, absent[0], absent[-1], t_stop, t_back, late))
print("ok worst return delay %.2f s (bound %.1f s)" % (worst_gap, INTERVAL + 2 * SCRAPE))
PYEOF
sed 's/^/  /' "$W/verdict.txt"
grep -q . "$W/verdict.txt" && ok || bad "verdict printed"
n_bad=$(grep -c '^FAIL' "$W/verdict.txt")
[ "$n_bad" = 0 ] && ok || bad "$n_bad verdict(s) failed (above)"
[ "$(grep -c '^ok' "$W/verdict.txt")" -ge 15 ] && ok || bad "all 13 groups judged"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
