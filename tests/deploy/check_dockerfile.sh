#!/bin/bash
# The Dockerfile, offline: no Docker engine runs here, so the image is NOT built by the tests,
# and hadolint is not packaged in Debian 12. What is checked instead:
#  - the build stage installs exactly the Makefile's PKGS_BUILD;
#  - the runtime stage installs exactly the Debian packages that own the shared libraries the
#    built binary links (ldd + dpkg -S on this Debian 12 machine);
#  - its COPY sources exist, and CMakeLists.txt + core/ + native/ alone configure the binary;
#  - it runs as uid 10001 (the manifests' runAsUser), not root; its default command reads the
#    config where the manifests mount it;
#  - `make -n image` tags the version of CMakeLists.txt and the commit, and passes both as
#    build args that end up in the image's labels.
#   check_dockerfile.sh ISOSCOPE
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DF=$ROOT/Dockerfile
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
W=$(mktemp -d "${TMPDIR:-/tmp}/isoscope-docker.XXXXXX")
trap 'rm -rf "$W"' EXIT

# apt_packages STAGE_NUMBER: the packages of the `apt-get install` in that FROM stage (1-based).
apt_packages() {
  awk -v want="$1" '
    /^FROM / { stage++ }
    stage == want { line = line " " $0 }
    END { print line }' "$DF" | sed 's/\\//g' |
    grep -o 'apt-get install [^&]*' | tr ' ' '\n' | grep -v -e '^-' -e '^$' -e '^apt-get$' -e '^install$' | sort -u
}
sorted() { tr ' ' '\n' | grep -v '^$' | sort -u; }

make -s -C "$ROOT" -pn 2>/dev/null | sed -n 's/^PKGS_BUILD := //p' | head -1 | sorted >"$W/makefile_build.txt"
apt_packages 1 >"$W/docker_build.txt"
[ -s "$W/makefile_build.txt" ] && diff "$W/makefile_build.txt" "$W/docker_build.txt" >"$W/d1" && ok ||
  { bad "build stage packages == Makefile PKGS_BUILD"; cat "$W/d1"; }

ldd "$ISOSCOPE" | awk '/=> \// { print $3 }' >"$W/libs.txt"
[ "$(wc -l <"$W/libs.txt")" -ge 5 ] && ok || bad "ldd lists the binary's libraries"
while read -r lib; do
  real=$(readlink -f "$lib")
  pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null)
  [ -n "$pkg" ] || { bad "no Debian package owns $lib"; continue; }
  echo "${pkg%%:*}"
done <"$W/libs.txt" | sort -u >"$W/needed.txt"
apt_packages 2 >"$W/docker_runtime.txt"
diff "$W/needed.txt" "$W/docker_runtime.txt" >"$W/d2" && ok ||
  { bad "runtime packages == owners of the binary's libraries (< needed, > Dockerfile)"; cat "$W/d2"; }

grep -c '^FROM debian:12-slim' "$DF" | grep -qx 2 && ok || bad "both stages FROM debian:12-slim"
while read -r src; do
  [ -e "$ROOT/$src" ] && ok || bad "COPY source $src exists"
done < <(awk '/^COPY / && !/--from/ { for (i = 2; i < NF; i++) print $i }' "$DF")
mkdir -p "$W/ctx"
cp -r "$ROOT/CMakeLists.txt" "$ROOT/core" "$ROOT/native" "$W/ctx/"
# The generated build must have the isoscope target itself: grepping its Makefiles for the word
# "isoscope" matched this script's own temp-dir name and could not fail.
cmake -S "$W/ctx" -B "$W/ctx/build" -DCMAKE_BUILD_TYPE=Release >"$W/cmake.out" 2>&1 &&
  cmake --build "$W/ctx/build" --target help 2>>"$W/cmake.out" | grep -qx '\.\.\. isoscope' && ok ||
  { bad "CMakeLists.txt + core/ + native/ configure the isoscope target"; tail -5 "$W/cmake.out"; }

[ "$(grep '^USER ' "$DF" | tail -1)" = "USER 10001:10001" ] && ok || bad "runs as USER 10001:10001"
n_uid=$(grep -rh 'runAsUser:' "$ROOT/native/deploy/kubernetes" | tr -d ' ' | sort -u)
[ "$(echo "$n_uid" | tr -d ' ')" = "runAsUser:10001" ] && ok || bad "manifests' runAsUser is 10001 ($n_uid)"
grep -q '^CMD \["serve", "--config", "/etc/isoscope/isoscope.yml"\]' "$DF" &&
  grep -q 'args: \[serve, --config, /etc/isoscope/isoscope.yml\]' "$ROOT/native/deploy/kubernetes/deployment.yaml" &&
  ok || bad "CMD reads the config where the Deployment mounts it"

version=$(sed -n 's/^project(isoscope VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
commit=$(git -C "$ROOT" rev-parse --short=12 HEAD)
make -s -C "$ROOT" -n image DOCKER=docker >"$W/image.txt" 2>&1
tr -d '\\\n' <"$W/image.txt" | tr -s ' ' >"$W/image1.txt"
grep -q -- "--build-arg VERSION=$version --build-arg COMMIT=$commit -t isoscope:$version -t isoscope:$version-$commit \.$" "$W/image1.txt" &&
  ok || { bad "make -n image tags $version and $version-$commit"; cat "$W/image.txt"; }
grep -q 'org.opencontainers.image.version="${VERSION}"' "$DF" && grep -q 'org.opencontainers.image.revision="${COMMIT}"' "$DF" &&
  ok || bad "labels carry VERSION and COMMIT"
echo "NOTE: the image itself is not built here (no Docker engine); hadolint is not in Debian 12"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
