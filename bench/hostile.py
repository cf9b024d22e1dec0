#!/usr/bin/env python3
"""Hostile clients against a running daemon, and what the daemon holds meanwhile.

  bench/hostile.py --socket S --pid P [--hostexec H] [--as-uid U]
                   [--connections 300] [--bytes 1000000] [--fds 60] [--hold-s 3]

Opens CONNECTIONS connections (as uid U through setpriv when given), sends on
each a request line of BYTES bytes that never ends, with FDS descriptors
attached, and keeps them open for HOLD seconds while a legitimate
`hostexec true` runs now and then; samples the daemon's RSS and open
descriptors all along; then closes everything and waits (bounded) for the
daemon to let go. Prints one line per figure and, with --json, a JSON object.
The attack half runs as `hostile.py attack ...` (the other uid's process).
"""
import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time


def attack(args):
    payload = b'{"pfd":1,"op":"exec","argv":["' + b"a" * args.bytes  # no newline, ever
    devnull = [os.open("/dev/null", os.O_RDONLY) for _ in range(args.fds)]
    sel = selectors.DefaultSelector()
    conns = []
    refused = 0
    for _ in range(args.connections):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(args.socket)
        except OSError:
            refused += 1
            s.close()
            continue
        s.setblocking(False)
        conns.append(s)
        sel.register(s, selectors.EVENT_WRITE, [0, True])
    deadline = time.monotonic() + args.send_s
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s, state = key.fileobj, key.data
            try:
                chunk = payload[state[0]:state[0] + 65536]
                n = socket.send_fds(s, [chunk], devnull if state[1] else [])
                state[0] += n
                state[1] = False
            except BlockingIOError:
                continue
            except OSError:  # refused or dropped by the daemon
                sel.unregister(s)
                refused += 1
                continue
            if state[0] >= len(payload):
                sel.unregister(s)
    print(f"sent {len(conns)} {refused}", flush=True)
    sys.stdin.read()  # held until the measuring side closes our stdin
    for s in conns:
        s.close()


def daemon_figures(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def legit(hostexec, sock):
    t = time.monotonic()
    r = subprocess.run([hostexec, "--socket", sock, "true"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    return r.returncode, (time.monotonic() - t) * 1000, r.stderr.decode(errors="replace").strip()


def measure(args):
    for _ in range(20):  # warm: the idle figure of a daemon that has served
        legit(args.hostexec, args.socket)
    idle_rss, idle_fds = daemon_figures(args.pid)
    peak = [idle_rss, idle_fds]
    sampling = True

    def sample():
        while sampling:
            try:
                rss, fds = daemon_figures(args.pid)
            except OSError:
                return
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], fds)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    cmd = [sys.executable, os.path.abspath(__file__), "attack", "--socket", args.socket,
           "--connections", str(args.connections), "--bytes", str(args.bytes), "--fds", str(args.fds)]
    nofile = str(max(4096, args.connections * (args.fds + 1) + 64))
    cmd = ["prlimit", f"--nofile={nofile}:{nofile}"] + (
        ["setpriv", f"--reuid={args.as_uid}", f"--regid={args.as_uid}", "--clear-groups"] if args.as_uid else []) + cmd
    attacker = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/")
    served = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.hold_s:
        served.append(legit(args.hostexec, args.socket))
    report = attacker.stdout.readline().decode().split()
    served.append(legit(args.hostexec, args.socket))
    attacker.stdin.close()
    attacker.wait(timeout=60)
    sampling = False
    sampler.join()

    for _ in range(5):  # the daemon gives memory back once idle
        legit(args.hostexec, args.socket)
    deadline = time.monotonic() + 10  # until the last sessions have ended, bounded
    while time.monotonic() < deadline and daemon_figures(args.pid)[1] > idle_fds:
        time.sleep(0.01)
    after_rss, after_fds = daemon_figures(args.pid)
    ok = sum(1 for code, _, _ in served if code == 0)
    lat = sorted(ms for code, ms, _ in served if code == 0)
    out = {
        "connections": args.connections, "bytes": args.bytes, "fds": args.fds,
        "attacker_uid": args.as_uid or os.getuid(),
        "held": int(report[1]) if len(report) > 2 else None,
        "refused_or_dropped": int(report[2]) if len(report) > 2 else None,
        "idle_rss_kib": idle_rss, "peak_rss_kib": peak[0], "after_rss_kib": after_rss,
        "idle_fds": idle_fds, "peak_fds": peak[1], "after_fds": after_fds,
        "legit_runs": len(served), "legit_ok": ok,
        "legit_median_ms": round(lat[len(lat) // 2], 2) if lat else None,
        "legit_errors": sorted({e for code, _, e in served if code != 0})[:3],
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:20} {v}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", nargs="?", default="measure", choices=["measure", "attack"])
    p.add_argument("--socket", required=True)
    p.add_argument("--pid", type=int)
    p.add_argument("--hostexec", default="build/hostexec")
    p.add_argument("--as-uid", type=int, default=0)
    p.add_argument("--connections", type=int, default=300)
    p.add_argument("--bytes", type=int, default=1000000)
    p.add_argument("--fds", type=int, default=60)
    p.add_argument("--hold-s", type=float, default=3.0)
    p.add_argument("--send-s", type=float, default=10.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.mode == "attack":
        attack(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
