#!/bin/sh
# make panel-zip, checked against the rules of Grafana's plugin validator (its analyzers
# archivename, archive, modulejs, readme, changelog, license, metadata, metadatapaths, logos,
# typesuffix, pluginname, grafanadependency, discoverability, safelinks, unsafesvg, packagejson):
# the validator itself (@grafana/plugin-validator on npm) downloads its Go binary from GitHub at
# first run, so these are checked one by one here. Also: version and date come from the build,
# and the same commit gives the same archive byte for byte.
#   panel_zip_test.sh BUILD_DIR SOURCE_DIR
set -eu
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^project(isoscope VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
PKG_VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$SRC/wasm/panel/package.json")
[ "$VERSION" = "$PKG_VERSION" ] || fail "CMake version $VERSION, wasm/panel/package.json $PKG_VERSION"
ZIP=$("$SRC/packaging/panel_zip.sh" "$BUILD/panel/dist" "$W/a" "$VERSION")
ID=isoscope-whatif-panel
[ "$(basename "$ZIP")" = "$ID-$VERSION.zip" ] || fail "archive name $(basename "$ZIP")"

unzip -Z1 "$ZIP" > "$W/list"
cat "$W/list"
roots=$(cut -d/ -f1 "$W/list" | sort -u)
[ "$roots" = "$ID" ] || fail "root directories: $roots (want exactly $ID)"
for f in module.js plugin.json README.md CHANGELOG.md LICENSE img/logo.svg; do
  grep -qx "$ID/$f" "$W/list" || fail "no $f"
done
grep -q "^$ID/dist/" "$W/list" && fail "a dist/ directory inside the root"
grep -Eq "/(index\.html|standalone\.js)" "$W/list" && fail "the standalone page is in the plugin"
wasm=$(grep -o "$ID/isoscope_core\.[0-9a-f]*\.wasm" "$W/list") || fail "no .wasm"
# module.js loads the .wasm by its hashed name from public/plugins/<id>/.
unzip -q "$ZIP" -d "$W/x"
P=$W/x/$ID
grep -q "$(basename "$wasm")" "$P/module.js" || fail "module.js does not name $(basename "$wasm")"
grep -q "public/plugins/$ID/" "$P/module.js" || fail "module.js public path"
{ grep -q 'Apache License' "$P/LICENSE" && grep -q 'Version 2.0' "$P/LICENSE"; } || fail "LICENSE is not Apache 2.0"
grep -q 'allow_loading_unsigned_plugins' "$P/README.md" || fail "README lacks the unsigned install"

UPDATED=$(git -C "$SRC" log -1 --format=%cd --date=format-local:%F)
python3 - "$P" "$ID" "$VERSION" "$UPDATED" <<'PY'
import json, os, re, sys
p, want_id, version, updated = sys.argv[1:]
m = json.load(open(os.path.join(p, "plugin.json")))
def check(ok, what):
    if not ok:
        sys.exit("FAIL: plugin.json: " + what)
check(m["id"] == want_id, "id %r" % m["id"])
check(re.fullmatch(r"[0-9a-z]+-([0-9a-z]+-)?(panel|datasource|app)", m["id"]), "id format")
check(m["type"] == "panel" and m["id"].endswith("-" + m["type"]), "type suffix")
check(m["name"] and m["name"] != m["id"], "name must be human-friendly")
info = m["info"]
check(info["version"] == version, "info.version %r, want %r" % (info["version"], version))
check(info["updated"] == updated, "info.updated %r, want %r" % (info["updated"], updated))
check(re.fullmatch(r"\d+\.\d+\.\d+", info["version"]), "version is not semver")
check(info["author"]["name"], "author")
check(info["keywords"] and info["description"], "keywords and description (discoverability)")
for key in ("small", "large"):
    logo = info["logos"][key]
    check(os.path.isfile(os.path.join(p, logo)), "logos.%s %s not in the archive" % (key, logo))
for s in info.get("screenshots", []):
    check(os.path.isfile(os.path.join(p, s["path"])), "screenshot %s missing" % s["path"])
for link in info.get("links", []):
    check(re.match(r"https?://", link["url"]), "unsafe link %s" % link["url"])
dep = m["dependencies"]["grafanaDependency"]
check(re.fullmatch(r">=\s*\d+\.\d+\.\d+", dep), "grafanaDependency %r" % dep)
check(not m.get("backend") and not m.get("executable"), "a panel has no backend")
svg = open(os.path.join(p, info["logos"]["small"])).read()
check(not re.search(r"<script|\son\w+=|href=\"(?!#)|<foreignObject", svg), "unsafe svg")
print("plugin.json: id %s, version %s, updated %s, grafanaDependency %s" % (m["id"], info["version"], info["updated"], dep))
PY

# Reproducible: the same inputs give the same bytes; SOURCE_DATE_EPOCH sets the date.
ZIP2=$("$SRC/packaging/panel_zip.sh" "$BUILD/panel/dist" "$W/b" "$VERSION")
cmp "$ZIP" "$ZIP2" || fail "two builds differ"
ZIP3=$(SOURCE_DATE_EPOCH=1767225600 "$SRC/packaging/panel_zip.sh" "$BUILD/panel/dist" "$W/c" "$VERSION")
unzip -p "$ZIP3" "$ID/plugin.json" | grep -q '"updated": "2026-01-01"' || fail "SOURCE_DATE_EPOCH ignored"
echo "panel_zip_test: OK ($(stat -c %s "$ZIP") bytes, sha256 $(sha256sum "$ZIP" | cut -c1-16))"
