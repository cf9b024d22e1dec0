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
# $on_exit (set it first), stops the daemon start_pfd started and removes $work.
bench_init() {
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  shared=$(realpath -m "$root/../shared")
  build=$(realpath "${1:-$root/build}")
  work=$(mktemp -d /tmp/pfd-bench.XXXXXX)
  on_exit=${on_exit:-:}
  # Each step may fail (set -e holds in traps too); the directory goes regardless.
  trap 'eval "$on_exit" || true; kill "${daemon:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}
