#!/bin/bash
# VictoriaMetrics (Debian's victoria-metrics, defaults but retention) as the query backend, next
# to Prometheus with the same 91 days of history, once plain and once behind -http.pathPrefix:
# isoscope train --config gives the same model (model_version holds the bundle's content hash)
# and isoscope serve the same anomaly_score for every group as against Prometheus, also for a
# training window whose start is not a multiple of the step (VM would shift it; the client asks
# for the exact grid). Errors: VM's 422 for bad PromQL, a prefixed VM asked without the prefix.
# The client's answers to VM's differences, directly (prom_query_tool is PromClient): a range
# whose start is not a multiple of the step comes back on the requested grid (VM aligns start to
# the step for cached queries), and an instant query at "now" sees the newest sample (VM's
# -search.latencyOffset=30s evaluates 30 s earlier): the client sends nocache=1.
#   vm_e2e.sh ISOSCOPE PROM_QUERY_TOOL
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$(readlink -f "$1")
TOOL=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=vm_fixture.sh
source "$HERE/vm_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
# latency_fine: stored samples with 17 significant digits (the tolerance check below).
export PROM_FIXTURE_FINE=1
prom_fixture_start 91 60 || exit 1
W=$PROM_FIXTURE_DIR/vm
mkdir -p "$W"
passed=0
failed=0
PIDS=""
SERVE_PID=""
trap 'for p in $SERVE_PID $PIDS; do stop_pid "$p"; done; prom_fixture_cleanup' EXIT

vm_start plain || exit 1
PIDS="$PIDS $VM_PID"
VM_URL=http://127.0.0.1:$VM_PORT
vm_start prefixed -http.pathPrefix=/vm || exit 1
PIDS="$PIDS $VM_PID"
VMP_URL=http://127.0.0.1:$VM_PORT/vm

config() {  # config NAME URL [QUERY]
  cat >"$W/$1.yml" <<YAML
prometheus:
  url: $2
  timeout: 20s
models_dir: $W/models-$1
detectors:
  - name: checkout
    queries:
      latency_p95: ${3:-latency_p95}
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    step: 60s
    lookback: 90d
    model:
      n_estimators: 50
      contamination: 0.02
YAML
}
config prom "$PROM_URL"
config vm "$VM_URL"
config vmp "$VMP_URL"

# The stored values as generated (six decimals: VM keeps them exactly).
want=$(prom_fixture_value 1 0 "$PROM_END")
for u in "$VM_URL" "$VMP_URL"; do
  got=$(curl -fs "$u/api/v1/query" --data-urlencode 'query=latency_p95{job="checkout"}' --data-urlencode "time=$PROM_END" |
    grep -o '"value":\[[0-9.]*,"[^"]*"' | grep -o '"[^"]*"$' | tr -d '"')
  awk -v a="${got:-x}" -v b="$want" 'BEGIN { exit !(a == b + 0) }' && ok || bad "$u: latency_p95 at END is '$got', generated $want"
done

# A 60-point range starting 17 s past the minute: the same points from every backend.
q() { "$TOOL" --url "$1" --query 'latency_p95{job="checkout"}' "${@:2}" | sed 's/"seconds":[0-9.e-]*,//'; }
q "$PROM_URL" --start $((PROM_END - 3583)) --end $((PROM_END - 43)) --step 60s >"$W/range-prom" || bad "range from Prometheus"
grep -q "$((PROM_END - 3583))" "$W/range-prom" && ok || bad "Prometheus range starts at the requested time: $(head -c 300 "$W/range-prom")"
for u in "$VM_URL" "$VMP_URL"; do
  q "$u" --start $((PROM_END - 3583)) --end $((PROM_END - 43)) --step 60s >"$W/range-vm" || bad "range from $u"
  cmp -s "$W/range-prom" "$W/range-vm" && ok || bad "$u: unaligned range differs: $(head -c 300 "$W/range-vm")"
done

# Live samples 125, 65 and 5 s old (values 1, 2, 3): an instant query at now sees 3.
now=$(date +%s)
printf 'live{job="x"} 1 %s\nlive{job="x"} 2 %s\nlive{job="x"} 3 %s\n' $((now - 125)) $((now - 65)) $((now - 5)) |
  curl -fs -X POST --data-binary @- "$VM_URL/api/v1/import/prometheus" && curl -fs "$VM_URL/internal/force_flush" >/dev/null
"$TOOL" --url "$VM_URL" --query 'live' --time "$now" >"$W/live" || bad "instant query at now"
grep -q '"value":3\.0' "$W/live" && ok || bad "instant query at now: want the newest sample (3), got $(cat "$W/live")"

version() { readlink "$W/models-$1/checkout/latest"; }
train() {  # train NAME END
  rm -rf "$W/models-$1"
  "$ISOSCOPE" train --config "$W/$1.yml" --detector checkout --end "$2" >"$W/train-$1.out" 2>&1 ||
    { sed 's/^/  | /' "$W/train-$1.out"; return 1; }
}
for end in "$PROM_END" $((PROM_END - 17)); do
  for b in prom vm vmp; do train $b "$end" && ok || bad "train against $b (end $end)"; done
  p=$(version prom)
  rows=$(grep -o 'rows  *[0-9]* used' "$W/train-prom.out")
  joined=$(grep -o 'rows over .*Z' "$W/train-prom.out")
  for b in vm vmp; do
    [ "$(grep -o 'rows over .*Z' "$W/train-$b.out")" = "$joined" ] && ok || bad "end $end: $b $(grep -o 'rows over .*Z' "$W/train-$b.out"), Prometheus $joined"
    [ -n "$p" ] && [ "$(version $b)" = "$p" ] && ok || bad "end $end: $b trained $(version $b), Prometheus $p"
    [ "$(grep -o 'rows  *[0-9]* used' "$W/train-$b.out")" = "$rows" ] && ok || bad "end $end: $b rows differ from '$rows'"
  done
  echo "end $end: model $p, $rows from each backend"
