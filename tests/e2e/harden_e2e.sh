#!/bin/bash
# isoscope serve against hostile clients and odd files (issue 23), without Prometheus: the
# demo's history replayed (--replay-csv). Each attack runs with a scrape every second that must
# answer 200 within 1 s (tests/e2e/http_attack.py prints the latencies and the peak RSS):
# slow headers (every 2 s and every 0.5 s), Range amplification, a 160 MB header flood, a GET
# with a body (desync), pipelining, HTTP/1.1 without Host, the per-client connection cap,
# keep-alive latency (Nagle), and on a TLS + basic-auth port a wrong-password flood and a
# certificate rotation without restart. Files: a FIFO, a 2 GB sparse file, a symlink to
# /etc/passwd and a path outside the directory as `latest` (refused, counted, scoring goes on),
# FIFO and non-UTF-8 names in the store, /dev/zero and FIFOs given to the CLI, kill -9 during
# the fsync of install (strace), a SIGHUP storm, check-config on 10k and 100k unknown keys.
#   harden_e2e.sh ISOSCOPE
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
ATTACK=$HERE/http_attack.py
for tool in openssl htpasswd strace curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found: make deps-test"; exit 1; }
done
W=$(mktemp -d /tmp/isoscope_harden_XXXXXX)
passed=0
failed=0
SERVE_PID=""
TLS_PID=""
FIFO_WRITER=""
cleanup() {
  local p
  for p in $SERVE_PID $TLS_PID $FIFO_WRITER; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}
