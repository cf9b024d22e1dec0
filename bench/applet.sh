#!/usr/bin/env bash
# A pre-fork applet call beside a process start: `democli add 1 2 3`
# answered by its warm daemon (no fork, no exec on the daemon's side) next to
# `hostexec /bin/true` and limit.c's `/bin/true` (the minimal C fd-passing
# client/server), side by side in one hyperfine run; medians and ratios.
#
# Usage: bench/applet.sh [BUILD_DIR] [RUNS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
on_exit='"$build/democli" stop >/dev/null'
bench_init "${1:-}"
runs=${2:-1000}
export DEMOCLI_SOCKET=$work/democli.sock XDG_STATE_HOME=$work/state

eval "$("$shared/bench/anchors.sh" start /tmp/pfd-anchors)"
start_pfd "$build" "$work"
[ "$("$build/democli" add 1 2 3)" = 6 ] # starts its daemon

hyperfine -N --warmup 100 --runs "$runs" --export-json "$work/applet.json" \
  -n limit.c "$LIMIT_CLIENT $LIMIT_SOCK /bin/true" \
  -n hostexec "$build/hostexec --socket $work/pfd.sock /bin/true" \
  -n "democli add" "$build/democli add 1 2 3" \
  -n "hostexec → applet" "$build/hostexec --socket $work/democli.sock add 1 2 3" >&2

python3 - "$work/applet.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
print(f"{'command':<18} {'median ms':>10} {'mean ms':>9} {'σ ms':>7}")
for k, v in r.items():
    print(f"{k:<18} {med[k]:>10.3f} {v['mean']*1000:>9.3f} {v['stddev']*1000:>7.3f}")
print(f"democli add / limit.c        = {med['democli add'] / med['limit.c']:.3f}")
print(f"hostexec → applet / limit.c  = {med['hostexec → applet'] / med['limit.c']:.3f}")
PY
