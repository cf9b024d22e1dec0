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

python3 - "$work/latency.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
print(f"{'command':<16} {'median ms':>10} {'mean ms':>9} {'σ ms':>7}")
for k, v in r.items():
    print(f"{k:<16} {med[k]:>10.3f} {v['mean']*1000:>9.3f} {v['stddev']*1000:>7.3f}")
h = med["hostexec"]
print(f"hostexec / limit-epoll    = {h / med['limit-epoll']:.3f}")
print(f"hostexec / limit.c        = {h / med['limit.c']:.3f}")
print(f"hostexec / flatpak-spawn  = {h / med['flatpak-spawn']:.3f}")
if "hostexec-before" in med:
    print(f"hostexec / hostexec-before = {h / med['hostexec-before']:.3f}")
PY
