#!/usr/bin/env bash
# The pseudo-terminal relay of `hostexec -t`: throughput of a large stream
# and keystroke round-trip latency, side by side with util-linux `script`
# (a local program relaying through a pty, the usual reference) and with no
# relay at all.
#
# Usage: bench/relay.sh [BUILD_DIR] [MEGABYTES]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
mb=${2:-256}

start_pfd "$build" "$work"
export PFD_SOCKET=$work/pfd.sock

relay_stream "$work/stream" "$mb"
size=$(stat -c %s "$work/stream")

relay_throughput "$build" "$work/pfd.sock" "$work/stream" 10 "$work/relay.json" \
  -n "cat (no pty)" "cat $work/stream"

python3 - "$work/relay.json" "$size" <<'PY'
import json, sys
size = int(sys.argv[2])
print(f"{'throughput':<28} {'median s':>9} {'MB/s':>9}")
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:<28} {r['median']:>9.3f} {size / r['median'] / 1e6:>9.1f}")
PY

# Keystroke round trip: a key typed at a terminal until its echo is back,
# with `cat` reading in canonical mode (the echo comes from the line
# discipline of the pty the command runs on).
python3 - "$build/hostexec" <<'PY'
import os, pty, select, statistics, sys, termios, time

def round_trips(argv, relays, n=2000):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    # A relay puts our terminal in raw mode first (script flushes what was
    # typed before): wait for that before typing.
    end = time.monotonic() + 5
    while relays and termios.tcgetattr(fd)[3] & termios.ECHO and time.monotonic() < end:
        time.sleep(0.001)
    def read_until(want, timeout=5):
        got = b""
        end = time.monotonic() + timeout
        while want not in got:
            r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
            if not r:
                raise TimeoutError(got)
            got += os.read(fd, 4096)
        return got
    os.write(fd, b"warm\n"); read_until(b"warm\r\nwarm")
    times = []
    for i in range(n):
        key = b"abcdefghijklmnopqrstuvwxyz"[i % 26 : i % 26 + 1]
        t = time.perf_counter()
        os.write(fd, key)
        read_until(key)
        times.append(time.perf_counter() - t)
    os.write(fd, b"\n\x04"); os.close(fd); os.waitpid(pid, 0)
    return times

print(f"\n{'keystroke round trip':<28} {'median us':>10} {'p99 us':>8}")
for name, argv, relays in [("cat (kernel echo only)", ["cat"], False),
                           ("hostexec -t cat", [sys.argv[1], "-t", "cat"], True)]:
    t = sorted(round_trips(argv, relays))
    print(f"{name:<28} {statistics.median(t) * 1e6:>10.1f} {t[int(len(t) * .99)] * 1e6:>8.1f}")
PY
