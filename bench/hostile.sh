#!/usr/bin/env bash
# bench/hostile.sh [BUILD_DIR] [hostile.py options...]: the daemon under 300
# hostile connections (1 MB request lines that never end, 60 descriptors
# each), from another allowed uid (65534, as root) or from ours, while a
# legitimate `hostexec true` runs in a loop; prints the daemon's RSS and
# descriptors idle, at their peak and after, and how the legitimate client
# fared (bench/hostile.py). Not a test: it never fails on a slow machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
shift || true
as_uid=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  as_uid=(--as-uid 65534)
  printf '[policy]\nallow_uids = [65534]\n' >"$work/pfd.toml"
fi
mkfifo "$work/ready"
"$build/pfd" serve --socket "$work/pfd.sock" ${as_uid:+--config "$work/pfd.toml"} --ready-fd 3 \
  3>"$work/ready" 2>"$work/pfd.log" &
daemon=$!
read -r -t 20 _ <"$work/ready" || { echo "pfd did not start" >&2; cat "$work/pfd.log" >&2; exit 1; }
# The other uid reaches the socket; the daemon's own check is what decides.
chmod 0711 "$work"
chmod 0666 "$work/pfd.sock"
python3 "$root/bench/hostile.py" --socket "$work/pfd.sock" --pid "$daemon" --hostexec "$build/hostexec" \
  "${as_uid[@]}" "$@"
