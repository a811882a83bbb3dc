#!/bin/bash
# make demo, part 2: the exporter daemon on the built-in history, without Prometheus.
#
#   tools/demo_serve.sh ISOSCOPE DEMO_DIR
#
# Needs DEMO_DIR/history.csv, incidents.csv, model.bundle and isoscope.yml from `isoscope demo`
# (the config has one query per input of the model, so it always matches the model). Installs
# model.bundle as detector `demo`'s latest and runs `isoscope serve --replay-csv history.csv`
# in the foreground until Ctrl-C, printing the scores of each cycle. Environment:
#   DEMO_SERVE_SECONDS   stop after that many seconds (default: run until interrupted)
#   DEMO_LISTEN          listen address (default 127.0.0.1:8080; port 0 picks a free one)
#   DEMO_REPLAY_SPEED    replay speed (default 12: one 60 s interval of history every 5 s)
#   DEMO_INCIDENT        the incident the replay starts 10 minutes before (default
#                        latency_spike; the first one of incidents.csv if there is none)
#   DEMO_START           where the replay starts (default: 10 minutes before DEMO_INCIDENT)
#   DEMO_PROMETHEUS_URL  a real Prometheus serving the model's inputs (the queries of
#                        isoscope.yml): query it at now instead of replaying (no --replay-csv)
set -euo pipefail
ISOSCOPE=$1
DIR=$2
SECONDS_LIMIT=${DEMO_SERVE_SECONDS:-}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
SPEED=${DEMO_REPLAY_SPEED:-12}
PROM_URL=${DEMO_PROMETHEUS_URL:-}

for f in history.csv incidents.csv model.bundle isoscope.yml; do
  [ -f "$DIR/$f" ] || { echo "demo_serve: $DIR/$f missing; run isoscope demo first" >&2; exit 1; }
done
if [ -n "$SECONDS_LIMIT" ] && ! [[ "$SECONDS_LIMIT" =~ ^[0-9]+$ ]]; then
  echo "demo_serve: DEMO_SERVE_SECONDS must be a whole number of seconds" >&2
  exit 2
fi

echo
echo "== 5. the exporter daemon on this history: isoscope serve"
if [ -n "$PROM_URL" ]; then
  sed -i "s|^  url: .*|  url: $PROM_URL|" "$DIR/isoscope.yml"
fi
echo "   config $DIR/isoscope.yml (written by isoscope demo: one query per input of the model)"
"$ISOSCOPE" check-config --config "$DIR/isoscope.yml" | sed 's/^/   /'
"$ISOSCOPE" install --config "$DIR/isoscope.yml" --detector demo --bundle "$DIR/model.bundle" |
  sed 's/^/   /'
# Champion and challenger (docs/lifecycle.md): a retrain with the incidents left out becomes the
# detector's candidate (promotion: manual); the daemon scores it on the same rows as model.bundle.
echo "   a retrain without the incidents (isoscope train --exclude incidents.csv) as the candidate:"
"$ISOSCOPE" train --csv "$DIR/history.csv" --out "$DIR/excluded.bundle" --exclude "$DIR/incidents.csv" \
  --n-estimators 200 --contamination 0.02 --random-state 42 --quiet 2>/dev/null
grep -q '^    promotion:' "$DIR/isoscope.yml" ||
  sed -i 's/^    interval: .*/&\n    promotion: manual/' "$DIR/isoscope.yml"
"$ISOSCOPE" install --config "$DIR/isoscope.yml" --detector demo --bundle "$DIR/excluded.bundle" |
  sed 's/^/   /'

args=(serve --config "$DIR/isoscope.yml" --web.listen-address "$LISTEN")
if [ -z "$PROM_URL" ]; then
  start=${DEMO_START:-}
  if [ -z "$start" ]; then
    incident=${DEMO_INCIDENT:-latency_spike}
    at=$(awk -F, -v n="$incident" 'NR > 1 && $1 == n { print $2; exit }' "$DIR/incidents.csv")
    if [ -z "$at" ]; then
      incident=$(awk -F, 'NR == 2 { print $1 }' "$DIR/incidents.csv")
      at=$(awk -F, 'NR == 2 { print $2 }' "$DIR/incidents.csv")
    fi
    if [ -z "$at" ]; then
      echo "demo_serve: $DIR/incidents.csv lists no incident; set DEMO_START" >&2
      exit 1
    fi
    start=$(date -u -d "@$(($(date -u -d "$at" +%s) - 600))" +%Y-%m-%dT%H:%M:%SZ)
    echo "   replaying $DIR/history.csv from $start (10 minutes before the $incident incident)"
  else
    echo "   replaying $DIR/history.csv from $start"
  fi
  args+=(--replay-csv "$DIR/history.csv" --start-time "$start" --replay-speed "$SPEED"
    --incidents "$DIR/incidents.csv")
  echo "   at ${SPEED}x: the 60 s interval, and one new minute of history, every $(awk -v s="$SPEED" 'BEGIN { printf "%g", 60 / s }') s"
