#!/bin/sh
# isoscope dashboard checked against the dashboard schema of @grafana/schema (wasm/panel's
# dependency): the generated JSON becomes the initializer of a `Dashboard`-typed constant and tsc
# checks it (types, required keys, and no unknown key in typed objects). The schema's string
# enums (ThresholdsMode, MappingType, ...) are compared as the strings JSON holds. A planted
# wrong type and a planted unknown key must fail, so the check is known to bite.
#   dashboard_schema.sh BUILD_DIR ISOSCOPE
set -eu
BUILD=$(cd "$1" && pwd)
ISOSCOPE=$(readlink -f "$2")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NM=$ROOT/wasm/panel/node_modules
W=$BUILD/dashboard-schema
rm -rf "$W"
mkdir -p "$W"
cat > "$W/tsconfig.json" <<JSON
{ "compilerOptions": { "strict": true, "noEmit": true, "skipLibCheck": true, "target": "es2020",
    "module": "commonjs", "moduleResolution": "node10", "types": [],
    "paths": { "@grafana/schema": ["$NM/@grafana/schema/dist/types/index.d.ts"] } },
  "files": ["dashboard.ts"] }
JSON
typed() {  # typed JSON_FILE > dashboard.ts
  echo "import type { Dashboard } from '@grafana/schema';"
  # shellcheck disable=SC2016  # TypeScript, not shell
  echo 'type Loose<T> = T extends string ? `${T}` : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;'
  printf 'export const dashboard: Loose<Dashboard> = '
  cat "$1"
  echo ';'
}
check() { "$NM/.bin/tsc" -p "$W/tsconfig.json"; }
"$ISOSCOPE" dashboard --config "$ROOT/tests/fixtures/isoscope.yml" --out "$W/all.json" >/dev/null
"$ISOSCOPE" dashboard --config "$ROOT/tests/fixtures/isoscope.yml" --detector queue > "$W/queue.json"
for f in all queue; do
  typed "$W/$f.json" > "$W/dashboard.ts"
  check || { echo "FAIL: $f.json does not fit @grafana/schema's Dashboard"; exit 1; }
  echo "$f.json: fits @grafana/schema's Dashboard"
done
sed '0,/"schemaVersion": 39/s//"schemaVersion": "39"/' "$W/all.json" > "$W/bad1.json"
sed '0,/"collapsed": false,/s//"collapsed": false, "colapsed": false,/' "$W/all.json" > "$W/bad2.json"
for f in bad1 bad2; do
  cmp -s "$W/$f.json" "$W/all.json" && { echo "FAIL: nothing planted in $f"; exit 1; }
  typed "$W/$f.json" > "$W/dashboard.ts"
  if check > "$W/$f.out" 2>&1; then echo "FAIL: tsc accepted $f.json"; exit 1; fi
  echo "$f.json refused: $(head -1 "$W/$f.out")"
done
# The isoscope panels fit the plugin: type = plugin.json's id, every option one the plugin
# registers in src/module.ts (setPanelOptions paths), and the detector one of the config's.
python3 - "$W/all.json" "$ROOT/wasm/panel/src/plugin.json" "$ROOT/wasm/panel/src/module.ts" <<'PY'
import json, re, sys
dash, plugin, module = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), open(sys.argv[3]).read()
paths = set(re.findall(r"path: '([A-Za-z]+)'", module))
panels = [p for p in dash["panels"] if p["type"] == plugin["id"]]
if len(panels) != 2:
    sys.exit("FAIL: %d panels of type %s, want one per detector (2)" % (len(panels), plugin["id"]))
for p in panels:
    unknown = set(p["options"]) - paths
    if unknown:
        sys.exit("FAIL: %s: options %s are not the plugin's (%s)" % (p["title"], sorted(unknown), sorted(paths)))
print("isoscope panels: type %s, options %s all registered by the plugin" % (plugin["id"], sorted(panels[0]["options"])))
PY
echo "dashboard_schema: OK"
