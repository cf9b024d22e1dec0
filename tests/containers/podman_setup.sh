# Sourced: a rootless podman container world for hostexec, as distrobox and
# toolbx run it (--userns=keep-id), over a busybox root file system built
# here: no registry, no network. The daemon runs on the "host" as the test
# user; the container sees its socket's directory and the static hostexec
# bind-mounted. Defines T, R, AS_U, PODMAN, RUN and in_container, and cleans
# up on exit. Needs root (to act as the test user that
# scripts/setup-test-tools makes), podman, runc, busybox (static), setpriv
# and script(1); calls skip WHY (the caller's) when something is missing.
# PFD_BIN and HOSTEXEC_BIN name the binaries.
[ "$(id -u)" = 0 ] || skip "needs root, to run podman as the test user $U"
id -u "$U" >/dev/null 2>&1 || skip "no test user $U (scripts/setup-test-tools makes it)"
for tool in podman runc busybox setpriv script; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
grep -q "^$U:" /etc/subuid || skip "$U has no subordinate uids in /etc/subuid"
# The container has busybox and no C library: hostexec must be the static one.
ldd "$HOSTEXEC_BIN" >/dev/null 2>&1 && skip "this build's hostexec is not static (-Dstatic_client=false)"

T=$(mktemp -d /tmp/pfd-podman.XXXXXX)
chmod 0755 "$T"
chown "$U:" "$T"
# In a directory the test user can enter: meson runs tests from the build
# directory, which may be in a 0700 home.
AS_U=(setpriv --reuid="$U" --regid="$U" --init-groups env -i -C "$T" PATH=/usr/bin:/bin HOME="$T/home"
      XDG_RUNTIME_DIR="$T/xdg" PFDT_HOST=yes)
PODMAN=("${AS_U[@]}" podman --root "$T/storage" --runroot "$T/runroot" --tmpdir "$T/ptmp"
        --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc --log-level=error)
daemon=
cleanup() {
  "${PODMAN[@]}" rm -af >/dev/null 2>&1
  [ -f "$T/ptmp/pause.pid" ] && kill "$(cat "$T/ptmp/pause.pid")" 2>/dev/null
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

install -d -m 0700 -o "$U" -g "$U" "$T/home" "$T/xdg" "$T/run" "$T/bin"
if ! why=$("${PODMAN[@]}" info 2>&1 >/dev/null); then
  skip "rootless podman cannot run here: $(printf '%s' "$why" | head -n 1)"
fi
install -d -m 0755 -o "$U" -g "$U" "$T/work"
# The binaries where the test user can reach them (the checkout may be in
# /root); pfd-session beside pfd, as in a build tree.
install -m 0755 -o "$U" "$PFD_BIN" "$(dirname "$PFD_BIN")/pfd-session" "$HOSTEXEC_BIN" "$T/bin/"

# A root file system of busybox, the test user's (podman creates its mount
# points in it).
R=$T/rootfs
mkdir -p "$R"/{bin,etc,proc,dev,sys,tmp,run,work,usr/local/bin}
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
chmod 1777 "$R/tmp"
printf 'root:x:0:0::/:/bin/sh\n%s:x:%s:%s::/work:/bin/sh\n' "$U" "$(id -u "$U")" "$(id -g "$U")" >"$R/etc/passwd"
printf 'root:x:0:\n%s:x:%s:\n' "$U" "$(id -g "$U")" >"$R/etc/group"
touch "$R/etc/hosts" "$R/etc/hostname" "$R/etc/resolv.conf" "$R/usr/local/bin/hostexec"
chown -R "$U:" "$R"

# The daemon, on the host, as the test user; ready when it says so.
mkfifo "$T/ready"
chown "$U" "$T/ready"
"${AS_U[@]}" "$T/bin/pfd" serve --socket "$T/run/pfd.sock" --ready-fd 3 3>"$T/ready" 2>"$T/daemon.log" &
daemon=$!
if ! read -r -t 30 _ <"$T/ready"; then
  echo "the daemon did not get ready:"; cat "$T/daemon.log"; exit 1
fi

RUN=("${PODMAN[@]}" run --rm --network=none --userns=keep-id -v "$T/run:/run/pfd"
     -v "$T/bin/hostexec:/usr/local/bin/hostexec:ro" -e PFD_SOCKET=/run/pfd/pfd.sock)
# podman run --rootfs takes the root file system as its first argument:
# every option goes before it.
in_container() { "${RUN[@]}" "$@"; }

