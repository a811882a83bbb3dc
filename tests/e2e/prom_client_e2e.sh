#!/bin/bash
# PromClient against a real Prometheus (Debian's prometheus + promtool, see prom_fixture.sh):
# 91 days of backfilled history at 60 s; 90 days x 3 metrics x 2 jobs must come back complete,
# in 13 chunks, with no point twice and the generator's values; an instant query at the end of
# history; a bad PromQL query fails at once with Prometheus's message; a dead port fails fast
# with "connection refused"; Prometheus stopped and restarted on the same port.
#
#   prom_client_e2e.sh PROM_QUERY_TOOL
set -euo pipefail
TOOL=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON3:-python3}
# shellcheck source=SCRIPTDIR/prom_fixture.sh
source "$HERE/prom_fixture.sh"

DAYS=91
STEP=60
t0=$SECONDS
prom_fixture_start $DAYS $STEP
echo "fixture: $DAYS days at ${STEP}s backfilled, Prometheus ready on $PROM_URL in $((SECONDS - t0)) s"

W=$PROM_FIXTURE_DIR/e2e
mkdir -p "$W"
passed=0
failed=0
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  sed 's/^/  out: /' "$W/out" | cut -c1-400 | head -5
  sed 's/^/  err: /' "$W/err" | head -10
}
ok() { passed=$((passed + 1)); echo "ok: $*"; }

# run NAME EXPECTED_EXIT TOOL_ARGS...: runs the tool into $W/out, $W/err
run() {
  local name=$1 want=$2 rc=0
  shift 2
  "$TOOL" "$@" >"$W/out" 2>"$W/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    fail "$name: exit $rc, wanted $want"
    return 1
  fi
}

# check NAME PYTHON_EXPRESSIONS: each line is asserted against `r` (the tool's JSON).
check() {
  local name=$1 code=$2
  if "$PY" - "$W/out" "$code" >"$W/check" 2>&1 <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for line in sys.argv[2].strip().splitlines():
    line = line.strip()
    if line and not eval(line):
        print("assertion failed:", line)
        sys.exit(1)
EOF
  then
    ok "$name"
  else
    sed 's/^/  /' "$W/check"
    fail "$name"
  fi
}

END=$PROM_END
START=$((END - 90 * 86400))
POINTS=$((90 * 86400 / STEP + 1))
ALL='{__name__=~"latency_p95|error_rate|cpu_throttle"}'

# 1. 90 days of all six series through QueryRange: 13 chunks, complete, no duplicates.
if run "range pull" 0 --url "$PROM_URL" --query "$ALL" --start $START --end "$END" --step ${STEP}s; then
  # Series come ordered by label set: __name__ (cpu_throttle, error_rate, latency_p95), then job.
  first_values=""
  last_values=""
  for k in 3 2 1; do
    for j in 0 1; do
      first_values="$first_values$(prom_fixture_value $k $j $START), "
      last_values="$last_values$(prom_fixture_value $k $j "$END"), "
    done
  done
  check "90 d x 3 metrics x 2 jobs complete ($POINTS points per series)" "
    r['series'] == 6
    r['chunks'] == 13
    r['points'] == 6 * $POINTS
    all(d['points'] == $POINTS for d in r['detail'])
    all(d['min_delta'] == d['max_delta'] == $STEP * 1000 for d in r['detail'])
    all(d['first'] == $START * 1000 and d['last'] == $END * 1000 for d in r['detail'])
    [d['labels']['__name__'] for d in r['detail']] == ['cpu_throttle'] * 2 + ['error_rate'] * 2 + ['latency_p95'] * 2
    [d['labels']['job'] for d in r['detail']] == ['checkout', 'payments'] * 3
    [d['first_value'] for d in r['detail']] == [$first_values]
    [d['last_value'] for d in r['detail']] == [$last_values]
  "
  "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1]))
print("  pulled %d points of %d series in %d requests in %.2f s" %
      (r["points"], r["series"], r["chunks"], r["seconds"]))' "$W/out"
fi

# 2. Instant query at the end of history (within the 5-minute lookback).
if run "instant query" 0 --url "$PROM_URL" --query 'latency_p95' --time $((END + 60)); then
  check "instant query at PROM_END + 60 s" "
    r['samples'] == 2
    [d['labels']['job'] for d in r['detail']] == ['checkout', 'payments']
    all(d['time'] == ($END + 60) * 1000 for d in r['detail'])
    [d['value'] for d in r['detail']] == [$(prom_fixture_value 1 0 "$END"), $(prom_fixture_value 1 1 "$END")]
  "
fi

# 3. A query that matches nothing is an empty answer, not an error.
if run "empty result" 0 --url "$PROM_URL" --query 'no_such_metric' --start $START --end "$END" --step ${STEP}s; then
  check "no series for an unknown metric" "
    r['series'] == 0 and r['points'] == 0 and r['chunks'] == 13
  "
fi

# 4. Bad PromQL: Prometheus's own message, exit 1, no retries (no backoff sleep either).
t1=$(date +%s%N)
if run "bad PromQL" 1 --url "$PROM_URL" --query 'rate(latency_p95[5m)' --start $START --end "$END" \
  --step ${STEP}s --backoff-ms 2000; then
  ms=$((($(date +%s%N) - t1) / 1000000))
  if grep -q "GET $PROM_URL/api/v1/query_range (query 'rate(latency_p95\[5m)', .*chunk 1/13): Prometheus answered 400 bad_data: 1:20: parse error: unexpected \")\"" "$W/err" &&
    ! grep -q "attempts" "$W/err" && [ $ms -lt 1500 ]; then
    ok "bad PromQL fails at once with Prometheus's message (${ms} ms)"
  else
    fail "bad PromQL message or timing (${ms} ms)"
  fi
fi

# 5. A port where nothing listens: connection refused, fast, after the retries.
DEAD=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
t1=$(date +%s%N)
if run "dead port" 1 --url "http://127.0.0.1:$DEAD" --query up --time "$END" --retries 2 --backoff-ms 50; then
  ms=$((($(date +%s%N) - t1) / 1000000))
  if grep -q "GET http://127.0.0.1:$DEAD/api/v1/query (query 'up' at 2026-01-01T00:00:00Z): connection refused to 127.0.0.1:$DEAD after 3 attempts" "$W/err" &&
    [ $ms -lt 2000 ]; then
    ok "dead port: connection refused after 3 attempts (${ms} ms)"
  else
    fail "dead port message or timing (${ms} ms)"
  fi
fi

# 6. Prometheus stopped: refused; started again on the same port: answers again.
PORT=$PROM_PORT
prom_fixture_server_stop
if run "stopped Prometheus" 1 --url "$PROM_URL" --query up --time "$END" --retries 0; then
  if grep -q "connection refused to 127.0.0.1:$PORT" "$W/err"; then
    ok "stopped Prometheus: connection refused"
  else
    fail "stopped Prometheus message"
  fi
fi
prom_fixture_server_start "$PORT"
if run "restarted Prometheus" 0 --url "$PROM_URL" --query 'error_rate{job="payments"}' --time "$END"; then
  check "restarted Prometheus on port $PORT serves the same history" "
    r['samples'] == 1 and r['detail'][0]['value'] == $(prom_fixture_value 2 1 "$END")
  "
fi

echo "prom_client e2e: $passed passed, $failed failed, $((SECONDS - t0)) s"
[ "$failed" = 0 ]
