#!/bin/sh
# make deb, checked: deb_test.sh BUILD_DIR SOURCE_DIR
# cpack builds the .deb from BUILD_DIR; then its name, fields, files and conffiles; lintian with
# no error; systemd-analyze verify on the unit (and on a planted typo, so the check can fail) and
# its offline security score; the package unpacked by dpkg into a throwaway root, and the
# installed binary run with the installed config and serving the installed what-if page.
set -eu
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
W=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^project(isoscope VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
cpack --config "$BUILD/CPackConfig.cmake" -B "$W/out" > "$W/cpack.log" 2>&1 || { cat "$W/cpack.log"; fail cpack; }
DEB=$W/out/isoscope_${VERSION}_amd64.deb
[ -f "$DEB" ] || { ls "$W/out"; fail "no $DEB"; }
echo "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

# Control fields.
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = isoscope ] || fail "Package $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version $(field Version)"
[ "$(field Architecture)" = amd64 ] || fail "Architecture $(field Architecture)"
field Depends | grep -q 'adduser' || fail "Depends lacks adduser: $(field Depends)"
field Depends | grep -q 'libc6 (>=' || fail "Depends lacks the shlibdeps result: $(field Depends)"
echo "Depends: $(field Depends)"

# Files, with their modes.
dpkg-deb -c "$DEB" > "$W/files"
for f in '-rwxr-xr-x ./usr/bin/isoscope' '-rw-r--r-- ./lib/systemd/system/isoscope.service' \
         '-rw-r--r-- ./etc/default/isoscope' '-rw-r--r-- ./etc/isoscope/isoscope.yml' \
         '-rw-r--r-- ./usr/share/man/man1/isoscope.1.gz' '-rw-r--r-- ./usr/share/doc/isoscope/copyright' \
         '-rw-r--r-- ./usr/share/doc/isoscope/changelog.gz' '-rw-r--r-- ./usr/share/isoscope/ui/index.html' \
         '-rw-r--r-- ./usr/share/isoscope/ui/module.js'; do
  mode=${f%% *}; path=${f#* }
  awk -v m="$mode" -v p="$path" '$1 == m && $NF == p { found = 1 } END { exit !found }' "$W/files" \
    || { cat "$W/files"; fail "missing $f"; }
done
dpkg-deb -e "$DEB" "$W/ctl"
printf '/etc/default/isoscope\n/etc/isoscope/isoscope.yml\n' | cmp - "$W/ctl/conffiles" \
  || fail "conffiles: $(cat "$W/ctl/conffiles")"
for s in postinst prerm postrm; do
  [ "$(stat -c %a "$W/ctl/$s")" = 755 ] || fail "$s mode"
  sh -n "$W/ctl/$s" || fail "$s syntax"
done
grep -q 'adduser --quiet --system --group' "$W/ctl/postinst" || fail "postinst creates no system user"
echo "files, conffiles and maintainer scripts: OK"

# lintian: no error (informational tags are printed, not fatal).
lintian --fail-on error --tag-display-limit 0 -I "$DEB" > "$W/lintian" 2>&1 || { cat "$W/lintian"; fail lintian; }
grep -v 'running with root privileges' "$W/lintian" || true
grep -q '^E:' "$W/lintian" && fail "lintian errors"
echo "lintian: no errors"

# The unit as packaged, with ExecStart pointing at the unpacked binary (verify checks that it is
# executable) and the man page looked up in the unpacked tree. Any output is a failure: verify
# only warns (exit 0) on unknown keys.
dpkg-deb -x "$DEB" "$W/x"
mkdir "$W/unit"
sed "s|ExecStart=/usr/bin/isoscope|ExecStart=$W/x/usr/bin/isoscope|" \
  "$W/x/lib/systemd/system/isoscope.service" > "$W/unit/isoscope.service"
grep -q "^ExecStart=$W/x/usr/bin/isoscope \$ARGS\$" "$W/unit/isoscope.service" || fail "ExecStart"
# shellcheck disable=SC2016  # $MAINPID and $* are literal text here
for k in 'User=isoscope' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/isoscope' \
         'NoNewPrivileges=yes' 'ExecReload=/bin/kill -HUP $MAINPID' 'EnvironmentFile=-/etc/default/isoscope'; do
  grep -qxF "$k" "$W/unit/isoscope.service" || fail "unit lacks $k"
done
verify() { MANPATH=$W/x/usr/share/man systemd-analyze verify "$1" 2>&1 || true; }
out=$(verify "$W/unit/isoscope.service")
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify"; }
mkdir "$W/bad"
sed 's/^ProtectSystem=/ProtectSystm=/' "$W/unit/isoscope.service" > "$W/bad/isoscope.service"
verify "$W/bad/isoscope.service" | grep -q "Unknown key 'ProtectSystm'" \
  || fail "verify did not flag a planted typo"
echo "systemd-analyze verify: clean (and flags a planted typo)"
systemd-analyze security --offline=true --threshold=20 "$W/unit/isoscope.service" > "$W/sec" 2>&1 \
  || { cat "$W/sec"; fail "security exposure above 2.0"; }
grep 'Overall exposure level' "$W/sec"

# /etc/default/isoscope as the unit reads it: ARGS runs the daemon on the packaged config.
grep -qx 'ARGS="serve --config /etc/isoscope/isoscope.yml"' "$W/x/etc/default/isoscope" || fail ARGS

# dpkg into a throwaway root: unpacked and registered in that root's database with both
# conffiles. Configuring needs a chroot with /bin/sh and adduser (--force-script-chrootless would
# create the user on this machine), so dpkg leaves new conffiles as *.dpkg-new, which is what
# it installs as the conffile at configure time.
R=$W/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
dpkg --root="$R" --force-not-root --unpack "$DEB" > "$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log"; fail "dpkg --unpack"; }
dpkg --root="$R" -s isoscope > "$W/status"
grep -qx 'Status: install ok unpacked' "$W/status" || { cat "$W/status"; fail status; }
for c in /etc/isoscope/isoscope.yml /etc/default/isoscope; do
  grep -Eq "^ $c ([0-9a-f]{32}|newconffile)\$" "$W/status" || { cat "$W/status"; fail "conffile $c not registered"; }
  [ -f "$R$c.dpkg-new" ] || fail "$c.dpkg-new not unpacked"
  mv "$R$c.dpkg-new" "$R$c"  # what configure does with a new conffile