# check NAME CMD...: CMD succeeds (its output shown, indented).
check() {
  local name=$1
  shift
  if "$@" >"$W/out" 2>&1; then ok; else bad "$name"; fi
  sed 's/^/  /' "$W/out"
}
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
# start LOG PIDVAR [ARG...]: isoscope serve on a free port; sets PORT.
start() {
  local log=$1 var=$2
  shift 2
  : >"$log"  # the poll below must never read an earlier run's port
  "$ISOSCOPE" serve --config "$W/replay.yml" --replay-csv "$W/demo/history.csv" \
    --start-time 2026-08-20T03:00:00Z --replay-speed 60 --web.listen-address 127.0.0.1:0 \
    "$@" 2>"$log" &
  printf -v "$var" '%s' $!
  _port() { PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9][0-9]*"' "$log" | grep -o '[0-9]*"$' | tr -d '"'); [ -n "$PORT" ]; }
  wait_for 10 _port
}
metric() { curl -fs "$URL/metrics" | awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'; }
# Seconds since a `date +%s.%N` reading (awk: bc is not on a fresh Debian, and an empty
# reading made the check-config timing below pass without measuring anything).
since() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.3f", t1 - t0 }'; }
hwm_mb() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$SERVE_PID/status"; }

"$ISOSCOPE" demo --days 28 --out-dir "$W/demo" >"$W/demo.out" 2>&1 || { bad "demo"; exit 1; }
cat >"$W/replay.yml" <<EOF
prometheus: {url: http://127.0.0.1:9}
models_dir: $W/models
detectors:
  - name: demo
    queries: {latency_p95: latency_p95, error_rate: error_rate, cpu_throttle: cpu_throttle, memory_mb: memory_mb}
    model: {contamination: 0.02}
EOF
"$ISOSCOPE" install --config "$W/replay.yml" --detector demo --bundle "$W/demo/model.bundle" >/dev/null ||
  { bad "install"; exit 1; }
M=$W/models/demo
V=$(readlink "$M/latest")
BUNDLE_SIZE=$(stat -c %s "$M/$V")

# --- HTTP on the plain port. ---
start "$W/serve.log" SERVE_PID || { bad "serve did not start"; cat "$W/serve.log"; exit 1; }
URL=http://127.0.0.1:$PORT
# (a function: wait_for re-runs it, where "$(metric ...)" as an argument would be read once)
scored() { test -n "$(metric 'anomaly_score{detector="demo"}')"; }
wait_for 30 scored || bad "no score before the attacks"
# Under ASan (tools/ci/sanitize_test.sh sets ASAN_OPTIONS) freed memory stays in quarantine and
# timings stretch: the RSS bounds are checked on the release build only, times get slack.
RSS_ARGS=()
SLOW=1
if [ -n "${ASAN_OPTIONS:-}" ]; then
  RSS_ARGS=(--no-rss-limits)
  SLOW=3
fi
for scenario in protocol per_client_cap keepalive_latency header_flood range slowloris slowloris_fast; do
  check "http: $scenario" timeout 90 "$PY" "$ATTACK" "$scenario" --port "$PORT" --pid "$SERVE_PID" \
    --bundle-size "$BUNDLE_SIZE" "${RSS_ARGS[@]}"
done

# --- Odd files as latest while serving: refused at once, counted, scoring goes on. ---
cycles() { metric 'isoscope_scoring_duration_seconds_count{detector="demo"}'; }
errors() { metric 'isoscope_reload_errors_total{detector="demo"}'; }
# odd_latest WHAT TARGET: point latest at TARGET; the refusal is counted within 3 s, the
# cycles go on, /readyz and /api/v1/detectors answer within 1 s.
odd_latest() {
  local e0 c0 hwm0
  e0=$(errors)
  hwm0=$(hwm_mb)
  ln -sfn "$2" "$M/latest"
  more_errors() { [ "$(errors)" -gt "$e0" ]; }
  wait_for 3 more_errors && ok || bad "$1: latest refused but not counted ($(errors))"
  c0=$(cycles)
  more_cycles() { [ "$(cycles)" -ge $((c0 + 2)) ]; }
  wait_for 5 more_cycles && ok || bad "$1: scoring stopped (cycles $c0 -> $(cycles))"
  curl -fs -m 1 -o /dev/null "$URL/readyz" && ok || bad "$1: /readyz"
  curl -fs -m 1 -o /dev/null "$URL/api/v1/detectors" && ok || bad "$1: /api/v1/detectors"
  echo "  $1: refused, errors $e0 -> $(errors), cycles go on, peak RSS $hwm0 -> $(hwm_mb) MB"
  [ $(($(hwm_mb) - hwm0)) -lt 32 ] || [ -n "${RSS_ARGS[*]}" ] && ok ||
    bad "$1: peak RSS grew from $hwm0 to $(hwm_mb) MB"
}
mkfifo "$M/fifo.bundle"
odd_latest "FIFO latest" fifo.bundle
truncate -s 2G "$M/sparse.bundle"
odd_latest "2 GB sparse latest" sparse.bundle
# A 2 GB file with a good header: refused for its size before the body is read.
head -c 26 "$M/$V" >"$M/hdr.bundle" && truncate -s 2G "$M/hdr.bundle"
odd_latest "2 GB file with a bundle header" hdr.bundle
ln -s /etc/passwd "$M/evil.bundle"
odd_latest "symlink out of the directory" evil.bundle
grep -q 'root:' "$W/serve.log" && bad "the refusal logged bytes of /etc/passwd" || ok
odd_latest "target outside the directory" ../other.bundle
# Listing with a FIFO, a 2 GB file and a non-UTF-8 name in the store: quick, valid JSON, and
# more requests than the old 4 workers.
touch "$M/x$(printf '\xff').bundle"
for i in 1 2 3 4 5 6; do
  curl -fs -m 1 "$URL/api/v1/detectors" >"$W/detectors.json" || bad "listing $i with odd files"
done
check "listing skips odd names, valid JSON" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))[0]
names = [v["version"] for v in d["versions"]]
print("versions listed:", names)
assert all(n.isascii() for n in names), names
assert "fifo" not in names and "evil" not in names, names
' "$W/detectors.json"
ln -sfn "$V" "$M/latest"
rm -f "$M/fifo.bundle" "$M/sparse.bundle" "$M/hdr.bundle" "$M/evil.bundle" "$M/x"*.bundle

