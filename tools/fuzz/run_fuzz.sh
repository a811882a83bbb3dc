#!/bin/sh
# Runs every libFuzzer target of BUILD_DIR for SECONDS each, one at a time, on a scratch copy
# of its seed corpus (tests/fuzz/corpus/<target> is never grown automatically), and prints the
# executions and findings per target. Findings (crash-*, leak-*, timeout-*, oom-*) are kept in
# BUILD_DIR/fuzz-findings/<target>/: add the input to the committed corpus once it is fixed.
# Usage: run_fuzz.sh BUILD_DIR SECONDS [TARGET...]; exits 1 when any target found something.
set -u
build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
targets=${*:-"bundle_decode prom_json config csv"}
status=0
summary=""
for t in $targets; do
  fuzzer=$build/tests/fuzz/${t}_fuzzer
  scratch=$build/fuzz-scratch/$t
  findings=$build/fuzz-findings/$t
  log=$build/fuzz-logs/$t.log
  rm -rf "$scratch"
  mkdir -p "$scratch" "$findings" "$(dirname "$log")"
  cp "$src/tests/fuzz/corpus/$t"/* "$scratch"/
  before=$(ls "$findings" | wc -l)
  echo "== $t: ${seconds}s (log $log)"
  "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$scratch" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  found=$(($(ls "$findings" | wc -l) - before))
  line="$t: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$scratch" | wc -l) files, $found new findings (exit $rc)"
  echo "$line"
  summary="$summary$line
"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log"
  fi
done
echo "== fuzz summary (${seconds}s per target)"
printf '%s' "$summary"
exit $status
