#!/usr/bin/env bash
# The installed library: `meson install` into a staging root, then programs
# built out of tree with nothing but the flags of `pkg-config pfd` (democli
# itself, and tests/out_of_tree/async_add.cpp), run against each other.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR COMPILER...
set -euo pipefail
build=$1 src=$2
shift 2
stage=$(mktemp -d /tmp/pfd-install-XXXXXX)
export DEMOCLI_SOCKET=$stage/democli.sock XDG_STATE_HOME=$stage/state
cleanup() {
  [ -x "$stage/democli" ] && "$stage/democli" stop >/dev/null 2>&1 || true
  rm -rf "$stage"
}
trap cleanup EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$stage" >/dev/null
pc=$(find "$stage" -name pfd.pc)
[ -n "$pc" ] || { echo "no pfd.pc installed"; exit 1; }
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_PATH=
cflags=$(pkg-config --cflags pfd)
libs=$(pkg-config --libs pfd)
echo "pkg-config pfd: $cflags $libs"
case "$cflags" in *"$src"*) echo "the flags point into the source tree"; exit 1;; esac

cd "$stage"
"$@" -std=c++20 -O1 $cflags "$src/examples/democli/democli.cpp" $libs -o democli
"$@" -std=c++20 -O1 $cflags "$src/tests/out_of_tree/async_add.cpp" $libs -o async_add

fail() { echo "FAIL: $*"; exit 1; }
out=$(./democli add 1 2 3) || fail "democli add 1 2 3 exited $?"
[ "$out" = 6 ] || fail "democli add 1 2 3 printed '$out'"
set +e
out=$(./democli add 1 x 3 2>"$stage/err"); code=$?
set -e
[ "$out" = 4 ] && [ $code = 1 ] || fail "democli add 1 x 3: '$out', exit $code"
[ "$(cat "$stage/err")" = "democli: add: 'x' is not a number" ] || fail "stderr: $(cat "$stage/err")"
set +e
out=$(./async_add "$DEMOCLI_SOCKET" 40 2 q); code=$?
set -e
[ "$out" = "$(printf "out=42\nerr=democli: add: 'q' is not a number")" ] && [ $code = 1 ] || fail "async_add: '$out', exit $code"
echo "installed headers: $(cd "$stage" && find . -path '*include/pfd/*' | sort | tr '\n' ' ')"
echo "ok"
