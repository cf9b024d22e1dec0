#!/usr/bin/env bash
# Cold start: `hostexec -C /bin/true` with no daemon running (pfd start, the
# daemon's readiness, the command), against a warm `hostexec /bin/true`.
# Spec §8 goal: <= 20 ms to the command's exit.
#
# Usage: bench/coldstart.sh [BUILD_DIR] [RUNS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
on_exit='"$build/pfd" stop >/dev/null 2>&1 || true'
bench_init "${1:-}"
runs=${2:-100}
export XDG_RUNTIME_DIR=$work/run XDG_STATE_HOME=$work/state
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset PFD_SOCKET PFD_PROJECT

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/cold.json" \
  -n "hostexec -C (cold)" --prepare "$build/pfd stop" "$build/hostexec -C /bin/true" >&2
"$build/pfd" start
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/warm.json" \
  -n "hostexec (warm)" "$build/hostexec /bin/true" >&2

python3 - "$work/cold.json" "$work/warm.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        print(f"{r['command']:<22} median {r['median']*1000:7.2f} ms   mean {r['mean']*1000:7.2f} ms")
PY
