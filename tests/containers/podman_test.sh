#!/usr/bin/env bash
# hostexec inside rootless podman, as distrobox and toolbx run it
# (--userns=keep-id): see podman_setup.sh. Prints a Catch2-style summary for
# scripts/test.
set -uo pipefail

source "$(dirname "$0")/cases.sh"
source "$(dirname "$0")/podman_setup.sh"

begin "a bind-mounted directory (-v DIR:/work -w /work) is the command's, its bytes and exit codes"
echo made-on-host >"$T/work/file"
chown "$U" "$T/work/file"
out=$(in_container -v "$T/work:/work" -w /work --rootfs "$R" \
  sh -c 'hostexec ls; printf "a\0b" | hostexec od -An -c | tr -s " "; hostexec sh -c "exit 42"; echo "rc=$?"' </dev/null)
check "ls, bytes through a pipe, exit code" "$(printf 'file\n a \\0 b\nrc=42')" "$out"
out=$(in_container --rootfs "$R" sh -c 'hostexec sh -c "kill -TERM \$\$"; echo "rc=$?"' </dev/null)
check "death by a signal comes back as 128+signal" "rc=143" "$out"
end

begin "a directory of the container's own: the command runs in it, not in the host's of that name"
mkdir -p "$T/tmp-twin"
echo host >"$T/tmp-twin/marker"
twin=$T/tmp-twin
out=$(in_container --rootfs "$R" sh -c "mkdir -p $twin && cd $twin && echo inside > marker && hostexec cat marker" </dev/null)
check "cat marker reads the container's" "inside" "$out"
end

begin "descriptors beyond 0-2 and the container's environment rule"
out=$(in_container -e LD_LIBRARY_PATH=/app/lib -e TERM=xterm-pfdt --rootfs "$R" \
  sh -c 'echo three > /tmp/three; hostexec sh -c "cat <&3; echo \${PFDT_HOST-unset} \$TERM \${LD_LIBRARY_PATH-unset}" 3</tmp/three' </dev/null)
# The daemon's own variable (PFDT_HOST, podman_setup.sh) is not the host
# session's: a container's command starts from a login environment here (no
# user bus), docs/containers.md.
check "fd 3, not the daemon's own variable, the client's TERM, not its LD_LIBRARY_PATH" "$(printf 'three\nunset xterm-pfdt unset')" "$out"
end

begin "podman run -t: a terminal the host can name, with the container's size"
# podman sizes the container's terminal after its process has started
# (conmon's resize races the start, podman issue 10710): wait, bounded, until
# the container itself sees 27x91, then ask the host's command. (Under load
# stty inside failed once meanwhile, "No child processes": a failed poll
# is only a poll again.)
sized='for _ in $(seq 200); do [ "$(stty size 2>/dev/null)" = "27 91" ] && break; sleep 0.05; done'
out=$(script -qec "stty rows 27 cols 91; $(printf '%q ' "${RUN[@]}") -t --rootfs $R sh -c '$sized; hostexec tty; hostexec stty size'" /dev/null </dev/null | tr -d '\r' | sed 's/^\^@//')
case "$out" in
  /dev/pts/*) check "tty names a host terminal" ok ok ;;
  *) check "tty names a host terminal" "/dev/pts/N" "$out" ;;
esac
check "stty size" "27 91" "$(printf '%s\n' "$out" | tail -n 1)"
end

begin "SIGINT to the container ends the host command, and nothing is left running"
# --init: catatonit is pid 1 and hands the signal to hostexec (a pid 1
# without a handler would ignore it). A signal to `podman run` itself is not
# forwarded reliably (podman 4.3 stops the container with SIGTERM instead).
# A duration of its own: other tests (the soak) run sleeps as the same user.
"${RUN[@]}" --init --name pfdt-sig --rootfs "$R" hostexec sleep 3017 </dev/null >"$T/sig.out" 2>&1 &
podman_run=$!
for _ in $(seq 200); do pgrep -u "$U" -fx 'sleep 3017' >/dev/null && break; sleep 0.05; done
"${PODMAN[@]}" kill -s INT pfdt-sig >/dev/null
wait "$podman_run"
# hostexec forwards SIGINT; sleep dies of it; hostexec dies of it too.
check "hostexec ended as the command did" "130" "$?"
left=
for _ in $(seq 100); do left=$(pgrep -u "$U" -fx 'sleep 3017'); [ -z "$left" ] && break; sleep 0.05; done
check "no host command left" "" "$left"
end

summary
