#!/usr/bin/env bash
# Concurrent throughput of /bin/true through hostexec and through
# limit-epoll (the floor), CLIENTS at a time (xargs -P), by alternating
# rounds (lib.sh's alternate_rounds, as bench/run): medians of the rounds'
# commands/s and of the rounds' ratios. Goal (issue 14): >= 0.95 x
# limit-epoll at 1, 16 and 64 clients.
#
# Usage: bench/concurrency.sh [BUILD_DIR] [N] [ROUNDS] [CLIENTS...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
n=${2:-400} rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
((${#@})) || set -- 1 16 64

start_anchors /tmp/pfd-anchors
start_pfd "$build" "$work"

for clients in "$@"; do
  alternate_rounds "$work/rounds.txt" "$rounds" "$n" "$clients" \
    hostexec "$build/hostexec --socket $work/pfd.sock /bin/true" \
    limit-epoll "$LIMIT_CLIENT $LIMIT_EPOLL_SOCK /bin/true"
done

python3 "$(dirname "$0")/rounds.py" "$work/rounds.txt" hostexec limit-epoll "goal >= 0.95"