# --- SIGHUP storm: coalesced into at most two reloads, no extra cycles. ---
r0=$(metric 'isoscope_reloads_total{detector="demo"}')
c0=$(cycles)
t0=$(date +%s.%N)
for i in $(seq 20); do kill -HUP "$SERVE_PID"; done
sleep 2.5
r1=$(metric 'isoscope_reloads_total{detector="demo"}')
c1=$(cycles)
echo "  20 SIGHUPs: reloads $r0 -> $r1, cycles $c0 -> $c1 in $(since "$t0") s"
[ $((r1 - r0)) -ge 1 ] && [ $((r1 - r0)) -le 2 ] && ok || bad "SIGHUP storm: $((r1 - r0)) reloads"
[ $((c1 - c0)) -le 5 ] && ok || bad "SIGHUP storm: $((c1 - c0)) cycles in 2.5 s (one a second)"

# --- kill -9 during the fsync of install (strace), then the next install cleans up. ---
"$ISOSCOPE" train --csv "$W/demo/history.csv" --out "$W/other.bundle" --n-estimators 20 \
  --random-state 7 >/dev/null 2>&1 || bad "train a second bundle"
# kill_install N: install SIGKILLed at its Nth fsync (1: the report's temp file, 3: the
# bundle's); prints the temp files left.
kill_install() {
  strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:signal=KILL:when="$1" \
    "$ISOSCOPE" install --config "$W/replay.yml" --detector demo --bundle "$W/other.bundle" \
    >/dev/null 2>&1
  echo "  install SIGKILLed at fsync #$1: exit $?, temp files: $(find "$M" -name '*.tmp.*' -printf '%f ')"
}
kill_install 1 2>/dev/null
[ "$(find "$M" -name '*.report.json.tmp.*' | wc -l)" = 1 ] && ok || bad "no report temp file left"
kill_install 3 2>/dev/null
# The second install removed the first one's temp file; its own bundle temp file stays.
[ "$(find "$M" -name '*.tmp.*' | wc -l)" = 1 ] && [ "$(find "$M" -name '*.bundle.tmp.*' | wc -l)" = 1 ] &&
  ok || bad "temp files after two killed installs: $(find "$M" -name '*.tmp.*')"
