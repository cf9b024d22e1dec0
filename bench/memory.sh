#!/usr/bin/env bash
# Daemon memory: RSS idle, and with 256 commands running (spec §8: <= 4 MiB
# idle, <= 16 MiB with 256 running).
#
# Usage: bench/memory.sh [BUILD_DIR] [COMMANDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
on_exit='kill $(jobs -p) 2>/dev/null; wait 2>/dev/null'
bench_init "${1:-}"
n=${2:-256}
mkfifo "$work/gate"
start_pfd "$build" "$work"
rss() { awk '/VmRSS/ {print $2}' "/proc/$daemon/status"; }
echo "idle:            $(rss) KiB"
# Each command blocks reading the gate; one writer opens it at the end.
for _ in $(seq "$n"); do
  "$build/hostexec" --socket "$work/pfd.sock" sh -c 'read x <"$0"' "$work/gate" </dev/null &
done
for _ in $(seq 200); do
  [ "$(ls "/proc/$daemon/task" | wc -l)" -ge 1 ] && [ "$(pgrep -c -P "$daemon")" -ge "$n" ] && break
  read -rt 0.05 <>"$work/ready" || true
done
echo "$(pgrep -c -P "$daemon") running: $(rss) KiB"
exec 4<>"$work/gate"
for _ in $(seq "$n"); do echo >&4; done
wait $(jobs -p | grep -v "^$daemon$") 2>/dev/null || true
echo "after:           $(rss) KiB"
