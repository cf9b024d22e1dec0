#!/usr/bin/env bash
# Wall time of running /bin/true: directly, through limit.c (the minimal C
# fd-passing client/server, the physical limit), through flatpak-spawn --host
# (D-Bus) and through hostexec + pfd, side by side in one hyperfine run.
# Prints medians and the ratios spec §8 sets goals for.
#
# Usage: bench/latency.sh [BUILD_DIR] [RUNS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
runs=${2:-1000}

eval "$("$shared/bench/anchors.sh" start /tmp/pfd-anchors)"

start_pfd "$build" "$work"

hyperfine -N --warmup 100 --runs "$runs" --export-json "$work/latency.json" \
  -n direct "/bin/true" \
  -n limit.c "$LIMIT_CLIENT $LIMIT_SOCK /bin/true" \
  -n hostexec "$build/hostexec --socket $work/pfd.sock /bin/true" \
  -n flatpak-spawn "$FLATPAK_SPAWN --host /bin/true" >&2

python3 - "$work/latency.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
print(f"{'command':<14} {'median ms':>10} {'mean ms':>9} {'σ ms':>7}")
for k, v in r.items():
    print(f"{k:<14} {med[k]:>10.3f} {v['mean']*1000:>9.3f} {v['stddev']*1000:>7.3f}")
h = med["hostexec"]
print(f"hostexec / limit.c        = {h / med['limit.c']:.3f}   (goal <= 1.15)")
print(f"hostexec / flatpak-spawn  = {h / med['flatpak-spawn']:.3f}   (goal <= 0.30)")
PY
