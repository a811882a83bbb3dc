#!/bin/sh
# `isoscope score` writes byte for byte what it wrote before its output lost its per-row
# allocations and its scoring went to several threads (tests/golden/cli_score/README: the
# expected files are the older binary's). 10,081 rows: more than one scoring thread.
set -eu
ISOSCOPE=$1
GOLDEN=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gzip -dc "$GOLDEN/input.csv.gz" > "$work/input.csv"
gzip -dc "$GOLDEN/expected.csv.gz" > "$work/expected.csv"
"$ISOSCOPE" train --csv "$work/input.csv" --out "$work/m.bundle" --n-estimators 50 \
  --random-state 3 --contamination 0.05 --derived hour_of_week --quiet
"$ISOSCOPE" score --bundle "$work/m.bundle" --csv "$work/input.csv" --out "$work/got.csv" --quiet
cmp "$work/expected.csv" "$work/got.csv"
"$ISOSCOPE" score --bundle "$work/m.bundle" --csv "$GOLDEN/input_small.csv" --explain --quiet \
  > "$work/got_explain.csv"
cmp "$GOLDEN/expected_explain.csv" "$work/got_explain.csv"
echo "score output identical to the golden files"