done
"$R/usr/bin/isoscope" --version | grep -q "$VERSION" || fail "installed --version"
out=$("$R/usr/bin/isoscope" check-config --config "$R/etc/isoscope/isoscope.yml")
echo "$out"
echo "$out" | grep -q 'OK (1 detector' || fail "installed check-config"

# postinst configure with every command it runs replaced by a recorder (PATH holds only them):
# the system user, the config's group and mode, the unit enabled; nothing started without systemd.
mkdir "$W/shim"
for c in adduser chgrp chmod deb-systemd-helper deb-systemd-invoke systemctl; do
  # shellcheck disable=SC2016
  printf '#!/bin/sh\necho "%s $*" >> "%s"\n[ "$1 $2" != "--quiet was-enabled" ]\n' "$c" "$W/calls" > "$W/shim/$c"
  chmod +x "$W/shim/$c"
done
PATH=$W/shim /bin/sh "$W/ctl/postinst" configure > "$W/postinst.out" 2>&1 || { cat "$W/postinst.out"; fail "postinst configure"; }
if [ -d /run/systemd/system ]; then grep -v '^systemctl\|^deb-systemd-invoke' "$W/calls" > "$W/calls.nosd"; else cp "$W/calls" "$W/calls.nosd"; fi
cat > "$W/calls.want" <<'CALLS'
adduser --quiet --system --group --home /var/lib/isoscope --no-create-home --gecos isoscope daemon isoscope
chgrp isoscope /etc/isoscope/isoscope.yml
chmod 0640 /etc/isoscope/isoscope.yml
deb-systemd-helper --quiet was-enabled isoscope.service
deb-systemd-helper update-state isoscope.service
CALLS
diff "$W/calls.want" "$W/calls.nosd" || fail "postinst calls"
echo "postinst configure: user, config mode and unit state as expected"

# The installed binary finds the installed page (../share/isoscope/ui) without --web.ui-dir.
sed -e "s|/var/lib/isoscope/models|$W/models|" \
  "$R/etc/isoscope/isoscope.yml" > "$W/serve.yml"
"$R/usr/bin/isoscope" serve --config "$W/serve.yml" --web.listen-address 127.0.0.1:0 > "$W/serve.log" 2>&1 &
PID=$!
i=0
until grep -q 'serving the what-if page' "$W/serve.log"; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat "$W/serve.log"; fail "serve did not start"; }
  kill -0 "$PID" || { cat "$W/serve.log"; fail "serve exited"; }
  sleep 0.1
done
grep 'serving the what-if page' "$W/serve.log" | grep -qF "$R/usr/bin/../share/isoscope/ui" \
  || { cat "$W/serve.log"; fail "serve did not find the installed page"; }
until PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*"' "$W/serve.log" | grep -o '[0-9]*"$' | tr -d '"'); do sleep 0.1; done
curl -fs "127.0.0.1:$PORT/" | cmp - "$R/usr/share/isoscope/ui/index.html" || fail "GET / is not the installed page"
echo "installed serve finds and serves $R/usr/share/isoscope/ui"
echo "deb_test: OK"
