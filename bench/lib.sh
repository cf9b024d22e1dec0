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
