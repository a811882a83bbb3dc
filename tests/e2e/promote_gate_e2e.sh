#!/bin/bash
# Champion and challenger against real parts (Debian's prometheus, the real binary): a detector
# with promotion: gate. A candidate trained on shifted data (every live row looks anomalous to
# it) is compared with the active model on the same rows, would page, and is held back: latest
# stays, the gate metric and the log say why, and a second Prometheus scraping the daemon stores
# the candidate's scores (role="candidate") and the gate's reason. A good candidate (the same
# data, another random_state) is then promoted by the daemon itself: latest moves, candidate is
# removed, the daemon serves it. isoscope candidates and isoscope promote (manual) too.
# The daemon's clock runs 60 times as fast (an interval of 60 s is a second), so the gate's
# 20 minutes take 20 seconds.
#   promote_gate_e2e.sh ISOSCOPE [PYTHON3]
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
e2e_begin promote SCRAPER_PID
M=$W/models/checkout
link() { readlink "$M/$1" 2>/dev/null | sed 's/\.bundle$//'; }
run() { "$@" >"$W/out" 2>"$W/err"; }

config() {  # config FILE SHIFT RANDOM_STATE PROMOTION
  cat >"$1" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 5s
models_dir: $W/models
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95 + $2
      error_rate: error_rate + $2
      cpu_throttle: cpu_throttle
    group_by: [job]
    derived: []
    lookback: 3d
    interval: 60s
    model: {n_estimators: 50, contamination: 0.02, random_state: $3}
    alerts: {for: 2m, smooth: 2m}
    promotion: $4
YAML
}
config "$W/live.yml" 0 42 "gate
    gate: {after: 20m, rate_band: [0.5, 2.0]}"
config "$W/shifted.yml" 1 42 gate       # the bad candidate's training data: +1 on two inputs
config "$W/other_seed.yml" 0 7 gate     # the good candidate: same data, another forest
config "$W/manual.yml" 0 42 manual

run "$ISOSCOPE" check-config --config "$W/live.yml" && grep -q "promotion: gate" "$W/out" && ok ||
  bad "check-config shows the gate"
# The first model has nothing to be compared with: it goes live.
run "$ISOSCOPE" train --config "$W/live.yml" --detector checkout --end "$PROM_END" &&
  grep -q "(latest)" "$W/out" && ok || bad "first train installs latest"
v1=$(link latest)
run "$ISOSCOPE" train --config "$W/shifted.yml" --detector checkout --end "$PROM_END" &&
  grep -q "(candidate, promotion: gate; latest unchanged)" "$W/out" && ok || bad "train: candidate"
vbad=$(link candidate)
[ -n "$vbad" ] && [ "$vbad" != "$v1" ] && [ "$(link latest)" = "$v1" ] && ok ||
  bad "candidate $vbad beside latest $v1"

# The daemon from 06:00 UTC of the last day of the history, at 60 x: one cycle a second.
"$ISOSCOPE" serve --config "$W/live.yml" --web.listen-address 127.0.0.1:0 \
  --start-time "$((PROM_END - 64800))" --replay-speed 60 2>"$W/serve.log" &
SERVE_PID=$!
_port() {
  PORT=$(grep -so 'listening on 127.0.0.1:[0-9]*"' "$W/serve.log" | grep -o '[0-9]*"$' | tr -d '"')
  [ -n "$PORT" ]
}
wait_for 10 _port && ok || { bad "daemon listens"; exit 1; }
URL=http://127.0.0.1:$PORT

# A second Prometheus scrapes the daemon.
S=$W/scraper
mkdir -p "$S"
cat >"$S/prom.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 15s}
scrape_configs:
  - job_name: isoscope
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YAML
prometheus --config.file="$S/prom.yml" --storage.tsdb.path="$S/data" \
  --web.listen-address=127.0.0.1:0 </dev/null >"$S/prom.log" 2>&1 &
SCRAPER_PID=$!
_sport() {
  SPORT=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$S/prom.log" | grep -o '[0-9]*$' | head -1)
  [ -n "$SPORT" ]
}
wait_for 20 _sport && wait_for 20 curl -fs "http://127.0.0.1:$SPORT/-/ready" -o /dev/null && ok ||
  bad "second prometheus ready"
SURL=http://127.0.0.1:${SPORT:-1}
# scraped QUERY: the values QUERY returns from the second Prometheus, one per line.
scraped() {
  curl -fs "$SURL/api/v1/query" --data-urlencode "query=$1" |
    "$PY" -c 'import json,sys; [print(r["value"][1]) for r in json.load(sys.stdin)["data"]["result"]]'
}

cand_score='anomaly_candidate_score{detector="checkout",job="checkout",role="candidate"}'
has_cand() { [ -n "$(metric "$cand_score")" ]; }
wait_for 10 has_cand && ok || bad "the candidate's score is exported"
# The shifted model finds every live row anomalous; the active model does not.
live=$(metric 'anomaly_score{detector="checkout",job="checkout"}')
cand=$(metric "$cand_score")
awk -v l="$live" -v c="$cand" 'BEGIN { exit !(c > l + 0.1) }' && ok ||
  bad "candidate scores the live rows higher ($cand) than the active model ($live)"
