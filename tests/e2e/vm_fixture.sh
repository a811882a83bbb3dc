# shellcheck shell=bash
# Debian's victoria-metrics (single node) as a query backend, beside the Prometheus fixture.
# Source after prom_fixture.sh and prom_fixture_start (the same history goes into both):
#
#   vm_start NAME [FLAGS...]   # a VM on 127.0.0.1:<ephemeral>, data in $PROM_FIXTURE_DIR/vm-NAME,
#                              # loaded with the fixture's OpenMetrics history and flushed;
#                              # sets VM_PID and VM_PORT (the caller keeps them per instance)
#
# -retentionPeriod=100y (retention counts back from the wall clock: the fixture ends on
# 2026-01-01, and VM would drop older samples at import with HTTP 204 all the same). Nothing
# else is changed from VM's defaults, so the tests see what a user's VM does. Port 8428 (VM's
# default, all interfaces) is never used. Facts: /work/shared/reference/victoriametrics-and-packaging.md.

# vm_start NAME [FLAGS...]: FLAGS may hold -http.pathPrefix=/x; VM_PREFIX is set from it.
vm_start() {
  local name=$1 dir=$PROM_FIXTURE_DIR/vm-$1 deadline=$((SECONDS + 30)) f
  shift
  command -v victoria-metrics >/dev/null || { echo "vm_fixture: victoria-metrics not found (make deps-test)" >&2; return 1; }
  VM_PREFIX=""
  for f in "$@"; do case $f in -http.pathPrefix=*) VM_PREFIX=${f#-http.pathPrefix=} ;; esac; done
  mkdir -p "$dir"
  victoria-metrics -storageDataPath="$dir/data" -httpListenAddr=127.0.0.1:0 -retentionPeriod=100y \
    "$@" </dev/null >"$dir/vm.log" 2>&1 &
  VM_PID=$!
  VM_PORT=""
  # The log says only "127.0.0.1:0": the real port is in the socket table.
  until [ -n "$VM_PORT" ]; do
    VM_PORT=$(ss -ltnpH 2>/dev/null | grep "pid=$VM_PID," | grep -o '127.0.0.1:[0-9]*' | cut -d: -f2 | head -1)
    if [ -z "$VM_PORT" ]; then
      if ! kill -0 "$VM_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        tail -20 "$dir/vm.log" >&2; echo "vm_fixture: VM $name did not listen" >&2; return 1
      fi
      sleep 0.05
    fi
  done
  local base=http://127.0.0.1:$VM_PORT$VM_PREFIX
  until curl -fs "$base/health" >/dev/null; do
    [ $SECONDS -ge $deadline ] && { echo "vm_fixture: VM $name not healthy" >&2; return 1; }
    sleep 0.05
  done
  [ -f "$PROM_FIXTURE_DIR/vm-history.om" ] ||
    prom_fixture_generate "$PROM_END" "$PROM_FIXTURE_DAYS" "$PROM_FIXTURE_STEP" >"$PROM_FIXTURE_DIR/vm-history.om"
  # VM takes promtool's OpenMetrics file as is (204); force_flush makes it queryable at once.
  local code
  code=$(curl -s -o "$dir/import.out" -w '%{http_code}' -X POST --data-binary @"$PROM_FIXTURE_DIR/vm-history.om" \
    "$base/api/v1/import/prometheus")
  [ "$code" = 204 ] || { cat "$dir/import.out" >&2; echo "vm_fixture: import answered $code" >&2; return 1; }
  curl -fs "$base/internal/force_flush" >/dev/null || { echo "vm_fixture: force_flush failed" >&2; return 1; }
  if grep -q 'cannot insert row' "$dir/vm.log"; then
    grep -m3 'cannot insert row' "$dir/vm.log" >&2; echo "vm_fixture: VM dropped rows" >&2; return 1
  fi
}
