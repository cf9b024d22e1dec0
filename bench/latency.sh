#!/usr/bin/env bash
# Wall time of running /bin/true: directly, through limit.c (a worker forked
# per connection), limit-epoll.c (one process vforking from an epoll loop:
# the floor), flatpak-spawn --host (D-Bus) and hostexec + pfd, side by side
# in one hyperfine run. Prints medians and ratios.
#
# Usage: bench/latency.sh [BUILD_DIR] [RUNS]
# With BEFORE=OTHER_BUILD_DIR (e.g. a build of the previous commit), that
# build's hostexec + pfd run in the same hyperfine run as "hostexec-before".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
runs=${2:-1000}

eval "$("$shared/bench/anchors.sh" start /tmp/pfd-anchors)"

before=()
if [ -n "${BEFORE:-}" ]; then
  mkdir -p "$work/before"
  start_pfd "$(realpath "$BEFORE")" "$work/before"
  on_exit="kill $daemon 2>/dev/null; $on_exit"
  before=(-n hostexec-before "$(realpath "$BEFORE")/hostexec --socket $work/before/pfd.sock /bin/true")
fi
start_pfd "$build" "$work"

hyperfine -N --warmup 100 --runs "$runs" --export-json "$work/latency.json" \
  -n direct "/bin/true" \
  -n limit.c "$LIMIT_CLIENT $LIMIT_SOCK /bin/true" \
  -n limit-epoll "$LIMIT_CLIENT $LIMIT_EPOLL_SOCK /bin/true" \
  -n hostexec "$build/hostexec --socket $work/pfd.sock /bin/true" \
  "${before[@]}" \
  -n flatpak-spawn "$FLATPAK_SPAWN --host /bin/true" >&2

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
