# shellcheck shell=bash
# shellcheck disable=SC2034,SC2317  # sets variables for the sourcing script; _serve_port is called via wait_for
# Helpers shared by the daemon e2e scripts (serve_e2e.sh, serve_scrape_e2e.sh). Source after
# setting W (the work dir) and ISOSCOPE; they count into `passed` / `failed`.

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  tail -15 "$W/serve.log" 2>/dev/null | sed 's/^/  | /'
  # A daemon that died quietly (a signal leaves no log line) is named, with how it ended.
  if [ -n "${SERVE_PID:-}" ] && ! kill -0 "$SERVE_PID" 2>/dev/null; then
    wait "$SERVE_PID" 2>/dev/null
    local rc=$?
    echo "  | the daemon (pid $SERVE_PID) is gone: exit status $rc$([ $rc -gt 128 ] && echo ", signal $(kill -l $((rc - 128)))")"
  fi
}
metrics() { curl -fs "$URL/metrics"; }
# metric 'name{labels}': its value on the daemon's /metrics, empty when the series is absent.
metric() { metrics | awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds (bounded; short polls).
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
# stop_pid PID: SIGTERM, SIGKILL after 10 s; only ever a PID this script started.
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
# serve_start CONFIG [ARG...]: `isoscope serve` on 127.0.0.1:0 with its clock at the end of the
# fixture's history, more ARGs after, log in $W/serve.log; sets SERVE_PID, PORT and URL
# ($SERVE_SCHEME://127.0.0.1:PORT, scheme http unless set) once it listens.
serve_start() {
  # Emptied here, not only by the redirection below: that one runs in the background child,
  # and until it has, the poll would read the previous daemon's port from the old log.
  : >"$W/serve.log"
  "$ISOSCOPE" serve --config "$1" --web.listen-address 127.0.0.1:0 \
    --start-time "$PROM_END" "${@:2}" 2>"$W/serve.log" &
  SERVE_PID=$!
  _serve_port() {
    # Up to the closing quote: stderr is unbuffered, and a line read while it is being written
    # could end inside the port number.
    PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*"' "$W/serve.log" | grep -o '[0-9]*"$' | tr -d '"')
    [ -n "$PORT" ]
  }
  wait_for 10 _serve_port || return 1
  URL=${SERVE_SCHEME:-http}://127.0.0.1:$PORT
}
# e2e_begin NAME [PID_VAR...]: from the script's top level, after sourcing prom_fixture.sh: the
# Prometheus fixture (E2E_DAYS days at 60 s, default 15), W=$PROM_FIXTURE_DIR/NAME, zeroed counters, and an
# EXIT/INT/TERM cleanup that stops SERVE_PID and the processes in the named variables (only
# ever processes the script started), runs e2e_on_cleanup if the script defines it, then stops
# the fixture.
e2e_begin() {
  prom_fixture_start "${E2E_DAYS:-15}" 60 || exit 1
  W=$PROM_FIXTURE_DIR/$1
  mkdir -p "$W"
  passed=0
  failed=0
  _E2E_PID_VARS="SERVE_PID ${*:2}"
  local v
  for v in $_E2E_PID_VARS; do printf -v "$v" '%s' ""; done
  trap e2e_cleanup EXIT
  trap 'e2e_cleanup; exit 130' INT TERM
}
e2e_cleanup() {
  local v
  for v in $_E2E_PID_VARS; do
    [ -n "${!v:-}" ] && stop_pid "${!v}"
    printf -v "$v" '%s' ""
  done
  if declare -F e2e_on_cleanup >/dev/null; then e2e_on_cleanup; fi
  prom_fixture_cleanup
}
# stop_replicas: stops the replicas a script started into PIDS[0..2] (its e2e_on_cleanup).
stop_replicas() {
  local i
  for i in 0 1 2; do
    [ -n "${PIDS[$i]:-}" ] && stop_pid "${PIDS[$i]}"
    PIDS[i]=""
  done
}
