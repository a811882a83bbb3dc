#!/bin/sh
# make panel-zip: the Grafana plugin archive of the panel, as `grafana cli plugins install` and
# Grafana's plugin validator expect it:
#   panel_zip.sh DIST OUT_DIR VERSION  ->  OUT_DIR/isoscope-whatif-panel-VERSION.zip
# One root directory named after the plugin id (the validator rejects a dist/ root: "dist should
# be renamed to plugin id"), holding webpack's dist (module.js, the .wasm, img/) with plugin.json's
# info.version and info.updated set here, README.md, CHANGELOG.md and LICENSE. The standalone
# what-if page (index.html, standalone.js) is isoscope serve's, not Grafana's: left out.
# info.updated is the date of SOURCE_DATE_EPOCH, else of the last commit, so a rebuild of the
# same commit gives the same plugin.json.
set -eu
DIST=$(cd "$1" && pwd)
OUT=$2
VERSION=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$DIST/plugin.json")
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  UPDATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
else
  UPDATED=$(git -C "$ROOT" log -1 --format=%cd --date=format-local:%F 2>/dev/null || date -u +%F)
fi
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
P=$STAGE/$ID
mkdir -p "$P"
(cd "$DIST" && find . -type f ! -name index.html ! -name 'standalone.js*' | while read -r f; do
   mkdir -p "$P/$(dirname "$f")"; cp "$f" "$P/$f"; done)
python3 - "$P/plugin.json" "$VERSION" "$UPDATED" <<'PY'
import json, sys
path, version, updated = sys.argv[1:]
with open(path) as f:
    meta = json.load(f)
meta.pop("$schema", None)  # a URL for editors; nothing Grafana reads
meta["info"]["version"] = version
meta["info"]["updated"] = updated
with open(path, "w") as f:
    json.dump(meta, f, indent=2)
    f.write("\n")
PY
cp "$ROOT/packaging/grafana/README.md" "$ROOT/packaging/grafana/CHANGELOG.md" "$ROOT/LICENSE" "$P/"
mkdir -p "$OUT"
ZIP=$(cd "$OUT" && pwd)/$ID-$VERSION.zip
rm -f "$ZIP"
# Sorted entries and fixed times (the updated date): the same inputs give the same archive.
find "$P" -exec touch -d "$UPDATED 00:00:00Z" {} +
(cd "$STAGE" && find "$ID" | LC_ALL=C sort | zip -q -X -D "$ZIP" -@)
echo "$ZIP"
