#!/usr/bin/env bash
# The meson test of bench/run (suite bench): `bench/run --quick` runs and
# writes a results.json with every row of the goals table measured. It never
# checks a figure against its goal: a slow machine is no failure. Skips
# (exit 77, saying why) without ../shared/bench/anchors.sh, or without the
# peers' tools when not root (as root anchors.sh installs them).
#
# Usage: bench/smoke_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "$1")
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$here/../../shared/bench/anchors.sh" ] || skip "no ../shared/bench/anchors.sh beside the source tree"
if [ "$(id -u)" != 0 ]; then
  for tool in hyperfine dbus-daemon /usr/libexec/flatpak-session-helper /usr/libexec/flatpak-xdg-utils/flatpak-spawn; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (anchors.sh installs it as root)"
  done
fi
out=$(mktemp -d /tmp/pfd-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$here/run" --quick --out "$out/results.json" "$build" || { echo "FAILED: bench/run --quick exited $?"; exit 1; }
python3 - "$out/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = ["latency_vs_limit_epoll", "latency_vs_limit_c", "latency_vs_flatpak_spawn", "throughput_1",
        "throughput_16", "throughput_64", "rss_idle", "rss_running", "rss_after", "cold_start", "relay",
        "watch_p99", "applet"]
rows = {x["id"]: x for x in r["rows"]}
bad = [k for k in want if k not in rows or rows[k]["numbers"] is None or rows[k]["held"] not in (True, False)]
for key in ("nproc", "model", "kernel"):
    if not r["machine"].get(key):
        bad.append("machine." + key)
for key in ("date",):
    if not r.get(key):
        bad.append(key)
if not r["git"].get("commit"):
    bad.append("git.commit")
if bad:
    print("FAILED: results.json lacks " + ", ".join(bad))
    sys.exit(1)
print(f"All tests passed ({len(want)} assertions in 1 test case)")
PY
