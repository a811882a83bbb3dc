#!/bin/bash
# The model store under faults, with `isoscope serve` running against a real Prometheus
# (Debian's, backfilled), every fault on the real binaries:
#  1. models directory read-only during `isoscope train` (as root: a read-only bind mount in a
#     private mount namespace, since root ignores file modes; otherwise chmod a-w);
#  2. models directory full during train: a file-size limit (ulimit -f, SIGXFSZ ignored, so
#     write() fails with EFBIG exactly where ENOSPC would; no tmpfs is mounted);
#  3. the trainer killed with SIGKILL mid-write: strace fault injection delivers SIGKILL at the
#     fsync of the bundle's temp file (bytes written, not yet renamed), at the report's fsync
#     (bundle renamed into place, report not written) and at the rename of latest;
#  4. rollbacks racing reloads (SIGHUP) for several seconds;
#  5. the active bundle replaced by a file of another format (a JSON model, a gzip, garbage).
# Each time: no half bundle (every *.bundle passes `isoscope inspect`), the previous latest is
# intact, the daemon keeps serving its model (readyz, bundle bytes), logs and counts what happened,
# and takes the next good model without a restart.
#   fault_store_e2e.sh ISOSCOPE
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
# Tests make parts of the store read-only: writable again before the fixture removes it.
e2e_on_cleanup() { chmod -R u+w "$W" 2>/dev/null; }
e2e_begin store
M=$W/models/checkout

cat >"$W/isoscope.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 5s
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
      n_estimators: 30
      contamination: 0.02
YAML
END=$PROM_END
train() { "$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$END"; }
train >"$W/train1.out" 2>&1 && ok || { bad "first train"; cat "$W/train1.out"; exit 1; }
latest() { readlink "$M/latest"; }
v1=$(latest)
v1=${v1%.bundle}

