#!/usr/bin/env bash
# A real autotools build through hostexec shims: a small project written
# here (configure checks, a recursive Makefile, a program and its `make
# check`), built once directly and once with shims for the tools configure
# and make run, from the same directory. Everything must come out the same:
# exit statuses, config.h, config.status, the file list, the program's bytes,
# the test summary; and the sub-makes, started through the make shim, keep
# make's jobserver (its descriptors travel with them). Prints a Catch2-style
# summary for scripts/test.
set -uo pipefail

cases=1 checks=0 failed=0
skip() { echo "skipped: $*"; echo "All tests passed (0 assertions in 1 test case)"; exit 0; }
for tool in autoreconf automake gcc make; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

T=$(mktemp -d /tmp/pfd-autotools.XXXXXX)
daemon=
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

# The project.
P=$T/project
mkdir -p "$P/lib"
cat >"$P/configure.ac" <<'AC'
AC_INIT([greet], [1.0])
AM_INIT_AUTOMAKE([foreign subdir-objects])
AC_PROG_CC
AC_PROG_RANLIB
AC_CHECK_HEADERS([unistd.h sys/stat.h])
AC_CHECK_FUNCS([getpid strdup])
AC_CHECK_SIZEOF([long])
AC_CONFIG_HEADERS([config.h])
AC_CONFIG_FILES([Makefile lib/Makefile])
AC_OUTPUT
AC
cat >"$P/Makefile.am" <<'AM'
SUBDIRS = lib
bin_PROGRAMS = greet
greet_SOURCES = greet.c
greet_LDADD = lib/libwords.a
TESTS = check_greet.sh
EXTRA_DIST = check_greet.sh
AM
cat >"$P/lib/Makefile.am" <<'AM'
noinst_LIBRARIES = libwords.a
libwords_a_SOURCES = words.c one.c two.c three.c
AM
for f in one two three; do echo "int $f(void) { return sizeof(\"$f\"); }" >"$P/lib/$f.c"; done
cat >"$P/lib/words.c" <<'C'
const char *word(void) { return "hello"; }
C
cat >"$P/greet.c" <<'C'
#include "config.h"
#include <stdio.h>
const char *word(void);
int main(void) { printf("%s, sizeof(long) = %d\n", word(), (int)SIZEOF_LONG); return 0; }
C
cat >"$P/check_greet.sh" <<'SH'
#!/bin/sh
./greet | grep -q '^hello, sizeof(long) = '
SH
chmod +x "$P/check_greet.sh"
(cd "$P" && autoreconf -i >/dev/null 2>&1) || { echo "autoreconf failed"; exit 1; }

# The daemon, ready when it says so.
mkfifo "$T/ready"
"$PFD_BIN" serve --socket "$T/pfd.sock" --ready-fd 3 3>"$T/ready" 2>"$T/daemon.log" &
daemon=$!
read -r -t 30 _ <"$T/ready" || { echo "the daemon did not get ready"; cat "$T/daemon.log"; exit 1; }
served() { "$PFD_BIN" status --json --socket "$T/pfd.sock" | sed -n 's/.*"served":\([0-9]*\).*/\1/p'; }

shims=$T/shims
mkdir "$shims"
"$HOSTEXEC_BIN" --install-shim "$shims" sed grep awk cat rm mv cp mkdir tr sort expr cmp diff ln chmod \
  touch gcc cc as ld ar ranlib make || exit 1

# Builds in $T/build (the same path both times: paths end up in the
# results), then keeps what came out in $T/$1.
build() { # build NAME PATH
  rm -rf "$T/build"
  cp -a "$P" "$T/build"
  (
    cd "$T/build" || exit 1
    export PATH=$2 PFD_SOCKET=$T/pfd.sock
    # The top make is the local one; $(MAKE) is `make` from PATH, so with
    # shims every sub-make goes through the daemon, jobserver and all.
    ./configure >configure.out 2>&1; echo "configure=$?"
    /usr/bin/make -j2 MAKE=make >make.out 2>&1; echo "make=$?"
    /usr/bin/make check MAKE=make >check.out 2>&1; echo "check=$?"
  ) >"$T/$1.status"
  mv "$T/build" "$T/$1"
}
before=$(served)
build direct /usr/bin:/bin
build shimmed "$shims:/usr/bin:/bin"
through=$(( $(served) - before ))

check() { # check WHAT: the command's status
  checks=$((checks + 1))
  if ! "${@:2}" >"$T/diff.out" 2>&1; then
    echo "FAILED: $1"; head -n 20 "$T/diff.out"; failed=1
  fi
}
check "the builds succeed" grep -qx "configure=0" "$T/direct.status"
check "the same exit statuses" cmp "$T/direct.status" "$T/shimmed.status"
check "the same config.h" cmp "$T/direct/config.h" "$T/shimmed/config.h"
# The one difference that is no difference: configure records where it
# found `mkdir -p`, which is the shim's directory when that comes first.
unshim() { sed "s|$shims/|/usr/bin/|g" "$1"; }
check "the same config.status (but for where mkdir was found)" diff "$T/direct/config.status" \
  <(unshim "$T/shimmed/config.status")
check "the same config.log results" diff <(grep -E '^(ac_cv_|#define)' "$T/direct/config.log") \
  <(unshim "$T/shimmed/config.log" | grep -E '^(ac_cv_|#define)')
check "the same files" diff <(cd "$T/direct" && find . | sort) <(cd "$T/shimmed" && find . | sort)
check "the same program, byte for byte" cmp "$T/direct/greet" "$T/shimmed/greet"
check "the same test summary" diff <(grep -E '^# ' "$T/direct/check.out") <(grep -E '^# ' "$T/shimmed/check.out")
check "the test passed" grep -qx '# PASS:  1' "$T/shimmed/check.out"
check "sub-makes kept the jobserver" bash -c "! grep -i jobserver '$T/shimmed/make.out'"
check "commands went through the daemon" test "$through" -gt 100
echo "commands through the daemon: $through"
if ((failed)); then
  echo "test cases: 1 | 0 passed | 1 failed"
  exit 1
fi
echo "All tests passed ($checks assertions in $cases test case)"
