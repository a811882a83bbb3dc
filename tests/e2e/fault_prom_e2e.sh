#!/bin/bash
# isoscope serve when Prometheus misbehaves. The daemon queries a real Prometheus (Debian's,
# backfilled) through tests/e2e/fault_proxy.py, a fake used only to inject faults: HTTP 500, no
# answer (timeout), a slow answer, a body cut short, invalid JSON, NaN / +Inf / -Inf values, and a
# series missing at the scoring instant (a gap). For each fault: the proxy log shows the fault was
# served; the daemon keeps its model (readyz 200, model_version_timestamp, the bundle endpoint),
# says what happened in its log and in its metrics (query error counter, anomaly_model_state),
# publishes no score it cannot trust, and scores again without a restart when the fault is gone.
#   fault_prom_e2e.sh ISOSCOPE
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
e2e_begin fault PROXY_PID

echo pass >"$W/mode"
/usr/bin/python3 "$HERE/fault_proxy.py" "$PROM_URL" "$W/mode" "$W/proxy.port" "$W/proxy.log" \
  2>"$W/proxy.err" &
# shellcheck disable=SC2034  # stopped by e2e_cleanup, which reads it by name
PROXY_PID=$!
proxy_port() { [ -s "$W/proxy.port" ]; }
wait_for 10 proxy_port && ok || { bad "fault proxy started"; cat "$W/proxy.err"; exit 1; }
PROXY_URL=http://127.0.0.1:$(cat "$W/proxy.port")

# detector_yml URL: the same detector against URL (training talks to Prometheus directly).
detector_yml() {
  cat <<YAML
prometheus:
  url: $1
  timeout: 2s
models_dir: $W/models
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
    group_by: [job]
    lookback: 7d
    interval: 1s
    model:
      n_estimators: 20
      contamination: 0.02
YAML
}
detector_yml "$PROM_URL" >"$W/train.yml"
detector_yml "$PROXY_URL" >"$W/serve.yml"
"$ISOSCOPE" train --config "$W/train.yml" --detector checkout --end "$PROM_END" >"$W/train.out" 2>&1 &&
  ok || { bad "train"; cat "$W/train.out"; exit 1; }
v1=$(readlink "$W/models/checkout/latest")
v1=${v1%.bundle}

serve_start "$W/serve.yml" && ok || { bad "serve started"; exit 1; }
PID0=$SERVE_PID
score_of() { metric "anomaly_score{detector=\"checkout\",job=\"$1\"}"; }
state_is() { [ "$(metric "anomaly_model_state{detector=\"checkout\",state=\"$1\"}")" = 1 ]; }
recovered() { state_is scored && [ -n "$(score_of checkout)" ] && [ -n "$(score_of payments)" ]; }
wait_for 20 recovered && ok || bad "scored through the proxy in pass mode"
query_errors() { metric 'isoscope_query_errors_total{detector="checkout"}'; }
errors_above() { awk -v a="$(query_errors)" -v b="$1" 'BEGIN { exit !(a + 0 > b + 0) }'; }
log_lines() { wc -l <"$W/serve.log"; }
# new_log FROM PATTERN: a log line after line FROM matches PATTERN.
new_log() { tail -n +"$(($1 + 1))" "$W/serve.log" | grep -q -- "$2"; }
# keeps_model: ready, the trained version published, the bundle endpoint serves its bytes.
keeps_model() {
  curl -fs "$URL/readyz" >/dev/null &&
    [ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$v1\"}")" ] &&
    cmp -s <(curl -fs "$URL/api/v1/detectors/checkout/bundle") "$W/models/checkout/$v1.bundle"
}
# served MODE: the proxy answered at least one request in MODE.
served() { grep -q "^$1 " "$W/proxy.log"; }
# back_to_normal WHAT: pass mode, then scored again by the same process.
back_to_normal() {
  echo pass >"$W/mode"
  if wait_for 30 recovered && [ "$SERVE_PID" = "$PID0" ] && kill -0 "$SERVE_PID"; then ok; else
    bad "$1: not scored again without a restart"
  fi
}

# Faults that make the query fail: counted, logged, every group stale (no scores published).
for fault in status500 timeout truncate invalid_json; do
  e0=$(query_errors)
  l0=$(log_lines)
  echo "$fault" >"$W/mode"
  if wait_for 30 errors_above "$e0"; then ok; else bad "$fault: isoscope_query_errors_total did not grow"; fi
  served "$fault" && ok || bad "$fault: the proxy never served the fault"
  wait_for 10 state_is stale && ok || bad "$fault: anomaly_model_state stale"
  [ -z "$(score_of checkout)" ] && [ -z "$(score_of payments)" ] && ok ||
    bad "$fault: scores still published while queries fail"
  keeps_model && ok || bad "$fault: model $v1 not kept"
  new_log "$l0" 'msg="query failed, groups stale"' && ok || bad "$fault: no 'query failed' log line"
  echo "  $fault: $(tail -n +"$((l0 + 1))" "$W/serve.log" | grep -m1 -o 'reason="[^"]*"')"
  back_to_normal "$fault"
  new_log "$l0" 'msg="queries recovered"' && ok || bad "$fault: no 'queries recovered' log line"
done

# Slow but within the timeout: no error, still scored.
e0=$(query_errors)
echo slow >"$W/mode"
wait_for 15 served slow && ok || bad "slow: never served"
sleep 3
[ "$(query_errors)" = "$e0" ] && state_is scored && [ -n "$(score_of checkout)" ] && ok ||
  bad "slow answers within the timeout: errors $e0 -> $(query_errors) or not scored"
back_to_normal slow

# Values that cannot be scored: the groups go stale with the reason, no score is published.
for fault in nan inf neginf; do
  l0=$(log_lines)
  echo "$fault" >"$W/mode"
  no_scores() { state_is stale && [ -z "$(score_of checkout)" ] && [ -z "$(score_of payments)" ]; }
  wait_for 20 no_scores && ok || bad "$fault: groups not stale, or a score published"
  served "$fault" && ok || bad "$fault: the proxy never served the fault"
  keeps_model && ok || bad "$fault: model $v1 not kept"
  new_log "$l0" 'msg="group stale"' && ok || bad "$fault: no 'group stale' log line"
  echo "  $fault: $(tail -n +"$((l0 + 1))" "$W/serve.log" | grep -m1 'group stale' | grep -o 'reason=.*')"
  back_to_normal "$fault"
  new_log "$l0" 'msg="group scored again"' && ok || bad "$fault: no 'group scored again' log line"
done

# A gap: error_rate has no payments sample at the instant; payments is stale, checkout scored.
l0=$(log_lines)
echo gap >"$W/mode"
gap_seen() { state_is stale && [ -z "$(score_of payments)" ] && [ -n "$(score_of checkout)" ]; }
wait_for 20 gap_seen && ok || bad "gap: payments stale and checkout still scored"
new_log "$l0" 'msg="group stale".*job=..payments' && ok || bad "gap: no log line naming group payments"
echo "  gap: $(tail -n +"$((l0 + 1))" "$W/serve.log" | grep -m1 'group stale' | grep -o 'reason=.*')"
keeps_model && ok || bad "gap: model $v1 not kept"
back_to_normal gap

stop_pid "$SERVE_PID"
SERVE_PID=""
echo "fault_prom_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
