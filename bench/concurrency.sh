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

python3 - "$work/rounds.txt" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    clients, name, rnd, secs, n = line.split()
    rounds.setdefault(int(clients), {}).setdefault(int(rnd), {})[name] = int(n) / float(secs)
for clients, by_round in sorted(rounds.items()):
    pairs = list(by_round.values())
    h = statistics.median(p["hostexec"] for p in pairs)
    e = statistics.median(p["limit-epoll"] for p in pairs)
    r = statistics.median(p["hostexec"] / p["limit-epoll"] for p in pairs)
    print(f"{clients:>3} clients: hostexec {h:6.0f}/s  limit-epoll {e:6.0f}/s  "
          f"ratio {r:.3f} (median of {len(pairs)} rounds; goal >= 0.95)")
PY
