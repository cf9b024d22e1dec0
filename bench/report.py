#!/usr/bin/env python3
"""bench/run's report: reads the raw figures bench/run left in RAW, prints the
goals table (figures, ratio, goal, held) and writes the JSON.

Usage: report.py RAW OUT MODE SECONDS SOURCE_DIR BUILD_DIR FAILED
Exit status 1 when a row has no figures (its benchmark could not run).
       report.py --markdown RESULTS.json   prints the table in Markdown"""
import datetime, json, os, platform, subprocess, sys

import rounds  # bench/rounds.py, beside this file


# A row's figures, as printed.
def figures(r):
    n = r["numbers"]
    if n is None:
        return "could not run: " + r["error"]
    k = r["id"]
    if k.startswith("latency"):
        peer = [x for x in n if x.endswith("_ms") and x not in ("hostexec_ms", "direct_ms")][0]
        return f"hostexec {n['hostexec_ms']:.2f} ms, {peer[:-3]} {n[peer]:.2f} ms"
    if k.startswith("throughput"):
        return f"hostexec {n['hostexec_per_s']:.0f}/s, limit-epoll {n['limit-epoll_per_s']:.0f}/s"
    if k == "rss_running":
        return f"{n['rss_mib']:.2f} MiB ({n['running']} running)"
    if k.startswith("rss"):
        return f"{n['rss_mib']:.2f} MiB"
    if k == "cold_start":
        return f"{n['median_ms']:.2f} ms"
    if k == "relay":
        return f"hostexec {n['hostexec_ms']:.0f} ms, script {n['script_ms']:.0f} ms"
    if k == "watch_p99":
        return f"p99 {n['p99_us']:.0f} us (median {n['median_us']:.0f})"
    if k == "applet":
        return f"democli {n['democli_ms']:.2f} ms, limit-epoll {n['limit-epoll_ms']:.2f} ms"
    return json.dumps(n)




if sys.argv[1] == "--markdown":
    # report.py --markdown RESULTS.json: the table as docs/performance.md has it.
    r = json.load(open(sys.argv[2]))
    print("| figure | medians | ratio | goal | held |\n| --- | --- | --- | --- | --- |")
    for x in r["rows"]:
        ratio = "" if x["ratio"] is None else f"{x['ratio']:.3f}"
        held = {True: "yes", False: "**no**", None: "-"}[x["held"]]
        print(f"| {x['figure']} | {figures(x)} | {ratio} | {x['goal']} | {held} |")
    sys.exit(0)

raw, out, mode, seconds, source, build, failed = sys.argv[1:8]
MiB = 1024  # KiB


def load_json(name):
    path = os.path.join(raw, name)
    return json.load(open(path)) if os.path.exists(path) else None


def hyperfine(name):
    """{command: {median_ms, mean_ms, stddev_ms, runs}} of a hyperfine export."""
    data = load_json(name)
    if not data:
        return {}
    return {r["command"]: {"median_ms": r["median"] * 1e3, "mean_ms": r["mean"] * 1e3,
                           "stddev_ms": (r["stddev"] or 0) * 1e3, "runs": len(r["times"])}
            for r in data["results"]}


rows = []


def row(key, figure, goal, numbers, ratio, held, method):
    rows.append({"id": key, "figure": figure, "goal": goal, "numbers": numbers,
                 "ratio": None if ratio is None else round(ratio, 3), "held": held, "method": method})


def missing(key, figure, goal, why):
    rows.append({"id": key, "figure": figure, "goal": goal, "numbers": None, "ratio": None,
                 "held": None, "error": why})


# hostexec /bin/true beside the peers; the applet call in the same run.
lat = hyperfine("latency.json")
need = ["hostexec", "limit-epoll", "limit.c", "flatpak-spawn"]
for key, peer, goal, limit in [("latency_vs_limit_epoll", "limit-epoll", "<= 1.05 x limit-epoll", 1.05),
                               ("latency_vs_limit_c", "limit.c", "<= 1.0 x limit.c", 1.0),
                               ("latency_vs_flatpak_spawn", "flatpak-spawn", "<= 0.25 x flatpak-spawn --host", 0.25)]:
    figure = f"hostexec /bin/true vs {peer}"
    if all(k in lat for k in need):
        r = lat["hostexec"]["median_ms"] / lat[peer]["median_ms"]
        row(key, figure, goal, {"hostexec_ms": lat["hostexec"]["median_ms"], f"{peer}_ms": lat[peer]["median_ms"],
                                "direct_ms": lat.get("direct", {}).get("median_ms"), "runs": lat["hostexec"]["runs"]},
            r, r <= limit, "hyperfine -N, one run with all commands; medians")
    else:
        missing(key, figure, goal, "latency run failed")

# Throughput: alternating rounds; per round commands/s of each side, the
# ratio of the round's pair; medians over the rounds.
path = os.path.join(raw, "throughput.txt")
throughput = rounds.pairs(path) if os.path.exists(path) else {}
for clients in (1, 16, 64):
    key, figure, goal = f"throughput_{clients}", f"throughput, {clients} client{'s' if clients > 1 else ''}", \
        ">= 0.95 x limit-epoll"
    pairs = throughput.get(clients)
    if not pairs:
        missing(key, figure, goal, "throughput run failed")
        continue
    mine, floor, r = rounds.summary(pairs, "hostexec", "limit-epoll")
    row(key, figure, goal, {"hostexec_per_s": mine, "limit-epoll_per_s": floor, "rounds": len(pairs)},
        r, r >= 0.95, "xargs -P clients, alternating rounds (A B, B A, ...); median of the rounds' ratios")

