#!/usr/bin/env bash
# Wall time of running /bin/true: directly, through limit.c (a worker forked
# per connection), limit-epoll.c (one process vforking from an epoll loop:
# the floor), flatpak-spawn --host (D-Bus) and hostexec + pfd, side by side
# in one hyperfine run (lib.sh's side_by_side, as bench/run). Prints medians
# and ratios.
#
# Usage: bench/latency.sh [BUILD_DIR] [RUNS]
# With BEFORE=OTHER_BUILD_DIR (e.g. a build of the previous commit), that
# build's hostexec + pfd run in the same hyperfine run as "hostexec-before".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
runs=${2:-1000}

start_anchors /tmp/pfd-anchors

before=()
if [ -n "${BEFORE:-}" ]; then
  mkdir -p "$work/before"
  start_pfd "$(realpath "$BEFORE")" "$work/before"
  bench_pids+=("$daemon")
  before=(-n hostexec-before "$(realpath "$BEFORE")/hostexec --socket $work/before/pfd.sock /bin/true")
fi
start_pfd "$build" "$work"

side_by_side "$build" "$work/pfd.sock" "$runs" 100 "$work/latency.json" "${before[@]}"

median_table "$work/latency.json" hostexec/limit-epoll hostexec/limit.c hostexec/flatpak-spawn \
  ${BEFORE:+hostexec/hostexec-before}
