#!/bin/sh
# `isoscope score` writes byte for byte what it wrote before its output lost its per-row
# allocations and its scoring went to several threads (tests/golden/cli_score/README: the
# expected files are the older binary's). 10,081 rows: more than one scoring thread.
# Two changes came after those files and are checked apart: the `onset` column (8th, tested in
# cli.end_to_end) is cut, and `surprise` (7th) is compared to 1e-12 relative, not byte for
# byte, since the core computes its Gaussian tail with its own erfc (the same bits in the
# browser's WASM), which moved some values in their last digit. No cell here is quoted, so
# cut's commas are the CSV's.
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
"$ISOSCOPE" score --bundle "$work/m.bundle" --csv "$GOLDEN/input_small.csv" --explain --quiet \
  > "$work/got_explain.csv"

# same EXPECTED GOT: every column but surprise byte for byte; surprise to 1e-12 relative.
same() {
  head -1 "$2" | cut -d, -f8 | grep -qx onset
  cut -d, -f1-6,8- "$1" > "$work/a"
  cut -d, -f1-6,9- "$2" > "$work/b"
  cmp "$work/a" "$work/b"
  cut -d, -f7 "$1" > "$work/a"
  cut -d, -f7 "$2" > "$work/b"
  paste -d, "$work/a" "$work/b" | awk -F, 'NR == 1 { if ($1 != "surprise" || $2 != $1) bad = 1; next }
    ($1 == "") != ($2 == "") { bad = 1; next }
    $1 != "" { d = $1 - $2; if (d < 0) d = -d; m = $1 < 0 ? -$1 : $1;
               if (d > 1e-12 * m) { print "surprise row " NR ": " $1 " vs " $2; bad = 1 } }
    END { exit bad }'
}
same "$work/expected.csv" "$work/got.csv"
same "$GOLDEN/expected_explain.csv" "$work/got_explain.csv"
echo "score output identical to the golden files (surprise to 1e-12)"
