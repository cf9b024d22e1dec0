#!/bin/bash
# The ten commonest mistakes, provoked against the pfd and hostexec of a build
# directory, each with what the user sees: the command, its exit status and
# its stderr (stdout too when it says something). Everything happens in a
# temporary directory (sockets, XDG dirs); daemons started here are stopped.
#
#   ./mistakes.sh BUILD_DIR
#
# Needs root and setpriv for the two cases about another uid (they run as
# uid 65534); without them those two say "skipped".
set -u
build=$(realpath "${1:?usage: mistakes.sh BUILD_DIR}")
PFD=$build/pfd
HOSTEXEC=$build/hostexec
[ -x "$PFD" ] && [ -x "$HOSTEXEC" ] || { echo "no pfd/hostexec in $build" >&2; exit 2; }

T=$(mktemp -d /tmp/pfd-mistakes.XXXXXX)
chmod 755 "$T" # uid 65534 reaches some of it
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/run" "$T/config/pfd" "$T/state" "$T/home" "$T/work"
chmod 700 "$T/run"
export XDG_RUNTIME_DIR=$T/run XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state HOME=$T/home
unset PFD_SOCKET PFD_PROJECT
cd "$T/work" || exit 2

# Waits (bounded, 10 s) for a socket to appear.
wait_socket() {
    for _ in $(seq 1000); do
        [ -S "$1" ] && return 0
        sleep 0.01
    done
    echo "socket $1 did not appear" >&2
    return 1
}

# A daemon of ours on $1 (in the background), args after.
serve() {
    local sock=$1
    shift
    "$PFD" serve --socket "$sock" "$@" 2>>"$T/daemon.log" &
    pids+=($!)
    wait_socket "$sock"
}

as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
can_be_nobody() { [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; }

n=0
# show TITLE -- COMMAND...: runs it, prints what a user sees.
show() {
    local title=$1
    shift 2
    n=$((n + 1))
    echo "== $n. $title"
    echo "\$ $*" | sed "s|$T|\$T|g; s|$build/||g"
    "$@" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    sed "s|$T|\$T|g; s/^/stderr: /" "$T/err"
    [ -s "$T/out" ] && sed "s|$T|\$T|g; s/^/stdout: /" "$T/out"
    echo "exit: $rc"
    echo
}
skip() {
    n=$((n + 1))
    echo "== $n. $1"
    echo "skipped: $2"
    echo
}

sock=$T/run/pfd.sock

# 1. No daemon: nothing listens where discovery looks.
show "no daemon" -- "$HOSTEXEC" true

# 2. Wrong socket: --socket names a path where nothing is.
show "wrong socket (--socket path missing)" -- "$HOSTEXEC" --socket "$T/run/pfd.sokc" true

serve "$sock"

# 3. Not found on the host.
show "command not found on the host" -- "$HOSTEXEC" no-such-command-xyz

# 4. Not executable on the host.
printf 'echo hi\n' >"$T/work/script.sh"
chmod 644 "$T/work/script.sh"
show "not executable on the host" -- "$HOSTEXEC" ./script.sh

# 5. Missing directory: one that does not exist here, then one the host
#    cannot enter (a directory of uid 65534's, mode 000, as it: the daemon's
#    fchdir fails while the client's O_PATH open works).
show "missing directory (here)" -- "$HOSTEXEC" --directory=/no/such/dir true
if can_be_nobody; then
    mkdir -p "$T/nobody/run" "$T/nobody/locked"
    chown -R 65534:65534 "$T/nobody"
    chmod 700 "$T/nobody/run"
    chmod 000 "$T/nobody/locked"
    "${as_nobody[@]}" "$PFD" serve --socket "$T/nobody/run/pfd.sock" 2>>"$T/daemon.log" &
    pids+=($!)
    for _ in $(seq 1000); do "${as_nobody[@]}" test -S "$T/nobody/run/pfd.sock" && break; sleep 0.01; done
    show "directory the host cannot enter" -- "${as_nobody[@]}" env XDG_CONFIG_HOME=/nonexistent "$HOSTEXEC" \
        --socket "$T/nobody/run/pfd.sock" --directory="$T/nobody/locked" true
else
    skip "directory the host cannot enter" "needs root and setpriv"
fi

# 6. Socket permission: our socket (0600) as seen by uid 65534.
if can_be_nobody; then
    mkdir -p "$T/shared"
    chmod 755 "$T/shared"
    serve "$T/shared/pfd.sock"
    show "socket permission (EACCES)" -- "${as_nobody[@]}" env XDG_CONFIG_HOME=/nonexistent "$HOSTEXEC" \
        --socket "$T/shared/pfd.sock" true
else
    skip "socket permission (EACCES)" "needs root and setpriv"
fi

# 7. Config typo: a misspelled key in the user's file, daemon running.
printf '[daemon]\nthread = 2\n' >"$T/config/pfd/config.toml"
show "config typo (hostexec)" -- "$HOSTEXEC" true
show "config typo (pfd status)" -- "$PFD" status
rm "$T/config/pfd/config.toml"

# 8. Daemon of another uid.
if can_be_nobody; then
    show "daemon of another uid" -- "$HOSTEXEC" --socket "$T/nobody/run/pfd.sock" true
else
    skip "daemon of another uid" "needs root and setpriv"
fi

# 9. pfd stop with no daemon.
show "pfd stop with none" -- "$PFD" stop --socket "$T/run/none.sock"

# 10. pfd cancel with a wrong id.
show "pfd cancel with a wrong id" -- "$PFD" cancel 4242