else
  echo "   querying $PROM_URL at now"
fi
LOG=$DIR/serve.log
: >"$LOG"  # a second make demo must not read the last run's port before the new one logs its own
"$ISOSCOPE" "${args[@]}" 2>"$LOG" &
PID=$!
stop() {
  if kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID" 2>/dev/null || true; fi
  wait "$PID" 2>/dev/null || true
}
# After the daemon: the comparison it kept, and how to promote the candidate.
compared() {
  echo
  echo "== 6. the candidate against the active model on the same rows: isoscope candidates"
  "$ISOSCOPE" candidates --config "$DIR/isoscope.yml" | sed 's/^/   /'
  echo "   isoscope promote --config $DIR/isoscope.yml --detector demo   makes it latest"
}
trap 'echo; echo "   stopping"; stop; compared; exit 0' INT TERM

port=""
for _ in $(seq 100); do
  port=$(grep -o 'msg="listening on [^"]*"' "$LOG" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"' || true)
  [ -n "$port" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "demo_serve: isoscope serve did not start:" >&2
  sed 's/^/   /' "$LOG" >&2
  stop
  exit 1
fi
host=${LISTEN%:*}
[ -z "$host" ] || [ "$host" = 0.0.0.0 ] && host=127.0.0.1
URL=http://$host:$port
echo
echo "   isoscope serve is running (pid $PID, log $LOG):"
if grep -q 'serving the what-if page' "$LOG"; then
  echo "     $URL/   the what-if page (alert thresholds tried on this history, in the browser)"
else
  echo "     (no what-if page: build it with make panel, or see the log)"
fi
echo "     $URL/metrics"
echo "     $URL/api/v1/detectors"
echo "     curl -s $URL/metrics | grep ^anomaly_"
if [ -n "$SECONDS_LIMIT" ]; then
  echo "   stopping after $SECONDS_LIMIT s (DEMO_SERVE_SECONDS); Ctrl-C stops it earlier"
else
  echo "   Ctrl-C stops it (DEMO_SERVE_SECONDS=N make demo stops after N seconds)"
fi
echo

# One line per cycle (the daemon's clock, i.e. the replayed time) from /metrics, while it runs.
show() {
  command -v curl >/dev/null || return 0
  curl -s --max-time 2 "$URL/metrics" | awk -v now="$1" '
    /^anomaly_score\{/ { s = $2 } /^anomaly_is_anomaly\{/ { a = $2 }
    /^anomaly_threshold\{/ { th = $2 }
    END { if (s != "") printf "   %s  anomaly_score %.4f  threshold %.4f  %s\n", now, s, th, (a == 1 ? "ANOMALY" : "normal");
          else print "   " now "  no score yet (warming or stale; see the log)" }'
}
command -v curl >/dev/null || echo "   (install curl to see the scores here)"
begin=$SECONDS
last_cycle=""
while kill -0 "$PID" 2>/dev/null; do
  if [ -n "$SECONDS_LIMIT" ] && [ $((SECONDS - begin)) -ge "$SECONDS_LIMIT" ]; then
    stop
    echo "   stopped after $SECONDS_LIMIT s"
    compared
    exit 0
  fi
  cycle=$(curl -s --max-time 2 "$URL/api/v1/detectors" 2>/dev/null | grep -o '"last_cycle":"[^"]*"' || true)
  if [ -n "$cycle" ] && [ "$cycle" != "$last_cycle" ]; then
    last_cycle=$cycle
    show "$(echo "$cycle" | sed 's/.*:"\(.*\)"/\1/; s/\.[0-9]*Z$/Z/')"
  fi
  sleep 0.5
done
wait "$PID"