done

# serve against each backend from the end of history: the same scores for both jobs.
train prom "$PROM_END" && train vm "$PROM_END" && train vmp "$PROM_END" || bad "retrain at END"
scores() {  # scores NAME: anomaly_score lines once both jobs are scored
  serve_start "$W/$1.yml" || { bad "serve against $1 starts"; return 1; }
  both() { [ "$(metrics | grep -c '^anomaly_score{')" = 2 ]; }
  wait_for 30 both || {
    bad "serve against $1 scores both jobs"
    # What a scrape gets now: the status, or curl's reason when there is no answer.
    echo "  | GET /metrics: $(curl -sS -o "$W/last-metrics" -w 'HTTP %{http_code}' "$URL/metrics" 2>&1)"
    grep '^anomaly_\|^isoscope_query_errors' "$W/last-metrics" 2>/dev/null | head
    stop_pid "$SERVE_PID"
    SERVE_PID=""
    return 1
  }
  metrics | grep '^anomaly_score{' | sort >"$W/scores-$1"
  stop_pid "$SERVE_PID"
  SERVE_PID=""
}
scores prom && scores vm && scores vmp
cat "$W/scores-prom"
cmp -s "$W/scores-prom" "$W/scores-vm" && ok || { bad "scores differ (VM)"; diff "$W/scores-prom" "$W/scores-vm"; }
cmp -s "$W/scores-prom" "$W/scores-vmp" && ok || { bad "scores differ (VM behind /vm)"; diff "$W/scores-prom" "$W/scores-vmp"; }

# Values computed by the query (17 significant digits here) come back unrounded from VM 1.79.5:
# only stored samples are kept to about 12 digits. Same model and scores as Prometheus.
config jprom "$PROM_URL" "latency_p95 * 1.2345678901234567"
config jvm "$VM_URL" "latency_p95 * 1.2345678901234567"
train jprom "$PROM_END" && train jvm "$PROM_END" || bad "train on 17-digit values"
for b in prom vm; do
  u=PROM_URL; [ $b = vm ] && u=VM_URL
  "$TOOL" --url "${!u}" --query 'latency_p95{job="checkout"} * 1.2345678901234567' --time "$PROM_END" |
    grep -o '"value":[0-9.e-]*' >"$W/j-$b"
done
cmp -s "$W/j-prom" "$W/j-vm" && grep -q '"value":0.12345678901234568' "$W/j-vm" && ok ||
  bad "17-digit computed value: Prometheus $(cat "$W/j-prom"), VM $(cat "$W/j-vm")"
[ -n "$(version jprom)" ] && [ "$(version jprom)" = "$(version jvm)" ] && ok ||
  bad "17-digit values: Prometheus trained $(version jprom), VM $(version jvm)"
scores jprom && scores jvm && cmp -s "$W/scores-jprom" "$W/scores-jvm" && ok || bad "serve on 17-digit values"

# Stored samples with 17 significant digits (latency_fine): VM keeps about 12, so the training
# rows and the live values differ in the last digits. The documented tolerance (README,
# "VictoriaMetrics"): every anomaly_score within 1e-9 of the one against Prometheus.
for b in prom vm; do
  u=PROM_URL; [ $b = vm ] && u=VM_URL
  "$TOOL" --url "${!u}" --query 'latency_fine{job="checkout"}' --time "$PROM_END" |
    grep -o '"value":[0-9.e-]*' >"$W/f-$b"
done
cmp -s "$W/f-prom" "$W/f-vm" && bad "latency_fine: VM returned Prometheus's 17 digits ($(cat "$W/f-vm")): nothing to test" ||
  { ok; echo "latency_fine at END: Prometheus $(cat "$W/f-prom"), VM $(cat "$W/f-vm")"; }
config fprom "$PROM_URL" latency_fine
config fvm "$VM_URL" latency_fine
train fprom "$PROM_END" && train fvm "$PROM_END" || bad "train on stored 17-digit values"
if scores fprom && scores fvm; then
  paste -d' ' "$W/scores-fprom" "$W/scores-fvm" | awk '
    { if ($1 != $3) { print "labels differ: " $1 " " $3; bad = 1 }
      d = $2 - $4; if (d < 0) d = -d; if (d > max) max = d; n++ }
    END { printf "stored 17-digit values: %d groups, max |score(VM) - score(Prometheus)| = %.3g\n", n, max
          exit !(n == 2 && !bad && max <= 1e-9) }' && ok || bad "scores on stored 17-digit values beyond 1e-9"
  echo "models: Prometheus $(version fprom), VM $(version fvm)"
fi

# VM's errors as the user sees them: bad PromQL is VM's 422, and a prefixed VM asked without
# its prefix answers 400 ("missing -http.pathPrefix") with the base-URL hint.
config bad "$VM_URL" "'no_such_function(latency_p95)'"
"$ISOSCOPE" train --config "$W/bad.yml" --detector checkout --end "$PROM_END" >"$W/out" 2>"$W/err"
rc=$?
[ $rc = 1 ] && grep -q '422' "$W/err" && ok || { bad "bad PromQL against VM: exit $rc"; cat "$W/err"; }
config noprefix "${VMP_URL%/vm}"
"$ISOSCOPE" train --config "$W/noprefix.yml" --detector checkout --end "$PROM_END" >"$W/out" 2>"$W/err"
rc=$?
[ $rc = 1 ] && grep -q 'missing -http.pathPrefix="/vm"' "$W/err" && ok || { bad "prefixed VM without the prefix: exit $rc"; cat "$W/err"; }

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
