#!/usr/bin/env bash
# Cold start (lib.sh's cold_start, as bench/run): `hostexec -C /bin/true`
# with no daemon running (pfd start, the daemon's readiness, the command),
# the daemon stopped and the runtime directory emptied before each run;
# against a warm `hostexec /bin/true`. Goal (issue 14): <= 5 ms.
#
# Usage: bench/coldstart.sh [BUILD_DIR] [RUNS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
on_exit='cold_start_stop "$build" "$work"'
bench_init "${1:-}"
runs=${2:-100}

cold_start "$build" "$work" "$runs" "$work/cold.json"
start_pfd "$build" "$work"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/warm.json" \
  -n "hostexec (warm)" "$build/hostexec --socket $work/pfd.sock /bin/true" >&2

python3 - "$work/cold.json" "$work/warm.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        print(f"{r['command']:<22} median {r['median']*1000:7.2f} ms   mean {r['mean']*1000:7.2f} ms")
PY