serve_start "$W/isoscope.yml" && ok || { bad "serve started"; exit 1; }
PID0=$SERVE_PID
state_is() { [ "$(metric "anomaly_model_state{detector=\"checkout\",state=\"$1\"}")" = 1 ]; }
scored() { state_is scored && [ -n "$(metric 'anomaly_score{detector="checkout",job="checkout"}')" ]; }
wait_for 20 scored && ok || bad "scored with $v1"
# serving V: the daemon's API and bundle bytes say version V, it is ready, same process.
serving() {
  curl -fs "$URL/readyz" >/dev/null &&
    [ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$1\"}")" ] &&
    cmp -s <(curl -fs "$URL/api/v1/detectors/checkout/bundle") "$2" &&
    [ "$SERVE_PID" = "$PID0" ] && kill -0 "$SERVE_PID"
}
cp "$M/$v1.bundle" "$W/$v1.bundle.orig"
# store_sound: every *.bundle in the store is a complete, valid bundle; latest resolves.
store_sound() {
  local f
  for f in "$M"/*.bundle; do
    "$ISOSCOPE" inspect --bundle "$f" >/dev/null 2>&1 || { echo "  half or bad bundle: $f"; return 1; }
  done
  [ -f "$M/$(latest)" ]
}
listing() { find "$M" -mindepth 1 -maxdepth 1 ! -name '*.tmp.*' -printf '%f\n' | sort; }
temp_files() { find "$M" -mindepth 1 -maxdepth 1 -name '*.tmp.*' -printf '%f\n'; }
reload_errors() { metric 'isoscope_reload_errors_total{detector="checkout"}'; }
reloads() { metric 'isoscope_reloads_total{detector="checkout"}'; }
# gt A B: A > B as numbers.
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# Each new train needs a new version: --end moves back an hour at a time.
next_end() { END=$((END - 3600)); }

# --- 1. Read-only models directory during train. ---
before=$(listing)
next_end
if [ "$(id -u)" = 0 ]; then
  unshare -m sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' sh "$W/models" \
    "$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$END" >"$W/ro.out" 2>&1
  rc=$?
  how="read-only bind mount"
else
  chmod a-w "$M"
  train >"$W/ro.out" 2>&1
  rc=$?
  chmod u+w "$M"
  how="chmod a-w"
fi
echo "  read-only ($how): exit $rc: $(head -c 300 "$W/ro.out" | tr '\n' ' ')"
[ "$rc" != 0 ] && grep -qi 'read-only\|permission' "$W/ro.out" && ok ||
  bad "read-only models dir: train must fail naming the cause (exit $rc)"
[ "$(listing)" = "$before" ] && [ "$(latest)" = "$v1.bundle" ] && store_sound && ok ||
  bad "read-only: store changed or latest moved"
serving "$v1" "$W/$v1.bundle.orig" && ok || bad "read-only: daemon stopped serving $v1"

# --- 2. Full: the bundle write fails part way (file-size limit below the bundle's size). ---
size_kib=$(($(stat -c %s "$M/$v1.bundle") / 1024))
limit=$((size_kib / 2))
next_end
(
  trap '' XFSZ
  ulimit -f "$limit"
  exec "$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$END"
) >"$W/full.out" 2>&1
rc=$?
echo "  full (ulimit -f ${limit} KiB, bundle ${size_kib} KiB): exit $rc: $(head -c 300 "$W/full.out" | tr '\n' ' ')"
[ "$rc" != 0 ] && grep -qi 'too large\|no space' "$W/full.out" && ok ||
  bad "full: train must fail naming the cause (exit $rc)"
[ "$(listing)" = "$before" ] && [ "$(latest)" = "$v1.bundle" ] && store_sound && ok ||
  bad "full: store changed, latest moved or a half bundle"
[ -z "$(temp_files)" ] && ok || bad "full: the failed write left a temp file"
serving "$v1" "$W/$v1.bundle.orig" && ok || bad "full: daemon stopped serving $v1"

# --- 3. SIGKILL mid-write (strace delivers it on entry to the named system call). ---
# kill_at SYSCALL N WHAT: train, SIGKILLed at the Nth SYSCALL.
kill_at() {  # strace reports the kill on stderr; the exit code is checked below
  next_end
  strace -f -qq -o /dev/null -e trace="$1" -e inject="$1":signal=KILL:when="$2" \
    "$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$END" >"$W/kill.out" 2>&1
  local rc=$?
  echo "  SIGKILL at $1 #$2 ($3): exit $rc"
  [ "$rc" = 137 ] || [ "$rc" = 9 ] && ok || bad "SIGKILL at $1 #$2: the trainer was not killed (exit $rc)"
  [ "$(latest)" = "$v1.bundle" ] && store_sound && ok ||
    bad "SIGKILL at $1 #$2 ($3): latest moved or a half bundle"
  serving "$v1" "$W/$v1.bundle.orig" && ok || bad "SIGKILL at $1 #$2: daemon stopped serving $v1"
}
kill_at fsync 1 "report written to its temp file, not renamed"
kill_at fsync 3 "report in place, bundle bytes written to the temp file, not renamed"
kill_at rename 3 "bundle and report in place, latest about to move"
sleep 1.5  # the daemon's reload poll (1 s) has seen the store after the kills
[ "$(reload_errors)" = 0 ] && ok || bad "a killed trainer made the daemon refuse a model: $(reload_errors)"
temp_files | sed 's/^/  left by the killed trainer (ignored by the daemon): /'

# The fault gone: a normal train, and the daemon takes the new model without a restart.
next_end
train >"$W/train2.out" 2>&1 && ok || { bad "train after the faults"; cat "$W/train2.out"; }
v2=$(latest)
v2=${v2%.bundle}
[ "$v2" != "$v1" ] && ok || bad "a new version after the faults"
cp "$M/$v2.bundle" "$W/$v2.bundle.orig"
wait_for 15 serving "$v2" "$W/$v2.bundle.orig" && ok || bad "daemon did not load $v2 without a restart"

# --- 4. Rollbacks racing reloads. ---
r0=$(reload_errors)
l0=$(wc -l <"$W/serve.log")
never_unready=1
t_end=$((SECONDS + 6))
i=0
while [ $SECONDS -lt $t_end ]; do
  to=$v1
  [ $((i % 2)) = 1 ] && to=$v2
  "$ISOSCOPE" rollback --config "$W/isoscope.yml" --detector checkout --to "$to" >/dev/null 2>&1 &
  kill -HUP "$SERVE_PID"
  wait $!
  kill -HUP "$SERVE_PID"
  curl -fs "$URL/readyz" >/dev/null || never_unready=0
  curl -fs -o /dev/null "$URL/api/v1/detectors/checkout/bundle" || never_unready=0
  i=$((i + 1))
done
echo "  rollback race: $i rollbacks with SIGHUPs in 6 s"
[ "$i" -ge 5 ] && ok || bad "rollback race ran only $i rounds"
[ "$never_unready" = 1 ] && ok || bad "rollback race: readyz or the bundle endpoint failed during the race"
final=$(latest)
final=${final%.bundle}
settled() { serving "$final" "$W/$final.bundle.orig"; }
wait_for 10 settled && ok || bad "rollback race: daemon did not settle on latest ($final)"
[ "$(reload_errors)" = "$r0" ] && ok || bad "rollback race: reload errors $r0 -> $(reload_errors)"
loads=$(tail -n +"$((l0 + 1))" "$W/serve.log" | grep -c 'msg="model loaded"')
echo "  rollback race: $loads model loads logged"
[ "$loads" -ge 2 ] && ok || bad "rollback race: the daemon loaded no model during the race"
store_sound && ok || bad "rollback race: store unsound"

# --- 5. The active bundle replaced by a file of another format. ---
active=$final
for kind in json gzip garbage; do
  e0=$(reload_errors)
  l0=$(wc -l <"$W/serve.log")
  case $kind in
    json) cp "$HERE/../golden/sklearn/basic_gauss/model.json" "$W/other" ;;
    gzip) gzip -c "$W/$active.bundle.orig" >"$W/other" ;;
    garbage) head -c 5000 /dev/urandom >"$W/other" ;;
  esac
  cp "$W/other" "$M/$active.bundle.new" && mv "$M/$active.bundle.new" "$M/$active.bundle"
  refused() { gt "$(reload_errors)" "$e0"; }
  wait_for 10 refused && ok || bad "$kind in place of the bundle: no reload error counted"
  tail -n +"$((l0 + 1))" "$W/serve.log" | grep -q 'msg="model refused, keeping the previous one"' && ok ||
    bad "$kind: no 'model refused, keeping the previous one' log line"
  echo "  $kind: $(tail -n +"$((l0 + 1))" "$W/serve.log" | grep -m1 'model refused' | grep -o 'reason="[^"]*"')"
  serving "$active" "$W/$active.bundle.orig" && scored && ok ||
    bad "$kind: daemon stopped serving the in-memory $active"
  # The fault gone: the right bytes back, loaded again (reloads grows), canary ok.
  n0=$(reloads)
  cp "$W/$active.bundle.orig" "$M/$active.bundle.new" && mv "$M/$active.bundle.new" "$M/$active.bundle"
  reloaded() { gt "$(reloads)" "$n0" && [ "$(metric 'anomaly_model_canary_ok{detector="checkout"}')" = 1 ]; }
  wait_for 10 reloaded && ok || bad "$kind: the restored bundle was not reloaded"
done
wait_for 10 scored && ok || bad "scored at the end"

stop_pid "$SERVE_PID"
SERVE_PID=""
echo "fault_store_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
