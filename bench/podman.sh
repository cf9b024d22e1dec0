#!/usr/bin/env bash
# hostexec /bin/true inside a rootless podman container (as distrobox and
# toolbx run it) beside /bin/true run directly in that container: a loop of
# RUNS each, per-command milliseconds, medians of 5 alternating rounds.
# Needs root (runs podman as the test user of scripts/setup-test-tools).
#
# Usage: bench/podman.sh [BUILD_DIR] [RUNS]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
runs=${2:-200}
export PFD_BIN=$build/pfd HOSTEXEC_BIN=$build/hostexec
U=${PFD_TEST_USER:-pfdtest}
skip() { echo "bench/podman.sh: $*" >&2; exit 1; }
source "$root/tests/containers/podman_setup.sh"

# One container for every round: a loop timed inside it (busybox has no
# clock finer than a second, so the host's date brackets each loop, and the
# container's start-up is measured apart and taken off).
loop() { # loop CMD...: ms per command
  local script="i=0; while [ \$i -lt $runs ]; do $*; i=\$((i+1)); done"
  local t0 t1 e0 e1
  t0=$(date +%s%N)
  in_container --rootfs "$R" sh -c "$script" </dev/null >/dev/null || skip "the loop failed: $*"
  t1=$(date +%s%N)
  e0=$(date +%s%N)
  in_container --rootfs "$R" true </dev/null
  e1=$(date +%s%N)
  awk -v a="$((t1 - t0))" -v b="$((e1 - e0))" -v n="$runs" 'BEGIN { printf "%.3f\n", (a - b) / 1e6 / n }'
}
median() { sort -n | sed -n 3p; }
direct=() through=()
for round in 1 2 3 4 5; do
  direct+=("$(loop /bin/true)")
  through+=("$(loop hostexec /bin/true)")
done
d=$(printf '%s\n' "${direct[@]}" | median)
h=$(printf '%s\n' "${through[@]}" | median)
echo "inside rootless podman, $runs commands per loop, median of 5 rounds (ms per command):"
echo "  /bin/true directly           $d   (rounds: ${direct[*]})"
echo "  hostexec /bin/true (on host) $h   (rounds: ${through[*]})"
