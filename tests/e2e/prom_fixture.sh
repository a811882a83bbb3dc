# shellcheck shell=bash
# A real Prometheus with backfilled history, for end-to-end tests. Source it from bash:
#
#   source tests/e2e/prom_fixture.sh
#   prom_fixture_start 91 60        # DAYS of history at STEP seconds (defaults 91 and 60)
#   curl "$PROM_URL/api/v1/query?query=latency_p95&time=$PROM_END"
#
# It generates OpenMetrics history (awk; see prom_fixture_generate), backfills it with
# `promtool tsdb create-blocks-from openmetrics --max-block-duration=486h`, starts Debian's
# `prometheus` on 127.0.0.1 with an ephemeral port, its own config and data dir in a temp dir and
# `--storage.tsdb.retention.time=100y` (retention counts from the newest block, so the history
# stays), and waits for /-/ready. Recipe and traps: /work/shared/reference/prometheus-testing.md.
#
# Exports:
#   PROM_URL          http://127.0.0.1:<port>
#   PROM_PORT, PROM_PID
#   PROM_END          fixed end of history, epoch seconds (the last sample of every series);
#                     instant queries must use a time in [PROM_END, PROM_END + 300] (5 min
#                     lookback), never "now"
#   PROM_FIXTURE_DIR  the temp dir (prom.yml, blocks/ pristine backfill, data/, prom*.log)
#   PROM_FIXTURE_DAYS, PROM_FIXTURE_STEP
#
# History: metrics latency_p95, error_rate, cpu_throttle (k = 1, 2, 3), each for jobs checkout
# and payments (j = 0, 1), one sample every STEP seconds from PROM_END - DAYS*86400 to PROM_END
# inclusive (DAYS*86400/STEP + 1 samples per series), value printed with %.6f of
#   0.1*k + 0.01*j + 0.05*sin(2*pi*t/86400)        (daily seasonality, t in epoch seconds)
# `prom_fixture_value K J T` prints the same number. With PROM_FIXTURE_FINE=1, also latency_fine
# (same jobs and times): latency_p95's value times 1.2345678901234567 printed with 17
# significant digits, which Prometheus stores exactly and VictoriaMetrics to about 12 digits.
#
# Cleanup: an EXIT trap (and INT/TERM) runs prom_fixture_cleanup, which stops ONLY the
# Prometheus this fixture started (by its PID) and removes the temp dir. A caller that sets its
# own EXIT trap afterwards must call prom_fixture_cleanup from it. Port 9090 is never used.
#
# For "Prometheus went away" tests: prom_fixture_server_stop, then prom_fixture_server_start
# "$PROM_PORT" brings it back on the same port with the same data.

PROM_END=${PROM_END:-1767225600}  # 2026-01-01T00:00:00Z, a multiple of every sensible step

# awk function shared by the generator and prom_fixture_value.
_PROM_FIXTURE_AWK_VALUE='function fixture_value(k, j, t) {
  return 0.1 * k + 0.01 * j + 0.05 * sin(t * 6.283185307179586 / 86400)
}'

# prom_fixture_generate END DAYS STEP > file.om: OpenMetrics, families contiguous, each series
# in ascending time, timestamps in seconds, "# EOF" last and nothing after it.
prom_fixture_generate() {
  awk -v end="$1" -v days="$2" -v step="$3" -v fine="${PROM_FIXTURE_FINE:-0}" "$_PROM_FIXTURE_AWK_VALUE"'
  BEGIN {
    n = int(days * 86400 / step)
    split("latency_p95 error_rate cpu_throttle", m, " ")
    for (k = 1; k <= 3; k++) {
      print "# TYPE " m[k] " gauge"
      for (j = 0; j < 2; j++) {
        job = j ? "payments" : "checkout"
        for (i = 0; i <= n; i++) {
          t = end - (n - i) * step
          printf "%s{job=\"%s\"} %.6f %.0f\n", m[k], job, fixture_value(k, j, t), t
        }
      }
    }
    if (fine) {
      print "# TYPE latency_fine gauge"
      for (j = 0; j < 2; j++) {
        job = j ? "payments" : "checkout"
        for (i = 0; i <= n; i++) {
          t = end - (n - i) * step
          printf "latency_fine{job=\"%s\"} %.17g %.0f\n", job, fixture_value(1, j, t) * 1.2345678901234567, t
        }
      }
    }
    print "# EOF"
  }'
}

# prom_fixture_value K J T: the generated value of metric K (1..3) for job J (0..1) at T seconds.
prom_fixture_value() {
  awk -v k="$1" -v j="$2" -v t="$3" "$_PROM_FIXTURE_AWK_VALUE"'
  BEGIN { printf "%.6f\n", fixture_value(k, j, t) }'
}

_prom_fixture_fail() {
  echo "prom_fixture: $*" >&2
  return 1
}

