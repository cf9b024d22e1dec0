#!/usr/bin/env bash
# A pre-fork applet call beside a process start: `democli add 1 2 3`
# answered by its warm daemon (no fork, no exec on the daemon's side), and
# the same call through hostexec, added to latency.sh's side-by-side run
# (lib.sh's side_by_side: /bin/true directly, through limit.c, limit-epoll,
# hostexec, flatpak-spawn); medians and ratios. Goal (issue 14): democli add
# <= 0.6 x limit-epoll running /bin/true.
#
# Usage: bench/applet.sh [BUILD_DIR] [RUNS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
on_exit='"$build/democli" stop >/dev/null'
bench_init "${1:-}"
runs=${2:-1000}
export DEMOCLI_SOCKET=$work/democli.sock XDG_STATE_HOME=$work/state

start_anchors /tmp/pfd-anchors
start_pfd "$build" "$work"
[ "$("$build/democli" add 1 2 3)" = 6 ] # starts its daemon

side_by_side "$build" "$work/pfd.sock" "$runs" 100 "$work/applet.json" \
  -n "democli add" "$build/democli add 1 2 3" \
  -n "hostexec → applet" "$build/hostexec --socket $work/democli.sock add 1 2 3"

median_table "$work/applet.json" "democli add/limit-epoll" "hostexec → applet/limit-epoll" \
  "democli add/limit.c" "hostexec → applet/limit.c"