# The page with a candidate's families is valid exposition (promtool, as e2e.serve checks it).
metrics >"$W/metrics.txt"
promtool check metrics <"$W/metrics.txt" >"$W/promtool.out" 2>&1 && ok ||
  { bad "promtool check metrics"; sed 's/^/  | /' "$W/promtool.out"; }
grep -q '^anomaly_candidate_score_p99{detector="checkout",role="candidate"} ' "$W/metrics.txt" && ok ||
  bad "the candidate's p99 is exported"
# The live series carry no role label, and the candidate has no alert state of its own.
metrics | grep -q '^anomaly_score{.*role=' && bad "role label on the live series" || ok

held() { [ "$(metric 'isoscope_candidate_gate{detector="checkout",reason="pages"}')" = 1 ]; }
wait_for 40 held && ok || bad "the gate holds the bad candidate back for its pages"
grep -q 'candidate held back by the gate' "$W/serve.log" && grep -q "reason=pages" "$W/serve.log" &&
  ok || bad "the log says why"
[ "$(link latest)" = "$v1" ] && [ "$(link candidate)" = "$vbad" ] && ok ||
  bad "latest stays $v1, the candidate stays"
curl -fs "$URL/api/v1/detectors/checkout/candidate" >"$W/api.json" &&
  "$PY" - "$W/api.json" "$vbad" <<'EOF' && ok || bad "API: hold, pages, more pages than the active model"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["candidate_version"] == sys.argv[2], v
assert v["gate"]["verdict"] == "hold" and v["gate"]["reason"] == "pages", v["gate"]
assert v["candidate"]["pages"] >= 1 and v["candidate"]["pages"] > v["active"]["pages"], v
assert v["candidate"]["anomaly_rate"] > 0.9, v["candidate"]
assert v["rows"] >= 2 * 20, v["rows"]  # two groups, at least 20 cycles
EOF
run "$ISOSCOPE" candidates --config "$W/live.yml" && grep -q "gate: pages" "$W/out" &&
  grep -q "^  candidate  $vbad" "$W/out" && ok || bad "isoscope candidates shows the comparison"
# The real Prometheus has both: the candidate's scores and the gate's reason.
gate_scraped() { [ "$(scraped 'isoscope_candidate_gate{detector="checkout",reason="pages"}')" = 1 ]; }
wait_for 10 gate_scraped && ok || bad "scraped: isoscope_candidate_gate reason pages"
[ "$(scraped "count(anomaly_candidate_score{role=\"candidate\"})")" = 2 ] && ok ||
  bad "scraped: anomaly_candidate_score of both groups"

# A good candidate replaces the bad one; the gate promotes it by itself.
run "$ISOSCOPE" train --config "$W/other_seed.yml" --detector checkout --end "$PROM_END" && ok ||
  bad "train the good candidate"
vgood=$(link candidate)
[ -n "$vgood" ] && [ "$vgood" != "$v1" ] && [ "$vgood" != "$vbad" ] && ok || bad "good candidate $vgood"
promoted() { [ "$(link latest)" = "$vgood" ] && [ ! -e "$M/candidate" ]; }
wait_for 45 promoted && ok || bad "the gate promotes $vgood"
grep -q "candidate promoted by the gate.*candidate=$vgood" "$W/serve.log" && ok ||
  bad "the log says promoted"
serving() { [ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$vgood\"}")" ]; }
wait_for 10 serving && ok || bad "the daemon serves $vgood"
gone() { [ -z "$(metric "$cand_score")" ]; }
wait_for 10 gone && ok || bad "no candidate series after the promotion"
curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/detectors/checkout/candidate" | grep -qx 404 &&
  ok || bad "API: 404 without a candidate"
stop_pid "$SERVE_PID"
SERVE_PID=""

# promotion: manual: isoscope promote, checksum first; exit codes.
run "$ISOSCOPE" train --config "$W/manual.yml" --detector checkout --end "$((PROM_END - 3600))" &&
  ok || bad "train under manual"
vman=$(link candidate)
[ -n "$vman" ] && [ "$(link latest)" = "$vgood" ] && ok || bad "manual: candidate $vman, latest stays"
cp "$M/$vman.bundle" "$W/keep.bundle"
printf '\x00' | dd of="$M/$vman.bundle" bs=1 seek=200 conv=notrunc status=none
run "$ISOSCOPE" promote --config "$W/manual.yml" --detector checkout
[ $? = 3 ] && [ "$(link latest)" = "$vgood" ] && ok || bad "a damaged candidate: exit 3, latest stays"
cp "$W/keep.bundle" "$M/$vman.bundle"
run "$ISOSCOPE" promote --config "$W/manual.yml" --detector checkout --version "$vbad"
[ $? = 2 ] && ok || bad "--version of another candidate: exit 2"
run "$ISOSCOPE" promote --config "$W/manual.yml" --detector checkout && [ "$(link latest)" = "$vman" ] &&
  [ ! -e "$M/candidate" ] && grep -q "latest $vgood -> $vman" "$W/out" && ok || bad "promote"
run "$ISOSCOPE" promote --config "$W/manual.yml" --detector checkout
[ $? = 1 ] && grep -q "no candidate" "$W/err" && ok || bad "nothing to promote: exit 1"
run "$ISOSCOPE" candidates --config "$W/manual.yml" --json &&
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))[0]; assert d["candidate_version"]=="" and d["comparison"] is None, d' \
    "$W/out" && ok || bad "candidates --json without a candidate"

echo "promote_gate_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
