#!/usr/bin/env bash
# `pfd watch` push latency: a watcher and a client in one process (Python,
# standard library only, written from docs/protocol.md); for each command,
# the time from the client reading its own `exited` event to the watcher
# reading the same event. Spec §8 goal: < 1 ms.
#
# Usage: bench/watch.sh [BUILD_DIR] [COMMANDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
n=${2:-500}
start_pfd "$build" "$work"

PYTHONPATH="$root/tests/clients" python3 - "$work/pfd.sock" "$n" <<'PY'
import json, os, socket, statistics, sys, time
from pfd_client import events as lines  # the NDJSON reader of the protocol's Python client
path, n = sys.argv[1], int(sys.argv[2])

watcher = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
watcher.connect(path)
watcher.sendall(b'{"pfd":1,"op":"watch"}\n')
watched = lines(watcher)
assert next(watched)["event"] == "watching"

null = os.open("/dev/null", os.O_RDWR)
delays = []
for _ in range(n):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    request = {"pfd": 1, "op": "exec", "argv": ["/bin/true"], "cwd": "/", "fds": [0, 1, 2],
               "env": ["PATH=/usr/bin:/bin"]}
    socket.send_fds(client, [json.dumps(request).encode() + b"\n"], [null, null, null])
    for ev in lines(client):
        if ev["event"] == "exited":
            mine = time.perf_counter()
            target = ev["id"]
            break
    for ev in watched:
        if ev["event"] == "exited" and ev["id"] == target:
            delays.append(time.perf_counter() - mine)
            break
    client.close()
delays.sort()
print(f"watch push latency over {n} commands: median {statistics.median(delays)*1e6:.0f} us, "
      f"p99 {delays[int(len(delays)*.99)]*1e6:.0f} us, max {delays[-1]*1e6:.0f} us (goal < 1000 us)")
PY
