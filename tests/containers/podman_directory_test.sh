#!/usr/bin/env bash
# Where a command from a rootless podman container starts (issue 22, docs/
# containers.md): in a host directory whenever the host can name the
# container's, so that getcwd() works for the real programs that ask it
# (git, make, Python, /bin/pwd, sh); by descriptor only in a directory the
# host cannot name (the container's own tmpfs). Prints a Catch2-style
# summary for scripts/test.
set -uo pipefail

source "$(dirname "$0")/cases.sh"
for tool in git make python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (the host programs this test runs)"
done
source "$(dirname "$0")/podman_setup.sh"

# A project the test user owns, with a change to stage and a Makefile.
P=$T/home/proj
install -d -o "$U" -g "$U" "$T/home/proj"
"${AS_U[@]}" sh -c "cd '$P' && git init -q && printf 'one\n' >f && git add f &&
  git -c user.name=t -c user.email=t@t commit -qm one && printf 'one\ntwo\n' >f &&
  printf 'all:\n\t@echo make in \$(CURDIR)\n' >Makefile"

# The real programs from inside a container whose working directory is the
# project, mounted at MOUNT; each prints what it sees of its directory.
programs='hostexec /bin/pwd
hostexec python3 -c "import os; print(os.getcwd())"
hostexec make -s
hostexec git status --short
printf "y\n" | hostexec git add -p >/dev/null && hostexec git diff --cached --numstat
hostexec git reset -q'
expected="$P
$P
make in $P
 M f
?? Makefile
1	0	f"

begin "from a bind mount at the same path (as distrobox and toolbx share \$HOME): pwd, Python, make, git status, git add -p"
out=$(in_container -v "$P:$P" -w "$P" --rootfs "$R" sh -c "$programs" </dev/null 2>&1)
check "each program names the host directory" "$expected" "$out"
end

begin "from a bind mount at another path (-v DIR:/work -w /work): the same, and PWD is the host's path"
out=$(in_container -v "$P:/work" -w /work --rootfs "$R" sh -c "$programs"'
hostexec sh -c "echo \$PWD"' </dev/null 2>&1)
check "each program names the host directory" "$expected
$P" "$out"
end

begin "from the container's / (podman's default): the host's /, nothing on stderr"
out=$(in_container --rootfs "$R" sh -c 'cd / && hostexec sh -c "echo out; /bin/pwd"' </dev/null 2>"$T/root.err")
check "output" "$(printf 'out\n/')" "$out"
check "stderr" "" "$(cat "$T/root.err")"
end

begin "a directory the host cannot name (the container's tmpfs): entered by descriptor, its own file read"
mkdir -p "$T/private"
echo host >"$T/private/marker"
out=$(in_container --tmpfs "$T/private" --rootfs "$R" \
  sh -c "cd '$T/private' && echo inside >marker && hostexec cat marker; hostexec env | grep -c '^PWD='" </dev/null)
check "cat marker reads the container's; no PWD, as no host path names it" "$(printf 'inside\n0')" "$out"
end

summary