check "no version without its report" bash -c '
for f in "$1"/*.bundle; do [ -f "${f%.bundle}.report.json" ] || { echo "no report: $f"; exit 1; }; done' _ "$M"
[ "$(readlink "$M/latest")" = "$V" ] && ok || bad "a killed install moved latest"
"$ISOSCOPE" install --config "$W/replay.yml" --detector demo --bundle "$W/other.bundle" >/dev/null ||
  bad "install after the kills"
[ "$(find "$M" -name '*.tmp.*' | wc -l)" = 0 ] && ok || bad "temp files of killed installs remain"

# --- CLI given /dev/zero or a FIFO: a clear error at once, exit 1 (bad input). ---
mkfifo "$W/fifo"
cli_refuses() {
  local what=$1 rc
  shift
  timeout 10 "$ISOSCOPE" "$@" >"$W/cli.out" 2>&1
  rc=$?
  if [ "$rc" = 1 ] && grep -q 'not a regular file' "$W/cli.out"; then ok; else
    bad "$what: exit $rc: $(head -c 300 "$W/cli.out")"
  fi
}
for f in /dev/zero "$W/fifo"; do
  cli_refuses "check-config $f" check-config --config "$f"
  cli_refuses "serve --config $f" serve --config "$f"
  cli_refuses "serve --replay-csv $f" serve --config "$W/replay.yml" --replay-csv "$f" \
    --web.listen-address 127.0.0.1:0
  cli_refuses "train --csv $f" train --csv "$f" --out "$W/x.bundle"
  cli_refuses "inspect --bundle $f" inspect --bundle "$f"
  cli_refuses "install --bundle $f" install --config "$W/replay.yml" --detector demo --bundle "$f"
done
# Non-UTF-8 column names: refused by train with the bytes escaped.
printf 'timestamp,lat\xff\n2026-01-01T00:00:00Z,1\n' >"$W/bad_name.csv"
timeout 10 "$ISOSCOPE" train --csv "$W/bad_name.csv" --out "$W/x.bundle" >"$W/cli.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'lat\\xff.*not valid UTF-8' "$W/cli.out" && ok ||
  bad "train with a non-UTF-8 column name: exit $rc: $(cat "$W/cli.out")"

# --- check-config linear in the number of unknown keys. ---
cc_seconds() {
  local t0
  t0=$(date +%s.%N)
  timeout 200 "$ISOSCOPE" check-config --config "$1" >/dev/null 2>&1
  since "$t0"
}
for n in 10000 100000; do
  {
    sed -n '1,2p' "$W/replay.yml"
    seq "$n" | sed 's/^/k/; s/$/: 1/'
    sed -n '3,$p' "$W/replay.yml"
  } >"$W/k$n.yml"
done
s20=$(cc_seconds "$W/k10000.yml")
s200=$(cc_seconds "$W/k100000.yml")
echo "  check-config: 10k unknown keys $s20 s, 100k $s200 s"
[ -n "$s20" ] && [ -n "$s200" ] &&
  awk -v a="$s20" -v b="$s200" -v k="$SLOW" 'BEGIN { exit !(b < 30 * k && b < 25 * (a + 0.05)) }' && ok ||
  bad "check-config is not linear: 10k keys $s20 s, 100k keys $s200 s"

# --- TLS + basic auth: wrong-password flood, latency, rotation without restart. ---
T=$W/tls
mkdir -p "$T"
cert() {  # cert NAME: a server certificate for 127.0.0.1 signed by the test CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$T/$1.key" -out "$T/$1.csr" &&
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
      -days 2 -extfile "$T/ext.cnf" -out "$T/$1.crt"
}
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=isoscope-test-ca -keyout "$T/ca.key" -out "$T/ca.crt" &&
    printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext.cnf" && cert server && cert rotated
} >"$T/openssl.log" 2>&1 || { bad "openssl certificates"; cat "$T/openssl.log"; }
HASH=$(htpasswd -nbBC 10 prom 'scrape pw' | cut -d: -f2-)
printf "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\nbasic_auth_users:\n  prom: '%s'\n" \
  "$HASH" >"$W/web.yml"
start "$W/tls.log" TLS_PID --web.config.file "$W/web.yml" || { bad "TLS serve"; cat "$W/tls.log"; }
SERVE_PID_PLAIN=$SERVE_PID
SERVE_PID=$TLS_PID
for scenario in protocol keepalive_latency auth_flood slowloris_fast; do
  check "https: $scenario" timeout 90 "$PY" "$ATTACK" "$scenario" --port "$PORT" --pid "$TLS_PID" \
    --tls "$T/ca.crt" --auth 'prom:scrape pw'
done
[ "$(curl -s "http://127.0.0.1:$PORT/metrics")" = "This port expects TLS (use https://)." ] && ok ||
  bad "plain HTTP on the TLS port gets no readable answer"
serial() {
  openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/ca.crt" </dev/null 2>/dev/null |
    openssl x509 -noout -serial
}
s1=$(serial)
cp "$T/rotated.key" "$T/k.tmp" && mv "$T/k.tmp" "$T/server.key"
cp "$T/rotated.crt" "$T/c.tmp" && mv "$T/c.tmp" "$T/server.crt"
want=$(openssl x509 -noout -serial -in "$T/rotated.crt")
rotated() { [ "$(serial)" = "$want" ]; }
wait_for 5 rotated && ok || bad "certificate not rotated without restart ($s1 -> $(serial))"
echo "  rotation: $s1 -> $(serial)"
SERVE_PID=$SERVE_PID_PLAIN

echo "harden e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
