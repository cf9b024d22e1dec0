#!/usr/bin/env python3
"""Multi-container soak (docs/soak.md): one real daemon, 8 "containers"
(unshare with new user, pid and mount namespaces; bwrap and rootless podman
for some of them where they run here), each running 32 client loops
(tests/soak/soak_driver.cpp) for PFD_SOAK_SECONDS (default 45) with a mix of
short commands, 10 MB outputs, failures, deaths by a signal, Ctrl-C
forwarded, cancels from another connection, stalled watchers and clients
killed mid-command. Then: every status as expected, every output byte in
place, nothing left running, no zombie, the daemon's descriptors, children
and sessions back to the baseline and its RSS near it. Prints the figures,
writes them to PFD_SOAK_REPORT, and ends with a Catch2-style summary for
scripts/test.

Run as root with the test user of scripts/setup-test-tools (pfdtest), the
daemon and every container run as that user, as a per-user daemon and
rootless podman do; otherwise as the current user."""

import json
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SECONDS = int(os.environ.get("PFD_SOAK_SECONDS", "45"))
def built_with_asan(binary):
    try:
        return b"libasan" in subprocess.run(["ldd", binary], capture_output=True).stdout
    except OSError:
        return False


# Sanitized clients are slow and large: 256 of them on two cores starve
# everything (a load average over 100, clients too slow to send their request
# within the daemon's 5 s), so a sanitized build soaks with 4 loops per
# container: still every kind of operation at once.
LOOPS = int(os.environ.get("PFD_SOAK_LOOPS", "4" if built_with_asan(os.environ.get("PFD_BIN", "")) else "32"))
CONTAINERS = 8
RSS_MARGIN_KIB = int(os.environ.get("PFD_SOAK_RSS_MARGIN_KIB", str(8 * 1024)))
# Extra `pfd serve` arguments, e.g. "--threads 4" (empty: the defaults).
DAEMON_ARGS = os.environ.get("PFD_SOAK_DAEMON_ARGS", "").split()
# Only these operations of the mix, e.g. "true,exit,big" (empty: all).
ONLY = os.environ.get("PFD_SOAK_OPS", "")
SHORT_OPS = ("true", "exit")

checks = 0
failures = []


def summary():
    if failures:
        print(f"test cases: 1 | 0 passed | 1 failed")
        sys.exit(1)
    print(f"All tests passed ({checks} assertions in 1 test case)")
    sys.exit(0)


def skip(why):
    print(f"skipped: {why}")
    summary()


def check(what, ok, detail=""):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print(f"FAILED: {what}" + (f"\n  {detail}" if detail else ""))
    return ok


