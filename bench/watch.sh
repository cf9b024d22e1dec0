#!/usr/bin/env bash
# `pfd watch` push latency (bench/watch_latency.py): for each command, the
# time from the client reading its own `exited` event to a watcher reading
# the same event. Goal (issue 14): p99 < 200 us.
#
# Usage: bench/watch.sh [BUILD_DIR] [COMMANDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
n=${2:-500}
start_pfd "$build" "$work"
python3 "$root/bench/watch_latency.py" "$work/pfd.sock" "$n"
