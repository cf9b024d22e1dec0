#!/usr/bin/env python3
"""A pfd client in Python (standard library only), written from docs/protocol.md.

Used as a test: it starts a real `pfd serve` ($PFD_BIN) on a temporary socket,
runs commands with its own descriptors attached (socket.send_fds), and checks
what the protocol document promises: events, exit codes and signals, byte
strings, errors. Prints "All tests passed (N assertions in M test cases)" like
Catch2 so the suite's summary counts it.
"""
import base64, json, os, shutil, socket, subprocess, sys, tempfile

checks = cases = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def events(sock):
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk


def byte_string(value: bytes):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(value).decode()}


def run(path, argv, fds, env=None, cwd="/", cwd_fd=None):
    """Runs argv with `fds` ([(descriptor, number in the command)]), in the
    directory `cwd_fd` (a descriptor) if given; returns the events."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    request = {"pfd": 1, "op": "exec", "argv": [byte_string(a) for a in argv],
               "env": env if env is not None else ["PATH=/usr/bin:/bin"], "cwd": cwd,
               "fds": [target for _, target in fds], "client": "pfd_client.py/1"}
    attached = [fd for fd, _ in fds]
    if cwd_fd is not None:
        request["cwd_fd"] = True
        attached.insert(0, cwd_fd)
    socket.send_fds(s, [json.dumps(request).encode() + b"\n"], attached)
    out = list(events(s))
    s.close()
    return out


def main():
    global cases
    work = tempfile.mkdtemp(prefix="pfd-py-")
    path = os.path.join(work, "pfd.sock")
    ready_r, ready_w = os.pipe()
    daemon = subprocess.Popen([os.environ["PFD_BIN"], "serve", "--socket", path, "--ready-fd", str(ready_w)],
                              pass_fds=[ready_w], stdin=subprocess.DEVNULL)
    os.close(ready_w)
    check(os.read(ready_r, 1) == b"\n", "the daemon announces readiness")
    try:
        cases += 1  # output through our own pipe, exit code
        r, w = os.pipe()
        null = os.open("/dev/null", os.O_RDONLY)
        evs = run(path, [b"sh", b"-c", b"echo hello; exit 7"], [(null, 0), (w, 1), (w, 2)])
        os.close(w)
        check(os.read(r, 100) == b"hello\n", "output arrives through the attached pipe")
        names = [e["event"] for e in evs]
        check(names == ["accepted", "started", "exited"], f"event order {names}")
        check(evs[-1]["code"] == 7, "exit code 7")
        check(evs[0]["id"] == evs[2]["id"], "one id for the session")

        cases += 1  # death by signal
        evs = run(path, [b"sh", b"-c", b"kill -SEGV $$"], [(null, 0)])
        check(evs[-1]["event"] == "exited" and evs[-1]["signal"] == "SEGV" and evs[-1]["signo"] == 11,
              f"death by SIGSEGV reported: {evs[-1]}")

        cases += 1  # a Latin-1 argument travels as b64 and arrives byte for byte
        r, w = os.pipe()
        evs = run(path, [b"printf", b"%s", b"caf\xe9"], [(w, 1)])
        os.close(w)
        check(os.read(r, 100) == b"caf\xe9", "Latin-1 argument byte for byte")

        cases += 1  # the working directory by path, and as a descriptor whatever the path says
        here = os.path.join(work, "here")
        os.mkdir(here)
        r, w = os.pipe()
        run(path, [b"pwd"], [(w, 1)], cwd=here)
        check(os.read(r, 4096) == here.encode() + b"\n", "cwd by path")
        dirfd = os.open(here, os.O_PATH | os.O_DIRECTORY)
        evs = run(path, [b"pwd"], [(w, 1)], cwd="/nonexistent/elsewhere", cwd_fd=dirfd)
        os.close(dirfd)
        os.close(w)
        check(evs[-1].get("code") == 0, f"cwd_fd run: {evs[-1]}")
        check(os.read(r, 4096) == here.encode() + b"\n", "cwd_fd wins over the path")

        cases += 1  # errors
        evs = run(path, [b"pfd-no-such-command"], [])
        check(evs[-1] == {"event": "error", "code": "not_found", "message": evs[-1]["message"]}, "not_found")
        evs = run(path, [b"true"], [(null, 0)], cwd="relative")
        check(evs[-1]["code"] == "bad_request", "relative cwd is bad_request")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        socket.send_fds(s, [b'{"pfd":1,"op":"exec","argv":["true"],"cwd":"/","fds":[0,1]}\n'], [null])
        check(list(events(s))[-1]["code"] == "fd_mismatch", "fd_mismatch")
        s.close()

        cases += 1  # ping and status
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b'{"pfd":1,"op":"status"}\n')
        status = next(events(s))
        check(status["event"] == "status" and status["pid"] == daemon.pid, f"status {status}")
        s.close()
    finally:
        daemon.terminate()
        check(daemon.wait(timeout=30) == 0, "the daemon stops cleanly")
        shutil.rmtree(work, ignore_errors=True)
    print(f"All tests passed ({checks} assertions in {cases} test cases)")


if __name__ == "__main__":
    main()