# Daemon RSS.
rss = {}
path = os.path.join(raw, "rss.txt")
if os.path.exists(path):
    for line in open(path):
        f = line.split()
        rss[f[0]] = [int(x) for x in f[1:]]
rss_method = "VmRSS of /proc/PID/status of a daemon of its own; commands counted by pfd ps --json"
if "idle" in rss:
    idle = rss["idle"][0]
    row("rss_idle", "daemon RSS idle", "<= 4 MiB", {"rss_mib": idle / MiB}, None, idle <= 4 * MiB, rss_method)
else:
    missing("rss_idle", "daemon RSS idle", "<= 4 MiB", "memory run failed")
if "running" in rss:
    count, kib = rss["running"]
    row("rss_running", "daemon RSS, 256 commands running", "<= 8 MiB", {"rss_mib": kib / MiB, "running": count},
        None, kib <= 8 * MiB and count >= 256, rss_method)
else:
    missing("rss_running", "daemon RSS, 256 commands running", "<= 8 MiB", "memory run failed")
if "after" in rss and "idle" in rss:
    kib = rss["after"][0]
    row("rss_after", "daemon RSS after they end", "<= idle + 1 MiB",
        {"rss_mib": kib / MiB, "idle_mib": rss["idle"][0] / MiB}, None, kib <= rss["idle"][0] + MiB, rss_method)
else:
    missing("rss_after", "daemon RSS after they end", "<= idle + 1 MiB", "memory run failed")

# Cold start.
cold = hyperfine("cold.json").get("hostexec -C (cold)")
if cold:
    row("cold_start", "cold start hostexec -C /bin/true", "<= 5 ms",
        {"median_ms": cold["median_ms"], "runs": cold["runs"]}, None, cold["median_ms"] <= 5,
        "hyperfine -N; daemon stopped, runtime directory emptied before each run")
else:
    missing("cold_start", "cold start hostexec -C /bin/true", "<= 5 ms", "cold start run failed")

# Relay throughput: the same stream through both, so time ratio = throughput ratio.
# One run of each per round: a rate is 1 / its time.
path = os.path.join(raw, "relay.txt")
relay_pairs = rounds.pairs(path).get(1) if os.path.exists(path) else None
if relay_pairs:
    mine, local, r = rounds.summary(relay_pairs, "hostexec", "script")
    row("relay", "hostexec -t relay, 100 MB", ">= 1.0 x script -qc cat",
        {"hostexec_ms": 1000 / mine, "script_ms": 1000 / local, "rounds": len(relay_pairs)},
        r, r >= 1.0, "alternating rounds (A B, B A, ...), one run of each per round; "
        "median of the rounds' throughput ratios (script's time / hostexec's)")
else:
    missing("relay", "hostexec -t relay, 100 MB", ">= 1.0 x script -qc cat", "relay run failed")

# Watch push latency.
watch = load_json("watch.json")
if watch:
    row("watch_p99", "pfd watch push latency p99", "< 200 us",
        {"p99_us": watch["p99_us"], "median_us": watch["median_us"], "max_us": watch["max_us"], "commands": watch["n"]},
        None, watch["p99_us"] < 200, "client's exited event to the watcher's, one process (bench/watch_latency.py)")
else:
    missing("watch_p99", "pfd watch push latency p99", "< 200 us", "watch run failed")

# Applet call, from the latency run.
if "democli add" in lat and "limit-epoll" in lat:
    r = lat["democli add"]["median_ms"] / lat["limit-epoll"]["median_ms"]
    row("applet", "applet call democli add 1 2 3", "<= 0.6 x limit-epoll /bin/true",
        {"democli_ms": lat["democli add"]["median_ms"], "limit-epoll_ms": lat["limit-epoll"]["median_ms"],
         "runs": lat["democli add"]["runs"]}, r, r <= 0.6, "hyperfine -N, in the latency run")
else:
    missing("applet", "applet call democli add 1 2 3", "<= 0.6 x limit-epoll /bin/true", "latency run failed")


print(f"\n{'figure':<38} {'medians':<44} {'ratio':>6}  {'goal':<32} held")
for r in rows:
    held = {True: "yes", False: "NO", None: "-"}[r["held"]]
    ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
    print(f"{r['figure']:<38} {figures(r):<44} {ratio:>6}  {r['goal']:<32} {held}")
print(f"\n{sum(r['held'] is True for r in rows)} of {len(rows)} goals held ({mode} run, {seconds} s)")
if mode == "quick":
    print("(a quick run: a few runs per row, for checking that it works; quote only bench/run --full)")


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def git(*args):
    try:
        return subprocess.run(["git", "-C", source, *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


result = {
    "mode": mode,
    "seconds": int(seconds),
    "machine": {"nproc": os.cpu_count(), "model": cpu_model(), "kernel": platform.release(),
                "loadavg_at_end": os.getloadavg()},
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "git": {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
    "build": build,
    "rows": rows,
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print(f"written: {out}")
sys.exit(1 if failed or any(r["numbers"] is None for r in rows) else 0)