def eventually(cond, timeout, step=0.05):
    """Polls cond until true or timeout (never a sleep for readiness)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def first_line(text):
    text = text.strip()
    return text.splitlines()[0] if text else "(no message)"


# --- the daemon's process, from /proc -------------------------------------

def stat_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1])  # state, ppid
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = stat_of(int(name))
            if s and s[1] == pid:
                out.append((int(name), s[0]))
    return out


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def cpu_seconds(pid):
    """utime + stime of a process (not its children's), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in rest[11:13]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def ping_ms(sock_path):
    """One ping round trip (connect, request, answer) in ms, None on failure."""
    import socket
    t0 = time.monotonic()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(sock_path)
            s.sendall(b'{"pfd":1,"op":"ping"}\n')
            data = b""
            while b"\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
        return (time.monotonic() - t0) * 1000 if b"pong" in data else None
    except OSError:
        return None


def fd_list(pid):
    out = []
    try:
        for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
            try:
                out.append(f"{fd}->{os.readlink(f'/proc/{pid}/fd/{fd}')}")
            except OSError:
                pass
    except OSError:
        pass
    return " ".join(out)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def marked_processes(token, daemon_pid):
    """Processes (but the daemon) whose environment carries the soak's mark."""
    mark = f"PFD_SOAK_MARK={token}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == daemon_pid:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if mark in f.read().split(b"\0"):
                    with open(f"/proc/{name}/cmdline", "rb") as c:
                        cmd = c.read().replace(b"\0", b" ").decode(errors="replace").strip()
                    found.append(f"{name}:{stat_of(int(name)) or '?'}:{cmd}")
        except OSError:
            pass
    return found


def percentile(values, p):
    if not values:
        return 0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def main():
    for var in ("PFD_BIN", "HOSTEXEC_BIN", "PROBE_BIN", "SOAK_DRIVER_BIN"):
        if not os.environ.get(var):
            skip(f"{var} is not set (run through meson test)")
    pfd_bin, hostexec_bin = os.environ["PFD_BIN"], os.environ["HOSTEXEC_BIN"]
    probe_bin, driver_bin = os.environ["PROBE_BIN"], os.environ["SOAK_DRIVER_BIN"]
    report_path = os.environ.get("PFD_SOAK_REPORT", "")
    if not shutil.which("unshare"):
        skip("unshare is not installed")

    # Whom everything runs as.
    as_user, user = [], None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(os.environ.get("PFD_TEST_USER", "pfdtest"))
        except KeyError:
            user = None
        if user and shutil.which("setpriv"):
            as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
        else:
            user = None
    T = tempfile.mkdtemp(prefix="pfd-soak.", dir="/tmp")
    os.chmod(T, 0o755)
    if user:  # podman makes its storage directories in it
        os.chown(T, user.pw_uid, user.pw_gid)
    # -C: meson runs tests from the build directory, which may be in a 0700
    # home the test user cannot enter.
    env_base = ["env", "-i", "-C", T, "PATH=/usr/bin:/bin:/usr/sbin:/sbin", f"HOME={T}/home", f"XDG_RUNTIME_DIR={T}/xdg"]
    run_as = as_user + env_base

    def own(path, mode):
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if user:
            os.chown(path, user.pw_uid, user.pw_gid)

    for d, mode in (("home", 0o700), ("xdg", 0o700), ("run", 0o700), ("inside", 0o755), ("logs", 0o755)):
        own(f"{T}/{d}", mode)
    # The binaries where the user (and every container) can reach them.
    os.makedirs(f"{T}/bin")
    os.chmod(f"{T}/bin", 0o755)
    for src in (pfd_bin, os.path.join(os.path.dirname(pfd_bin), "pfd-session"), hostexec_bin, probe_bin, driver_bin):
        shutil.copy(src, f"{T}/bin/")
    B = f"{T}/bin"

    daemon = None
    state = {}
    containers = []
    podman = []

    def cleanup():
        for p in containers:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        if podman:
            subprocess.run(podman + ["rm", "-af"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                with open(f"{T}/ptmp/pause.pid") as f:
                    os.kill(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if daemon and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(T, ignore_errors=True)

    try:
        run_soak(T, B, run_as, user, report_path, containers, podman, state)
    finally:
        daemon = state.get("daemon")
        cleanup()


def run_soak(T, B, run_as, user, report_path, containers, podman, state):
    token = secrets.token_hex(6)
    sock, inside = f"{T}/run/pfd.sock", f"{T}/inside/pfd.sock"
    who = user.pw_name if user else pwd.getpwuid(os.geteuid()).pw_name
    print(f"soak: {CONTAINERS} containers x {LOOPS} loops for {SECONDS} s, as {who}, in {T} (mark {token})")

    # Can unshare make a container here at all?
    probe = subprocess.run(run_as + ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount",
                                     "--mount-proc", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip(f"unshare cannot make user+pid+mount namespaces here: {first_line(probe.stderr)}")

    # The daemon, ready when it says so; every command it starts inherits the mark.
    r, w = os.pipe()
    log = open(f"{T}/daemon.log", "wb")
    daemon = subprocess.Popen(run_as + [f"PFD_SOAK_MARK={token}", f"{B}/pfd", "serve", "--socket", sock,
                                        "--ready-fd", str(w), *DAEMON_ARGS],
                              pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              start_new_session=True)
    state["daemon"] = daemon
    os.close(w)
    ready, _, _ = select.select([r], [], [], 30)
    if not ready or os.read(r, 1) != b"\n":
        check("the daemon gets ready", False, open(f"{T}/daemon.log", errors="replace").read()[-2000:])
        summary()
    os.close(r)
    dpid = daemon.pid

    def pfd(*args):
        return subprocess.run(run_as + [f"{B}/pfd", *args, "--socket", sock], capture_output=True, text=True,
                              timeout=60)

    def sessions():
        p = pfd("ps", "--json")
        try:
            return len(json.loads(p.stdout)["sessions"]) if p.returncode == 0 else -1
        except (ValueError, KeyError, TypeError):
            return -1

    def hostexec(*args):
        return subprocess.run(run_as + [f"{B}/hostexec", "--socket", sock, *args], capture_output=True,
                              text=True, timeout=60)

    # Warm up (the first commands grow the allocator's arenas), then the baseline.
    cold_rss = rss_kib(dpid)
    for _ in range(8):
        hostexec("true")
    pfd("status")
    base = {"fds": fd_count(dpid), "children": len(children_of(dpid)), "rss": rss_kib(dpid),
            "sessions": sessions(), "zombies": sum(1 for _, s in children_of(dpid) if s == "Z")}
    print(f"baseline: {base} (RSS before any command {cold_rss} KiB)")
    check("the baseline has no session and no child", base["sessions"] == 0 and base["children"] == 0, str(base))

    # The kinds of container, the substitutions said in one line each.
    kinds = ["unshare-root", "unshare-user"] * (CONTAINERS // 2)
    bw = subprocess.run(run_as + ["bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--dev",
                                  "/dev", "--proc", "/proc", "true"], capture_output=True, text=True) \
        if shutil.which("bwrap") else None
    if bw is None:
        print("bwrap: not installed; unshare instead")
    elif bw.returncode != 0:
        print(f"bwrap: cannot make a sandbox here ({first_line(bw.stderr)}); unshare instead")
    else:
        kinds[1], kinds[2] = "bwrap", "bwrap-uid0"
    why = podman_unusable(T, B, run_as, user, podman)
    if why:
        print(f"podman: {why}; unshare instead")
    else:
        kinds[3], kinds[4] = "podman", "podman"

    def command(i, kind):
        name = f"c{i}"
        tail = [name, str(LOOPS), str(SECONDS)]
        only = [ONLY] if ONLY else []
        rest = [f"{B}/hostexec", f"{B}/probe", f"{T}/logs", token, *only]
        if kind.startswith("unshare"):
            mapping = ["--map-root-user"] if kind == "unshare-root" else ["--map-current-user", "--keep-caps"]
            return run_as + ["unshare", "--user", *mapping, "--pid", "--fork", "--mount", "--mount-proc",
                             "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh",
                             f"{T}/run", f"{T}/inside", f"{B}/soak_driver", *tail, inside, *rest]
        if kind.startswith("bwrap"):
            ids = ["--uid", "0", "--gid", "0"] if kind == "bwrap-uid0" else []
            return run_as + ["bwrap", "--unshare-user", *ids, "--unshare-pid", "--die-with-parent",
                             "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                             "--bind", f"{T}/run", f"{T}/inside", "--bind", f"{T}/logs", f"{T}/logs",
                             "--", f"{B}/soak_driver", *tail, inside, *rest]
        return podman + ["run", "--rm", "--network=none", "--userns=keep-id", "--name", f"pfd-soak-{name}",
                         "-v", f"{T}/run:/run/pfd", "-v", f"{B}:/soak/bin:ro", "-v", f"{T}/logs:/soak/logs",
                         "--rootfs", f"{T}/rootfs", "/soak/bin/soak_driver", *tail, "/run/pfd/pfd.sock",
                         "/soak/bin/hostexec", f"{B}/probe", "/soak/logs", token, *only]

    print("containers: " + " ".join(f"c{i}={k}" for i, k in enumerate(kinds)))
    start = time.monotonic()
    for i, kind in enumerate(kinds):
        out = open(f"{T}/c{i}.out", "wb")
        containers.append(subprocess.Popen(command(i, kind), stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True))

    # Under the soak: the daemon's peaks, and a ping from the host now and
    # then (its round trip is the wait to be accepted, with no process start).
    peak = {"rss": 0, "fds": 0, "children": 0}
    pings, failed_pings = [], 0
    cpu0 = cpu_seconds(dpid)
    bound = start + SECONDS + 300
    next_ping = start + 2
    while any(p.poll() is None for p in containers) and time.monotonic() < bound:
        peak["rss"] = max(peak["rss"], rss_kib(dpid))
        peak["fds"] = max(peak["fds"], fd_count(dpid))
        peak["children"] = max(peak["children"], len(children_of(dpid)))
        if time.monotonic() >= next_ping and time.monotonic() < start + SECONDS:
            ms = ping_ms(sock)
            if ms is None:
                failed_pings += 1
            else:
                pings.append(ms)
            next_ping = time.monotonic() + 1
        time.sleep(0.25)
    wall = time.monotonic() - start
    cpu = cpu_seconds(dpid) - cpu0
    check("every ping under the soak was answered", failed_pings == 0, f"{failed_pings} failed")
    for i, p in enumerate(containers):
        if not check(f"container c{i} ({kinds[i]}) ends within {SECONDS + 300} s", p.poll() is not None):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        output = open(f"{T}/c{i}.out", errors="replace").read().strip()
        check(f"container c{i} ({kinds[i]}): every loop ran to its end (exit {p.returncode})",
              p.returncode == 0 and os.path.exists(f"{T}/logs/c{i}.done"), output[-1500:])

    # Every operation each loop logged.
    line_re = re.compile(r"^op=(\S+) tag=(\S+) exp=(-?\d+) got=(-?\d+) us=(\d+) ok=([01]) detail=(.*)$")
    ops, errors, short_us, per_op, per_kind, op_us = 0, [], [], {}, {}, {}
    watch = {"dropped": 0, "kept": 0}
    ended_loops = 0
    for i in range(CONTAINERS):
        for k in range(LOOPS):
            path = f"{T}/logs/c{i}-l{k}.log"
            lines = open(path, errors="replace").read().splitlines() if os.path.exists(path) else []
            if lines and lines[-1].startswith("end ops="):
                ended_loops += 1
            for line in lines:
                m = line_re.match(line)
                if not m:
                    continue
                op, tag, exp, got, us, ok, detail = m.groups()
                ops += 1
                per_op[op] = per_op.get(op, 0) + 1
                per_kind[kinds[i]] = per_kind.get(kinds[i], 0) + 1
                if ok != "1":
                    errors.append(f"c{i}({kinds[i]}) {line}")
                else:
                    op_us.setdefault(op, []).append(int(us))
                    if op in SHORT_OPS:
                        short_us.append(int(us))
                if op == "watch" and ok == "1":
                    watch["dropped" if detail.startswith("dropped") else "kept"] += 1
    check(f"all {CONTAINERS * LOOPS} loops logged their end", ended_loops == CONTAINERS * LOOPS,
          f"{ended_loops} did")
    check("operations ran", ops > 0)
    check(f"no lost or wrong exit status, no lost or reordered byte ({len(errors)} of {ops} operations wrong)",
          not errors, "\n  ".join(errors[:25]))

    # Afterwards: nothing left, the daemon back where it started (bounded polls).
    left = eventually(lambda: not marked_processes(token, dpid), 30)
    check("no command left running", left, "\n  ".join(marked_processes(token, dpid)[:20]))
    check("the daemon is alive", daemon.poll() is None)
    zombies = lambda: sum(1 for _, s in children_of(dpid) if s == "Z")
    check("no zombie", eventually(lambda: zombies() == 0, 10), f"{zombies()} zombies")
    check("children back to the baseline", eventually(lambda: len(children_of(dpid)) == base["children"], 10),
          f"{children_of(dpid)}")
    check("no session left", eventually(lambda: sessions() == base["sessions"], 10, 0.2),
          pfd("ps").stdout[-2000:])
    check("descriptors back to the baseline", eventually(lambda: fd_count(dpid) == base["fds"], 20),
          f"{fd_count(dpid)} against {base['fds']}: {fd_list(dpid)[:2000]}")
    # A sanitizer's quarantine keeps freed memory: RSS says nothing there.
    sanitized = b"libasan" in subprocess.run(["ldd", f"{B}/pfd"], capture_output=True).stdout
    if sanitized:
        after_rss = rss_kib(dpid)
        print("RSS not checked: the daemon is built with AddressSanitizer (its quarantine keeps freed memory)")
    else:
        rss_ok = eventually(lambda: rss_kib(dpid) <= base["rss"] + RSS_MARGIN_KIB, 15, 0.2)
        after_rss = rss_kib(dpid)
        check(f"RSS back near the baseline (+{RSS_MARGIN_KIB} KiB at most)", rss_ok,
              f"{after_rss} KiB against {base['rss']} KiB")
    still = hostexec("sh", "-c", "exit 7")
    check("the daemon still serves", still.returncode == 7, still.stderr)
    status = pfd("status", "--json")
    try:
        st = json.loads(status.stdout)
    except ValueError:
        st = {}

    figures = [
        f"soak: daemon `pfd serve {' '.join(DAEMON_ARGS) or '(defaults)'}`,"
        f"{' operations ' + ONLY + ',' if ONLY else ''} {CONTAINERS} containers ({', '.join(f'{k} {kinds.count(k)}' for k in dict.fromkeys(kinds))}),"
        f" {LOOPS} loops each, {SECONDS} s (wall {wall:.1f} s)",
        f"operations: {ops} ({ops / wall:.1f}/s); errors: {len(errors)}",
        "per operation: " + ", ".join(f"{k} {v}" for k, v in sorted(per_op.items())),
        "p50/p99 ms per operation (ctrlc, cancel, kill9: from \"up\" to the end): " + ", ".join(
            f"{k} {percentile(v, 50) / 1000:.0f}/{percentile(v, 99) / 1000:.0f}" for k, v in sorted(op_us.items())),
        "per container kind: " + ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items())),
        f"short commands (true, exit N): {len(short_us)}, latency p50 {percentile(short_us, 50) / 1000:.1f} ms,"
        f" p99 {percentile(short_us, 99) / 1000:.1f} ms, max {max(short_us or [0]) / 1000:.1f} ms",
        f"daemon's own figure (connection to start, last 1024): p99 {st.get('latency_p99_us', '?')} us,"
        f" served {st.get('served', '?')}",
        f"ping from the host under the soak (connect to pong): {len(pings)}, p50 {percentile(pings, 50):.1f} ms,"
        f" max {max(pings or [0]):.1f} ms",
        f"daemon CPU over the soak: {cpu:.1f} s ({cpu / wall * 100:.0f}% of one core,"
        f" {cpu * 1000 / max(1, ops):.2f} ms per operation); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        f"stalled watchers: {watch['dropped']} dropped by the daemon, {watch['kept']} kept up with",
        f"RSS: {cold_rss} KiB cold, {base['rss']} KiB baseline, {peak['rss']} KiB peak, {after_rss} KiB after",
        f"descriptors: {base['fds']} baseline, {peak['fds']} peak, {fd_count(dpid)} after;"
        f" children: peak {peak['children']}, after {len(children_of(dpid))}",
    ]
    print("\n".join(figures))
    if report_path:
        try:
            with open(report_path, "w") as f:
                f.write("\n".join(figures) + "\n" + "".join(f"{e}\n" for e in errors[:200]))
            print(f"figures written to {report_path}")
        except OSError as e:
            print(f"cannot write {report_path}: {e}")
    if failures and report_path:
        keep = os.path.join(os.path.dirname(report_path), "soak-logs")
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(f"{T}/logs", keep)
        shutil.copy(f"{T}/daemon.log", keep)
        print(f"loop logs kept in {keep}")

    daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(60)
    except subprocess.TimeoutExpired:
        code = None
    check("the daemon stops cleanly on SIGTERM", code == 0,
          f"status {code}: " + open(f"{T}/daemon.log", errors="replace").read()[-2000:])
    summary()


def podman_unusable(T, B, run_as, user, podman):
    """Why rootless podman cannot run the soak's containers, or None (then
    `podman` holds its command, over a busybox root as podman_setup.sh)."""
    if not user and os.geteuid() == 0:
        return "running as root without the test user (scripts/setup-test-tools makes pfdtest)"
    for tool in ("podman", "runc", "busybox"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    for b in ("hostexec", "soak_driver"):
        if subprocess.run(["ldd", f"{B}/{b}"], capture_output=True).returncode == 0:
            return f"{b} is not static (-Dstatic_client=false) and the container has no C library"
    uname = user.pw_name if user else pwd.getpwuid(os.geteuid()).pw_name
    try:
        with open("/etc/subuid") as f:
            if not any(line.startswith(uname + ":") for line in f):
                return f"{uname} has no subordinate uids in /etc/subuid"
    except OSError:
        return "no /etc/subuid"
    cmd = run_as + ["podman", "--root", f"{T}/storage", "--runroot", f"{T}/runroot", "--tmpdir", f"{T}/ptmp",
                    "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                    "--runtime", "runc", "--log-level=error"]
    info = subprocess.run(cmd + ["info"], capture_output=True, text=True)
    if info.returncode != 0:
        return f"rootless podman cannot run here: {first_line(info.stderr)}"
    # A root file system of busybox (podman creates its mount points in it).
    R = f"{T}/rootfs"
    for d in ("bin", "etc", "proc", "dev", "sys", "tmp", "run/pfd", "soak/bin", "soak/logs"):
        os.makedirs(f"{R}/{d}", exist_ok=True)
    shutil.copy(shutil.which("busybox"), f"{R}/bin/busybox")
    applets = subprocess.run([f"{R}/bin/busybox", "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", f"{R}/bin/{a}")
    os.chmod(f"{R}/tmp", 0o1777)
    uid, gid = (user.pw_uid, user.pw_gid) if user else (os.getuid(), os.getgid())
    with open(f"{R}/etc/passwd", "w") as f:
        f.write(f"root:x:0:0::/:/bin/sh\n{uname}:x:{uid}:{gid}::/:/bin/sh\n")
    with open(f"{R}/etc/group", "w") as f:
        f.write(f"root:x:0:\n{uname}:x:{gid}:\n")
    for name in ("hosts", "hostname", "resolv.conf"):
        open(f"{R}/etc/{name}", "w").close()
    if user:
        subprocess.run(["chown", "-R", f"{uid}:{gid}", R], check=True)
    podman.extend(cmd)
    trial = subprocess.run(podman + ["run", "--rm", "--network=none", "--userns=keep-id", "--rootfs", R, "true"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if trial.returncode != 0:
        return f"a podman container does not start here: {first_line(trial.stderr)}"
    return None


if __name__ == "__main__":
    main()