# prom_fixture_server_start [PORT]: starts prometheus on 127.0.0.1:PORT (default 0 = ephemeral)
# over $PROM_FIXTURE_DIR/data and waits until it is ready (at most 30 s).
prom_fixture_server_start() {
  local port=${1:-0} log n=0
  [ "$port" = 9090 ] && { _prom_fixture_fail "port 9090 is never used by tests"; return 1; }
  [ -n "${PROM_PID:-}" ] && { _prom_fixture_fail "already running (pid $PROM_PID)"; return 1; }
  while [ -e "$PROM_FIXTURE_DIR/prom.$n.log" ]; do n=$((n + 1)); done
  log=$PROM_FIXTURE_DIR/prom.$n.log
  prometheus --config.file="$PROM_FIXTURE_DIR/prom.yml" \
    --storage.tsdb.path="$PROM_FIXTURE_DIR/data" \
    --storage.tsdb.retention.time=100y \
    --web.listen-address="127.0.0.1:$port" \
    </dev/null >"$log" 2>&1 &
  PROM_PID=$!
  export PROM_PID
  local deadline=$((SECONDS + 30))
  PROM_PORT=""
  # The real port is only in 'msg="Listening on" address=127.0.0.1:NNNNN'.
  while [ -z "$PROM_PORT" ]; do
    PROM_PORT=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$log" 2>/dev/null |
      grep -o '[0-9]*$' | head -1 || true)
    if [ -z "$PROM_PORT" ]; then
      if ! kill -0 "$PROM_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        tail -20 "$log" >&2
        prom_fixture_server_stop
        _prom_fixture_fail "prometheus did not start listening (log above)"
        return 1
      fi
      sleep 0.05
    fi
  done
  export PROM_PORT
  export PROM_URL=http://127.0.0.1:$PROM_PORT
  until curl -fs "$PROM_URL/-/ready" >/dev/null 2>&1; do
    if ! kill -0 "$PROM_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      tail -20 "$log" >&2
      prom_fixture_server_stop
      _prom_fixture_fail "prometheus on $PROM_URL did not become ready (log above)"
      return 1
    fi
    sleep 0.05
  done
}

# prom_fixture_server_stop: stops the Prometheus this fixture started (SIGTERM, then SIGKILL
# after 10 s), and only that one.
prom_fixture_server_stop() {
  local pid=${PROM_PID:-} i
  [ -z "$pid" ] && return 0
  if kill "$pid" 2>/dev/null; then
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
  unset PROM_PID
}

prom_fixture_cleanup() {
  prom_fixture_server_stop
  if [ -n "${PROM_FIXTURE_DIR:-}" ] && [ -d "$PROM_FIXTURE_DIR" ]; then
    rm -rf "$PROM_FIXTURE_DIR"
  fi
  unset PROM_FIXTURE_DIR
}

# prom_fixture_start [DAYS] [STEP]: everything above; returns non-zero (with the reason on
# stderr) when prometheus or promtool is missing or anything fails.
prom_fixture_start() {
  local days=${1:-91} step=${2:-60}
  local tool
  for tool in prometheus promtool curl awk; do
    command -v "$tool" >/dev/null 2>&1 ||
      { _prom_fixture_fail "$tool not found; install Debian's prometheus and curl (make deps-test)"; return 1; }
  done
  if [ $((days * 86400 % step)) != 0 ] || [ $((PROM_END % step)) != 0 ]; then
    _prom_fixture_fail "DAYS*86400 and PROM_END must be multiples of STEP ($step)"
    return 1
  fi
  PROM_FIXTURE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-prom.XXXXXX") || return 1
  export PROM_FIXTURE_DIR PROM_END
  export PROM_FIXTURE_DAYS=$days PROM_FIXTURE_STEP=$step
  trap prom_fixture_cleanup EXIT
  trap 'prom_fixture_cleanup; exit 130' INT TERM
  prom_fixture_generate "$PROM_END" "$days" "$step" >"$PROM_FIXTURE_DIR/history.om" || return 1
  # 486h blocks: one 2h-block file would make promtool 2.42 quadratic (minutes, not seconds).
  if ! promtool tsdb create-blocks-from openmetrics -q --max-block-duration=486h \
    "$PROM_FIXTURE_DIR/history.om" "$PROM_FIXTURE_DIR/blocks" >"$PROM_FIXTURE_DIR/promtool.log" 2>&1; then
    cat "$PROM_FIXTURE_DIR/promtool.log" >&2
    _prom_fixture_fail "promtool backfill failed (output above)"
    return 1
  fi
  rm -f "$PROM_FIXTURE_DIR/history.om"
  # Prometheus rewrites its data dir: start from a copy, keep blocks/ pristine.
  cp -r "$PROM_FIXTURE_DIR/blocks" "$PROM_FIXTURE_DIR/data"
  cat >"$PROM_FIXTURE_DIR/prom.yml" <<'EOF'
global: {scrape_interval: 15s, evaluation_interval: 15s}
scrape_configs: []
EOF
  prom_fixture_server_start 0
}
