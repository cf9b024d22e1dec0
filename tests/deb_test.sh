#!/usr/bin/env bash
# The Debian package, as a user gets it: built with dpkg-buildpackage from a
# copy of the tracked tree (`git ls-files`: nothing of a build directory
# leaks in), checked with lintian (an error fails), installed with apt-get
# into a throw-away bookworm root (dependencies from Debian's archive), used
# there as a user would, then purged.
#
# The root is a `debootstrap --variant=minbase bookworm` made once and cached
# in $PFD_TEST_CACHE (/var/cache/pfd-test) with the tools the checks use
# (man-db, g++, pkgconf); every run gets an overlay of it (or a copy where
# overlayfs is refused), so no run changes the cache. Everything runs in a
# mount and PID namespace of its own: the mounts and any process left
# behind (the daemon) go with it.
#
# Usage: deb_test.sh SOURCE_DIR. Needs root, dpkg-dev, debhelper, lintian,
# fakeroot, debootstrap (scripts/setup-test-tools) and the build
# dependencies; exits 77 (skipped), saying why, without them.
# PFD_DEBIAN_MIRROR overrides http://deb.debian.org/debian.
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
stamp() { echo "[$(date +%T)] $*"; }

if [ -z "${PFD_DEB_TEST_INNER:-}" ]; then
  src=$(cd "${1:?usage: deb_test.sh SOURCE_DIR}" && pwd)
  [ "$(id -u)" = 0 ] || skip "not root: debootstrap, chroot and the mounts of the throw-away root need root"
  for tool in git dpkg-buildpackage dh dpkg-checkbuilddeps lintian fakeroot debootstrap unshare chroot mount; do
    command -v "$tool" >/dev/null || skip "$tool is missing (scripts/setup-test-tools installs it)"
  done
  git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || skip "$src is not a git checkout: the package is built from its tracked files"
  if [ -z "${PFD_DEB_TEST_PREBUILT:-}" ] && ! missing=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
    skip "build dependencies missing: ${missing#*: } (apt-get build-dep ./)"
  fi
  # Our own mounts stay ours (private propagation), but that needs `/` to be
  # a mount point: inside a plain chroot (a directory of another root) it is
  # not, and the propagation is left as it is.
  prop=private
  unshare --mount --propagation private true 2>/dev/null || prop=unchanged
  err=$(unshare --mount --pid --fork --propagation "$prop" true 2>&1) \
    || skip "no mount and PID namespace here for the throw-away root: $err"

  work=$(mktemp -d /tmp/pfd-deb-XXXXXX)
  cleanup() {
    # The namespace is gone by now, and its mounts with it; should one have
    # propagated out all the same (the bind of $work onto itself, with
    # unchanged propagation), it goes, and rm stays on this file system.
    umount -l "$work" 2>/dev/null || true
    if grep -q " ${work}/" /proc/self/mountinfo 2>/dev/null; then
      echo "mounts left under $work: not removed" >&2
      return
    fi
    rm -rf --one-file-system "$work"
  }
  trap cleanup EXIT
  trap 'exit 143' TERM INT HUP   # meson's timeout: clean up all the same
  # --kill-child: should unshare itself be killed, the PID namespace goes too.
  PFD_DEB_TEST_INNER=1 SRC=$src WORK=$work unshare --mount --pid --fork --kill-child --propagation "$prop" "$0"
  exit $?
fi

# ---- inside the namespace ---------------------------------------------------

