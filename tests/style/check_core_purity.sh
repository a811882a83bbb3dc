#!/bin/bash
# The core must stay pure (no I/O, clocks, threads, process state, mutable globals) so that it
# builds for WebAssembly and scores the same everywhere. A regex over the sources cannot tell
# (it let fprintf and <cstdio> through), so this reads what the compiled core really needs:
#  - the symbols libisoscope_core.a leaves undefined (needs from outside the archive), against
#    a deny-list of I/O, clock, thread, environment, randomness and process calls;
#  - the objects it defines in writable sections (.data, .bss, thread-local): mutable globals.
#   check_core_purity.sh path/to/libisoscope_core.a
set -euo pipefail
ARCHIVE=$1
[ -f "$ARCHIVE" ] || { echo "no archive $ARCHIVE" >&2; exit 2; }

# C symbols, exact names (the _chk forms are what _FORTIFY_SOURCE turns printf & co into).
DENY_C='
fopen fopen64 fdopen freopen fclose fflush fread fwrite fprintf vfprintf printf vprintf dprintf
puts fputs fputc putc putchar fgets fgetc getc getchar scanf fscanf vfscanf perror setvbuf
tmpfile tmpnam remove rename stdin stdout stderr __printf_chk __fprintf_chk __vfprintf_chk
__vprintf_chk __dprintf_chk __fread_chk __fgets_chk _IO_putc _IO_getc
open open64 openat openat64 creat close read write pread pread64 pwrite pwrite64 lseek lseek64
stat stat64 fstat fstat64 lstat lstat64 __xstat __fxstat __lxstat statx mmap mmap64 munmap
unlink unlinkat mkdir rmdir opendir readdir readdir64 closedir fsync fdatasync ioctl fcntl
dup dup2 pipe access chdir getcwd truncate ftruncate __read_chk
time clock clock_gettime gettimeofday localtime localtime_r mktime ctime asctime strftime
nanosleep sleep usleep tzset
getenv secure_getenv setenv unsetenv putenv system fork vfork execv execve execvp popen pclose
getpid getuid kill signal sigaction raise exit _exit atexit at_quick_exit dlopen dlsym setlocale
rand srand rand_r random srandom drand48 getrandom arc4random
socket connect bind listen accept accept4 send recv sendto recvfrom getaddrinfo gethostbyname
__cxa_guard_acquire __cxa_guard_release __cxa_thread_atexit __cxa_thread_atexit_impl
'
# C symbol prefixes: POSIX threads and semaphores.
DENY_C_PREFIX='^(pthread_|sem_|thrd_|mtx_|cnd_)'
# C++ symbols, demangled prefixes: streams, files, threads, clocks, entropy.
DENY_CXX='^(std::(cout|cerr|clog|cin|wcout|wcerr|ios_base::Init|basic_ofstream|basic_ifstream|basic_fstream|basic_filebuf|__basic_file|thread|this_thread|jthread|filesystem|random_device|chrono::_V2::(system|steady|high_resolution)_clock::now|condition_variable|mutex|shared_mutex|recursive_mutex|__once_call|__once_functor))'

W=$(mktemp -d "${TMPDIR:-/tmp}/core-purity.XXXXXX")
trap 'rm -rf "$W"' EXIT
# POSIX format: "name type ..." per symbol, with "archive[member]:" lines between members.
nm -u --format=posix "$ARCHIVE" | awk 'NF >= 2 && $2 == "U" { print $1 }' | sed 's/@.*//' |
  sort -u >"$W/undefined"
nm --defined-only --format=posix "$ARCHIVE" | awk 'NF >= 2 && $2 != ":" { print $1 }' |
  sort -u >"$W/defined"
comm -23 "$W/undefined" "$W/defined" >"$W/external"
[ -s "$W/external" ] || { echo "no undefined symbols read from $ARCHIVE: is it the core?" >&2; exit 2; }
c++filt <"$W/external" >"$W/external.demangled"

echo "$DENY_C" | tr ' ' '\n' | grep -v '^$' | sort -u >"$W/deny_c"
{
  grep -Fxf "$W/deny_c" "$W/external" || true
  grep -E "$DENY_C_PREFIX" "$W/external" || true
  grep -E "$DENY_CXX" "$W/external.demangled" || true
} | sort -u >"$W/violations"

# Writable data the core defines. boost::none's guard comes from msgpack's headers: a
# constant's one-time initialisation flag, not state the core keeps.
objdump -t "$ARCHIVE" | awk '/ O / {
    for (i = 1; i <= NF; i++) if ($i ~ /^\./) sec = $i
    if (sec ~ /^\.(data|bss|tdata|tbss)(\.|$)/ && sec !~ /^\.data\.rel\.ro/) print $NF, sec
  }' | grep -v '^_ZGVN5boost4noneE ' | sort -u >"$W/globals" || true

status=0
if [ -s "$W/violations" ]; then
  echo "core purity check failed: $(basename "$ARCHIVE") calls I/O, clocks, threads or process state:" >&2
  sed 's/^/  /' "$W/violations" >&2
  status=1
fi
if [ -s "$W/globals" ]; then
  echo "core purity check failed: $(basename "$ARCHIVE") defines mutable globals (symbol section):" >&2
  sed 's/^/  /' "$W/globals" | c++filt >&2
  status=1
fi
[ "$status" = 0 ] || exit 1
echo "core is pure: $(wc -l <"$W/external") external symbols of $(basename "$ARCHIVE"), none denied; no mutable globals"
