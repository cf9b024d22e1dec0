#!/usr/bin/env python3
"""`pfd watch` push latency (bench/watch.sh, bench/run): a watcher and a client
in one process (standard library only, written from docs/protocol.md); for
each command, the time from the client reading its own `exited` event to the
watcher reading the same event.

Usage: watch_latency.py SOCKET COMMANDS [JSON_OUT]
Prints one line; with JSON_OUT also writes {n, median_us, p99_us, max_us}.
Every socket read times out after 10 s, so a lost event ends the run."""
import json, os, socket, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "clients"))
from pfd_client import events as lines  # the NDJSON reader of the protocol's Python client

path, n = sys.argv[1], int(sys.argv[2])

watcher = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
watcher.settimeout(10)
watcher.connect(path)
watcher.sendall(b'{"pfd":1,"op":"watch"}\n')
watched = lines(watcher)
assert next(watched)["event"] == "watching"

null = os.open("/dev/null", os.O_RDWR)
delays = []
for _ in range(n):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(10)
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
result = {"n": n, "median_us": statistics.median(delays) * 1e6,
          "p99_us": delays[int(len(delays) * .99)] * 1e6, "max_us": delays[-1] * 1e6}
print(f"watch push latency over {n} commands: median {result['median_us']:.0f} us, "
      f"p99 {result['p99_us']:.0f} us, max {result['max_us']:.0f} us")
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as f:
        json.dump(result, f)