src=$SRC work=$WORK
cache=${PFD_TEST_CACHE:-/var/cache/pfd-test}
mirror=${PFD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the cached root is made of: a different recipe makes it again.
recipe="bookworm minbase $mirror + man-db g++ pkgconf ca-certificates (1)"
base=$cache/bookworm-minbase
tools=(man-db g++ pkgconf ca-certificates)

mounts=()
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
  mounts=()
}
trap unmount_all EXIT
# The first process of a PID namespace ignores what it has no handler for.
trap 'exit 143' TERM INT HUP
mnt() { mount "$@"; mounts+=("${@: -1}"); }
umount_from() {  # unmounts everything at or under $1, last mounted first
  local i keep=()
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    case ${mounts[$i]} in "$1" | "$1"/*) umount "${mounts[$i]}" ;; esac
  done
  for i in "${mounts[@]}"; do case $i in "$1" | "$1"/*) ;; *) keep+=("$i") ;; esac; done
  mounts=("${keep[@]}")
}

# What a chroot needs: /proc (of this PID namespace), a /dev of its own with
# a private pseudo-terminal instance (never the host's /dev bound: unmounting
# a shared bind of it can take the host's /dev/pts with it), /tmp.
prepare_root() {
  local root=$1 n
  mnt -t proc proc "$root/proc"
  mnt -t tmpfs -o mode=0755,nosuid dev "$root/dev"
  for n in null zero full random urandom tty; do
    touch "$root/dev/$n"
    mnt --bind "/dev/$n" "$root/dev/$n"
  done
  mkdir -p "$root/dev/pts" "$root/dev/shm"
  mnt -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
  ln -s pts/ptmx "$root/dev/ptmx"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  mnt -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  mnt -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}
in_root() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

make_base() {
  local new=$cache/bookworm-minbase.new
  rm -rf --one-file-system "$new"
  mkdir "$new"
  private_tree "$new"
  stamp "debootstrap --variant=minbase bookworm into $base (once; later runs reuse it)"
  debootstrap --variant=minbase bookworm "$new" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; fail "debootstrap failed (log above)"; }
  local origin=${mirror%/debian}
  cat >"$new/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $origin/debian-security bookworm-security main
EOF
  # An archive snapshot's Release files may be past their Valid-Until.
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' >"$new/etc/apt/apt.conf.d/99pfd-test"
  prepare_root "$new"
  in_root "$new" apt-get update -qq >"$work/base-apt.log" 2>&1 \
    && in_root "$new" apt-get install -y -qq --no-install-recommends "${tools[@]}" >>"$work/base-apt.log" 2>&1 \
    || { tail -n 20 "$work/base-apt.log"; fail "installing ${tools[*]} into the new root failed (log above)"; }
  in_root "$new" apt-get clean
  umount_from "$new"
  rm -f "$new/etc/resolv.conf"
  rm -rf --one-file-system "$base"
  echo "$recipe" >"$new/.pfd-test-recipe"
  mv "$new" "$base"
}

# Every mount of ours is under a private bind of its tree: with unchanged
# propagation none of them reaches another namespace.
private_tree() { mount --bind "$1" "$1"; mount --make-rprivate "$1"; mounts+=("$1"); }
private_tree "$work"

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ "$(cat "$base/.pfd-test-recipe" 2>/dev/null)" != "$recipe" ]; then
  t0=$SECONDS
  make_base
  stamp "cached root made in $((SECONDS - t0)) s"
fi
flock -s 9   # runs share the cache; a new one waits for them

# ---- build ------------------------------------------------------------------

mkdir "$work/src" "$work/src/pfd"
if [ -n "${PFD_DEB_TEST_PREBUILT:-}" ]; then
  # For work on this test only: the .debs and .changes of an earlier build.
  stamp "no build: the packages in $PFD_DEB_TEST_PREBUILT"
  cp "$PFD_DEB_TEST_PREBUILT"/*.deb "$PFD_DEB_TEST_PREBUILT"/*.changes "$PFD_DEB_TEST_PREBUILT"/*.buildinfo "$work/src/"
else
  (cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$work/src/pfd" -xf -
  (
    cd "$work/src/pfd"
    version=$(dpkg-parsechangelog -S Version)
    meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
    [ "$version" = "$meson_version" ] || fail "debian/changelog's version $version is not meson.build's $meson_version"
    stamp "dpkg-buildpackage -us -uc -b (pfd $version, parallel=$(nproc))"
    t0=$SECONDS
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 \
      || { tail -n 40 "$work/build.log"; fail "dpkg-buildpackage failed (log above)"; }
    stamp "built in $((SECONDS - t0)) s"
  )
fi
changes=$(ls "$work"/src/pfd_*.changes)
debs=("$work"/src/pfd_*.deb "$work"/src/libpfd-dev_*.deb)
for deb in "${debs[@]}"; do
  echo "== $(basename "$deb")"
  dpkg-deb -c "$deb" | awk '{print $6 ($7 ? " " $7 " " $8 : "")}' | grep -v '/$'
done

stamp "lintian"
set +e
lintian --fail-on error --display-info --pedantic "$changes" 2>&1 | grep -v 'running with root privileges'
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || fail "lintian reports errors (above)"

# ---- install into a throw-away root -----------------------------------------

root=$work/root
mkdir "$root" "$work/upper" "$work/ovl"
if ! mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$root" 2>/dev/null; then
  stamp "overlayfs refused here: copying the cached root"
  cp -a "$base/." "$root/"
else
  mounts+=("$root")
fi
prepare_root "$root"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
chmod -R a+rX "$root/tmp/debs"

install_debs() {
  in_root "$root" apt-get install -y -q --no-install-recommends "/tmp/debs/$(basename "${debs[0]}")" "/tmp/debs/$(basename "${debs[1]}")"
}
stamp "apt-get install ./pfd_*.deb ./libpfd-dev_*.deb in the throw-away root"
if ! install_debs >"$work/install.log" 2>&1; then
  # The cached package lists may name versions the archive has replaced.
  in_root "$root" apt-get update -qq >>"$work/install.log" 2>&1 || true
  install_debs >>"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log"; fail "apt-get install failed (log above)"; }
fi
grep -E '^(Get|Setting up)' "$work/install.log" | sed 's/^/  /' || true

# The file list, for the purge at the end.
in_root "$root" dpkg-query -L pfd libpfd-dev >"$work/files"
in_root "$root" dpkg-query -W -f '${Conffiles}\n' pfd | awk 'NF {print $1}' >>"$work/files"

# A user, with the runtime directory a login would give them.
in_root "$root" useradd --create-home --shell /bin/bash tester
uid=$(in_root "$root" id -u tester)
gid=$(in_root "$root" id -g tester)
install -d -m 0700 -o "$uid" -g "$gid" "$root/run/user/$uid"
mkdir -p "$root/home/tester/src"
cp "$src/examples/democli/democli.cpp" "$src/tests/out_of_tree/async_add.cpp" "$root/home/tester/src/"
chown -R "$uid:$gid" "$root/home/tester/src"

as_user() {
  chroot --userspec="$uid:$gid" --groups="$gid" "$root" /usr/bin/env -i HOME=/home/tester USER=tester LOGNAME=tester \
    SHELL=/bin/bash PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TERM=xterm XDG_RUNTIME_DIR=/run/user/$uid \
    bash -c 'cd "$HOME" && '"$1"
}
check() {  # check WHAT EXPECTED COMMAND: the command's output (stdout and stderr) must be EXPECTED
  local what=$1 want=$2 got
  got=$(as_user "$3" 2>&1 | tr -d '\r') || fail "$what: exit $? (output: $got)"
  [ "$got" = "$want" ] || fail "$what: printed '$got', expected '$want'"
  echo "ok: $what"
}

stamp "as a user in the throw-away root"
check "hostexec -C true (starts the daemon)" "" 'hostexec -C true'
check "pfd status finds it" "running" 'pfd status >/dev/null && echo running'
check "hostexec passes output and exit status" "out err 3" \
  'o=$(hostexec sh -c "echo out; echo err >&2; exit 3" 2>&1); echo $o $?'
check "hostexec runs in the caller's directory" "/home/tester/src" 'cd src && hostexec pwd'
check "hostexec with a terminal (script -qc)" "tty /dev/pts/ ok" \
  "script -qec 'hostexec tty' /dev/null | tr -d '\\r' | sed 's|^\\(/dev/pts/\\)[0-9]*\$|tty \\1 ok|'"

# pfd install-units writes what the package installs, but for the path.
as_user 'pfd install-units "$HOME/units" >/dev/null'
for unit in pfd.socket pfd.service; do
  [ -f "$root/usr/lib/systemd/user/$unit" ] || fail "the package installs no /usr/lib/systemd/user/$unit"
  [ -f "$root/home/tester/units/$unit" ] || fail "pfd install-units wrote no $unit"
  norm() { sed -E 's#(ExecStart|ExecReload)=[^ ]*/pfd( |$)#\1=PFD\2#' "$1"; }
  diff -u <(norm "$root/usr/lib/systemd/user/$unit") <(norm "$root/home/tester/units/$unit") \
    || fail "$unit: pfd install-units differs from the package's beyond the path of pfd"
done
echo "ok: pfd install-units writes the package's units (but for the path)"

check "man -w hostexec" "/usr/share/man/man1/hostexec.1.gz" 'man -w hostexec'
check "man -w pfd" "/usr/share/man/man1/pfd.1.gz" 'man -w pfd'
check "man -w pfd.toml" "/usr/share/man/man5/pfd.toml.5.gz" 'man -w 5 pfd.toml'

# Programs built against libpfd-dev with nothing but pkg-config's flags.
stamp "building democli and async_add against libpfd-dev"
as_user 'cd src && flags=$(pkg-config --cflags --libs pfd) && echo "  pkg-config --cflags --libs pfd: $flags" &&
  g++ -std=c++20 -O1 democli.cpp $flags -o democli && g++ -std=c++20 -O1 async_add.cpp $flags -o async_add' \
  || fail "building against libpfd-dev failed"
check "democli add 1 2 3 (libpfd-dev)" "6" 'DEMOCLI_SOCKET=$XDG_RUNTIME_DIR/democli.sock src/democli add 1 2 3'
check "async_add against democli (libpfd-dev, Asio)" $'out=42\nerr=' \
  'src/async_add $XDG_RUNTIME_DIR/democli.sock 40 2; DEMOCLI_SOCKET=$XDG_RUNTIME_DIR/democli.sock src/democli stop >/dev/null'

check "pfd stop" "" 'pfd stop >/dev/null'

stamp "apt-get purge pfd libpfd-dev"
in_root "$root" apt-get purge -y -q pfd libpfd-dev >"$work/purge.log" 2>&1 \
  || { tail -n 20 "$work/purge.log"; fail "apt-get purge failed (log above)"; }
left=()
while read -r f; do
  [ -n "$f" ] || continue
  if [ -e "$root$f" ] || [ -L "$root$f" ]; then
    [ -d "$root$f" ] && [ ! -L "$root$f" ] && [ -n "$(ls -A "$root$f")" ] && continue  # a directory others share
    left+=("$f")
  fi
done <"$work/files"
for dir in /etc/pfd /usr/libexec/pfd /usr/include/pfd /usr/share/doc/pfd /usr/share/doc/libpfd-dev; do
  [ -e "$root$dir" ] && left+=("$dir")
done
((${#left[@]} == 0)) || fail "after apt-get purge, left: ${left[*]}"
echo "ok: apt-get purge leaves no file of the packages ($(wc -l <"$work/files") paths checked)"
stamp "all checks passed"
