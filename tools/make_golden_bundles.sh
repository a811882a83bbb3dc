#!/bin/sh
# Writes tests/golden/v1/*.bundle: bundles of format 1.0 made from scikit-learn golden models by
# `isoscope import-sklearn`. Run once per released format version; tests then check that the
# current reader still loads them and reproduces scikit-learn's scores. Never run by the tests.
#   tools/make_golden_bundles.sh [BUILD_DIR]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ISOSCOPE=${1:-$ROOT/build}/native/isoscope
OUT=$ROOT/tests/golden/v1
mkdir -p "$OUT"
for case in basic_gauss scaler_pipeline; do
  "$ISOSCOPE" import-sklearn --model "$ROOT/tests/golden/sklearn/$case/model.json" \
    --training-csv "$ROOT/tests/golden/sklearn/$case/train.csv" --out "$OUT/$case.bundle" >/dev/null
  echo "wrote $OUT/$case.bundle"
done
