#!/usr/bin/env bash
# Concurrent throughput: N runs of /bin/true, 16 clients at a time (xargs -P),
# through limit.c and through hostexec, side by side in one hyperfine run.
# Spec §8 goal: hostexec >= 0.9 x limit.c's commands per second.
#
# Usage: bench/concurrency.sh [BUILD_DIR] [N]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
n=${2:-800}

eval "$("$shared/bench/anchors.sh" start /tmp/pfd-anchors)"
start_pfd "$build" "$work"

hyperfine --warmup 1 --runs 10 --export-json "$work/conc.json" \
  -n limit.c "seq $n | xargs -P 16 -I{} $LIMIT_CLIENT $LIMIT_SOCK /bin/true" \
  -n hostexec "seq $n | xargs -P 16 -I{} $build/hostexec --socket $work/pfd.sock /bin/true" >&2

python3 - "$work/conc.json" "$n" <<'PY'
import json, sys
n = int(sys.argv[2])
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print(f"{k:<10} median {v['median']:.3f} s   {n / v['median']:8.0f} commands/s")
print(f"hostexec / limit.c throughput = {r['limit.c']['median'] / r['hostexec']['median']:.3f}   (goal >= 0.9)")
PY
