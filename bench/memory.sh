#!/usr/bin/env bash
# Daemon memory (lib.sh's daemon_rss, as bench/run): VmRSS idle, with N
# commands running (counted by pfd ps --json) and after they ended. Goal
# (issue 14): <= 4 MiB idle, <= 8 MiB with 256 running, back within 1 MiB of
# idle after.
#
# Usage: bench/memory.sh [BUILD_DIR] [COMMANDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
n=${2:-256}
daemon_rss "$build" "$work/rss" "$n" "$work/rss.txt"
awk '{ kib = $NF; printf "%-8s %s%7d KiB (%.2f MiB)\n", $1 ":", (NF == 3 ? sprintf("%4d running ", $2) : "             "), kib, kib / 1024 }' "$work/rss.txt"
