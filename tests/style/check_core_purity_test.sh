#!/bin/bash
# check_core_purity.sh must fail where it claims to guard: archives with one planted violation
# each (a stderr write, a clock read, an environment read, a mutable global, a file stream)
# are refused and the offending symbol is named; the same archive without it passes.
#   check_core_purity_test.sh CXX
set -u
CXX=$1
CHECK=$(cd "$(dirname "$0")" && pwd)/check_core_purity.sh
W=$(mktemp -d "${TMPDIR:-/tmp}/core-purity-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
passed=0
failed=0
# archive NAME HEADER BODY: an archive of one pure function plus BODY inside it.
archive() {
  printf '#include <cmath>\n%s\ndouble Pure(double x) { %s return std::sqrt(x); }\n' "$2" "$3" >"$W/$1.cc"
  "$CXX" -O2 -std=c++17 -c "$W/$1.cc" -o "$W/$1.o" && ar rc "$W/$1.a" "$W/$1.o"
}
# expect NAME HEADER BODY RC NAMED: the check exits RC and, when failing, names NAMED.
expect() {
  archive "$1" "$2" "$3" || { failed=$((failed + 1)); echo "FAIL: $1 does not compile"; return; }
  out=$("$CHECK" "$W/$1.a" 2>&1)
  rc=$?
  if [ "$rc" = "$4" ] && { [ -z "$5" ] || grep -qF -- "$5" <<<"$out"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1: exit $rc (want $4), output should name '$5':"
    while IFS= read -r l; do echo "  | $l"; done <<<"$out"
  fi
}
expect pure '' '' 0 ''
expect stderr '#include <cstdio>' 'std::fprintf(stderr, "x=%f\n", x);' 1 'fprintf'
expect stderr_plain '#include <cstdio>' 'std::fputs("x\n", stderr);' 1 'stderr'
expect clock '#include <chrono>' 'if (std::chrono::steady_clock::now().time_since_epoch().count() == 0) return 0;' 1 'steady_clock::now'
expect c_clock '#include <ctime>' 'if (std::time(nullptr) == 0) return 0;' 1 'time'
expect env '#include <cstdlib>' 'if (std::getenv("HOME")) return 1;' 1 'getenv'
expect global '' 'static double last = 0; last += x;' 1 'last'
expect file '#include <fstream>' 'std::ofstream("/dev/null") << x;' 1 'basic_ofstream'
expect thread '#include <mutex>' 'static std::mutex m; std::lock_guard<std::mutex> g(m);' 1 'pthread_mutex_lock'
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
