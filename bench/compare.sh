#!/usr/bin/env bash
# One build of pfd against another, side by side: the way to tell whether a
# change made pfd faster (issue 14: "each change kept only if the
# side-by-side run shows it"). Each build's own daemon; alternating rounds
# (lib.sh's alternate_rounds, as bench/run's throughput rows) of N
# `hostexec /bin/true`, CLIENTS at a time, so that the machine's drift falls
# on both alike; one client is the sequential latency. Prints per client
# count the medians of the rounds' commands/s and the median of the rounds'
# ratios (after / before: above 1 is faster).
#
# Usage: bench/compare.sh BEFORE_BUILD AFTER_BUILD [N] [ROUNDS] [CLIENTS...]
# (defaults: 400 commands, 10 rounds, 1 16 64 clients). A build directory
# needs pfd and hostexec (a copy of them will do).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_BUILD AFTER_BUILD [N] [ROUNDS] [CLIENTS...]" >&2; exit 2; }
before=$(realpath "$1")
bench_init "$2"
n=${3:-400} rounds=${4:-10}
shift $(($# < 4 ? $# : 4))
((${#@})) || set -- 1 16 64

mkdir -p "$work/before" "$work/after"
start_pfd "$before" "$work/before"
bench_pids+=("$daemon")
start_pfd "$build" "$work/after"

for clients in "$@"; do
  alternate_rounds "$work/rounds.txt" "$rounds" "$n" "$clients" \
    before "$before/hostexec --socket $work/before/pfd.sock /bin/true" \
    after "$build/hostexec --socket $work/after/pfd.sock /bin/true"
done

python3 "$(dirname "$0")/rounds.py" "$work/rounds.txt" after before
