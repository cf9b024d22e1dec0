# Sourced by the benchmarks.
# start_pfd BUILD WORK: runs `pfd serve` on WORK/pfd.sock (log WORK/pfd.log),
# returns once it is ready (its readiness newline, not polling) and sets
# $daemon to its pid.
start_pfd() {
  local build=$1 work=$2
  mkfifo "$work/ready"
  "$build/pfd" serve --socket "$work/pfd.sock" --ready-fd 3 3>"$work/ready" 2>"$work/pfd.log" &
  daemon=$!
  read -r -t 20 _ <"$work/ready" || { echo "pfd did not start" >&2; cat "$work/pfd.log" >&2; exit 1; }
}

# bench_init [BUILD_DIR]: sets $root (the source tree), $shared (../shared),
# $build (default: build/) and $work, a scratch directory. On exit: runs
# $on_exit (set it first), stops the daemon start_pfd started and every job
# still running in the background, and removes $work.
bench_init() {
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  shared=$(realpath -m "$root/../shared")
  build=$(realpath "${1:-$root/build}")
  work=$(mktemp -d /tmp/pfd-bench.XXXXXX)
  on_exit=${on_exit:-:}
  # Each step may fail (set -e holds in traps too); the directory goes regardless.
  bench_pids=()  # more daemons to stop on exit
  # SIGINT and SIGTERM (a meson timeout) end the script through its EXIT trap.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'eval "$on_exit" || true; kill "${daemon:-}" "${bench_pids[@]}" $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# start_anchors DIR: starts the reference peers (../shared/bench/anchors.sh)
# in DIR and exports $LIMIT_CLIENT, $LIMIT_SOCK, $LIMIT_EPOLL_SOCK,
# $FLATPAK_SPAWN and the D-Bus address for flatpak-spawn.
start_anchors() {
  eval "$("$shared/bench/anchors.sh" start "$1")"
  # anchors.sh trusts a bus socket left by an earlier run whose dbus-daemon
  # has since gone (a session's end kills it): start them all again then.
  if ! "$FLATPAK_SPAWN" --host true 2>/dev/null; then
    "$shared/bench/anchors.sh" stop "$1"
    eval "$("$shared/bench/anchors.sh" start "$1")"
  fi
}

# side_by_side BUILD SOCKET RUNS WARMUP OUT.json [EXTRA...]: /bin/true run
# directly, through limit.c, limit-epoll, hostexec (BUILD's, on SOCKET) and
# flatpak-spawn --host, and EXTRA hyperfine arguments (more -n NAME CMD
# pairs), all in one hyperfine -N run (start_anchors first). Bounded: 900 s.
side_by_side() {
  local build=$1 sock=$2 runs=$3 warmup=$4 out=$5
  shift 5
  timeout 900 hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$out" \
    -n direct "/bin/true" \
    -n limit.c "$LIMIT_CLIENT $LIMIT_SOCK /bin/true" \
    -n limit-epoll "$LIMIT_CLIENT $LIMIT_EPOLL_SOCK /bin/true" \
    -n hostexec "$build/hostexec --socket $sock /bin/true" \
    -n flatpak-spawn "$FLATPAK_SPAWN --host /bin/true" \
    "$@" >&2
}

# median_table OUT.json [A/B...]: hyperfine's results in OUT.json (median,
# mean and σ in ms), then, for each A/B given, the ratio of A's median to B's.
median_table() {
  python3 - "$@" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
width = max(len("command"), *(len(k) for k in r))
print(f"{'command':<{width}} {'median ms':>10} {'mean ms':>9} {'σ ms':>7}")
for k, v in r.items():
    print(f"{k:<{width}} {med[k]:>10.3f} {v['mean']*1000:>9.3f} {v['stddev']*1000:>7.3f}")
ratios = [a.split("/", 1) for a in sys.argv[2:]]
names = [f"{a} / {b}" for a, b in ratios]
for (a, b), name in zip(ratios, names):
    print(f"{name:<{max(map(len, names))}} = {med[a] / med[b]:.3f}")
PY
}

# alternate_rounds OUT ROUNDS N CLIENTS NAME_A CMD_A NAME_B CMD_B: throughput
# by alternating rounds. Each round runs N commands, CLIENTS at a time
# (xargs -P), once as CMD_A and once as CMD_B, the order swapped every round
# (A B, B A, ...) so that the machine's drift falls on both alike; an
# untimed round first. Appends "CLIENTS NAME ROUND SECONDS N" lines to OUT.
# Each batch is bounded (timeout 120 s); a batch that fails fails the call.
alternate_rounds() {
  local out=$1 rounds=$2 n=$3 clients=$4 r t0 t1 name cmd
  local -a names=("$5" "$7") cmds=("$6" "$8") order
  for ((r = 0; r <= rounds; r++)); do
    if ((r % 2)); then order=(1 0); else order=(0 1); fi
    for i in "${order[@]}"; do
      name=${names[i]} cmd=${cmds[i]}
      t0=$EPOCHREALTIME
      # shellcheck disable=SC2086 # CMD is words
      seq "$n" | timeout 120 xargs -P "$clients" -I{} $cmd >/dev/null || return 1
      t1=$EPOCHREALTIME
      ((r == 0)) || echo "$clients $name $r $(python3 -c "print($t1 - $t0)") $n" >>"$out"
    done
  done
}

# session_count PFD SOCKET: how many commands the daemon runs (pfd ps --json).
session_count() {
  "$1" ps --socket "$2" --json | grep -o '"id":' | wc -l
}

# daemon_rss BUILD WORK N OUT: the daemon's VmRSS (/proc/PID/status, KiB) of
# a daemon of its own in WORK: idle (ready, one command served), with N
# commands running (each blocked reading a fifo; counted by pfd ps --json),
# and after they all ended (pfd ps shows none). Writes "idle KIB",
# "running COUNT KIB" and "after KIB" lines to OUT. Bounded: 60 s for the N
# to be running, 60 s for them to end.
daemon_rss() {
  local build=$1 work=$2 n=$3 out=$4 daemon count i
  local -a clients=()
  mkdir -p "$work"
  start_pfd "$build" "$work"
  local pfd_pid=$daemon sock=$work/pfd.sock
  bench_pids+=("$pfd_pid")
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$pfd_pid/status"; }
  "$build/hostexec" --socket "$sock" /bin/true
  echo "idle $(rss)" >"$out"
  mkfifo "$work/gate"
  for ((i = 0; i < n; i++)); do
    "$build/hostexec" --socket "$sock" sh -c 'read x <"$0"' "$work/gate" </dev/null &
    clients+=($!)
  done
  for ((i = 0; i < 600; i++)); do
    count=$(session_count "$build/pfd" "$sock")
    ((count >= n)) && break
    sleep 0.1
  done
  echo "running $count $(rss)" >>"$out"
  exec {gate}<>"$work/gate"
  for ((i = 0; i < n; i++)); do echo >&$gate; done
  for ((i = 0; i < 600; i++)); do
    (($(session_count "$build/pfd" "$sock") == 0)) && break
    sleep 0.1
  done
  wait "${clients[@]}" 2>/dev/null || true
  exec {gate}>&-
  echo "after $(rss)" >>"$out"
  kill "$pfd_pid"
  wait "$pfd_pid" 2>/dev/null || true
  ((count >= n))
}

# cold_start BUILD WORK RUNS OUT.json: `hostexec -C /bin/true` with no daemon
# (hyperfine -N; before each run the daemon is stopped and the runtime and
# state directories emptied, so each run starts from nothing). Leaves the
# last daemon running: stop it with cold_start_stop BUILD WORK.
cold_start() {
  local build=$1 work=$2 runs=$3 out=$4
  mkdir -p -m 700 "$work/run" "$work/state" "$work/config"
  (
    export XDG_RUNTIME_DIR=$work/run XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
    unset PFD_SOCKET PFD_PROJECT
    timeout 300 hyperfine -N --warmup 3 --runs "$runs" --export-json "$out" \
      --prepare "bash -c '\"\$0\" stop >/dev/null 2>&1; rm -rf \"\$XDG_RUNTIME_DIR\"/* \"\$XDG_STATE_HOME\"/*' $build/pfd" \
      -n "hostexec -C (cold)" "$build/hostexec -C /bin/true" >&2
  )
}
cold_start_stop() {
  XDG_RUNTIME_DIR=$2/run XDG_STATE_HOME=$2/state XDG_CONFIG_HOME=$2/config PFD_SOCKET= PFD_PROJECT= \
    "$1/pfd" stop >/dev/null 2>&1 || true
}

# relay_stream FILE MB: MB megabytes of text lines, as a terminal sees them.
relay_stream() {
  head -c "$(($2 * 1000 * 1000 * 3 / 4))" /dev/urandom | base64 -w 79 >"$1"
}

# relay_rounds BUILD SOCKET FILE ROUNDS OUT: `hostexec -t cat FILE` and
# `script -qec 'cat FILE'` (a local pty relay) once each per round, in
# alternating order (alternate_rounds), so that the machine's drift over the
# minutes this takes falls on both alike. Appends alternate_rounds' lines
# (names "hostexec" and "script") to OUT.
relay_rounds() {
  local build=$1 sock=$2 file=$3 rounds=$4 out=$5
  # alternate_rounds splits a command into words: the quoted one goes into a file.
  printf '#!/bin/sh\nexec script -qec "cat %s" /dev/null\n' "$file" >"$file.script"
  chmod +x "$file.script"
  alternate_rounds "$out" "$rounds" 1 1 \
    hostexec "$build/hostexec --socket $sock -t cat $file" \
    script "$file.script"
}

# relay_throughput BUILD SOCKET FILE RUNS OUT.json [EXTRA...]: `hostexec -t
# cat FILE` beside `script -qec 'cat FILE'` (a local pty relay), and EXTRA
# hyperfine arguments (more commands), in one hyperfine -N run.
relay_throughput() {
  local build=$1 sock=$2 file=$3 runs=$4 out=$5
  shift 5
  timeout 600 hyperfine -N --warmup 1 --runs "$runs" --export-json "$out" "$@" \
    -n "script -c cat (local pty)" "script -qec 'cat $file' /dev/null" \
    -n "hostexec -t cat" "$build/hostexec --socket $sock -t cat $file" >&2 </dev/null
}
