#!/bin/bash
# make bench: training for a fleet (issue 19). Pooled training's peak RSS against the row count,
# streamed (StreamTrainer, as train --config runs it) and in memory (TrainModel, as train --csv),
# on synthetic rows (tests/bench/stream_train_bench.cc); then train --config against a local
# Prometheus backfilled with a fleet (tools/bench/train_fleet_bench.sh, pooled and per group);
# then the daemon at 10,000 groups with the pooled model and with `model: per: group` (one bundle
# per group: cycle CPU, RSS, model load time). JSON lines on stdout.
#   fleet_bench.sh BUILD_DIR [GROUPS] [DAYS]
set -u
BUILD=$1
GROUPS_N=${2:-10000}
DAYS=${3:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$BUILD/tests/bench/isoscope_stream_bench
echo "== pooled training, peak RSS against rows (100 groups, 100 trees; 10,000 groups with 1h chunks)" >&2
"$BENCH" 1000000 100 memory 100 || exit 1
for rows in 1000000 10000000; do
  "$BENCH" "$rows" 100 stream 100 || exit 1
done
"$BENCH" 100000000 10000 stream 100 60 || exit 1
echo "== train --config, $GROUPS_N groups x $DAYS days x 3 inputs at 60 s from a local Prometheus" >&2
"$HERE/train_fleet_bench.sh" "$BUILD/native/isoscope" "$GROUPS_N" "$DAYS" auto
echo "== serve, 10,000 groups x 3 inputs: the pooled model, then model: per: group (10,000 group bundles)" >&2
"$BUILD/tests/bench/isoscope_bench" daemon --groups 10000 --cycles 5 || exit 1
"$BUILD/tests/bench/isoscope_bench" daemon --groups 10000 --cycles 5 --per-group || exit 1
