#!/usr/bin/env bash
# The command's controlling terminal when the caller's stdin or stdout is a
# pipe (issue 22, docs/usage.md "A terminal for /dev/tty"), played by a user
# at a real terminal (tmux) on the host and in a rootless podman container
# (podman exec -it): sudo asks its password there and gets it, less after
# hostexec gets every key. Prints a Catch2-style summary for scripts/test.
set -uo pipefail

source "$(dirname "$0")/cases.sh"
for tool in tmux sudo less git; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
S=/var/lib/pfd-test
[ "$(id -u)" = 0 ] || skip "needs root, to run sudo's test rule as the test user $U"
[ -s "$S/sudo-password" ] && [ -f /etc/sudoers.d/pfd-test ] ||
  skip "no sudo rule for the test user (scripts/setup-test-tools makes it)"
source "$(dirname "$0")/podman_setup.sh"
PASSWORD=$(cat "$S/sudo-password")
printf 'the secret, page 1\n' >"$S/sudo-secret"
seq 2 200 | sed 's/^/secret line /' >>"$S/sudo-secret"
chmod 0600 "$S/sudo-secret"
rm -f "$S/sudo-out"

# A repository with more commits than a screen, for git log | less.
install -d -o "$U" -g "$U" "$T/home/repo"
"${AS_U[@]}" sh -c "cd '$T/home/repo' && git init -q && for i in \$(seq 60); do
  git -c user.name=t -c user.email=t@t commit -q --allow-empty -m \"commit number \$i\"; done"

# The user's terminal: a tmux server and window of the test user's.
TMUX_=("${AS_U[@]}" tmux -S "$T/tmux.sock")
trap '"${TMUX_[@]}" kill-server >/dev/null 2>&1; cleanup' EXIT
"${TMUX_[@]}" new-session -d -x 100 -y 30 -s user \
  "env PS1='PFD\$ ' PATH=$T/bin:/usr/bin:/bin PFD_SOCKET=$T/run/pfd.sock LESS= LESSHISTFILE=- bash --norc --noprofile -i"
type_keys() { "${TMUX_[@]}" send-keys -t user "$@"; }
screen() { "${TMUX_[@]}" capture-pane -p -t user -S -100; }
# Waits, bounded (20 s), until the screen shows TEXT; false if it never does.
shows() {
  for _ in $(seq 200); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
  echo "  screen without '$1':"; screen | sed 's/^/  | /'
  return 1
}
at_prompt() { type_keys "clear; echo ready-\$((6*7))" Enter; shows "ready-42"; }

cases_at_terminal() { # WHERE: the same cases typed on the host and in the container
  begin "$1: stdin a pipe, typed input reaches /dev/tty, the piped data stdin"
  at_prompt
  type_keys "echo data | hostexec sh -c 'cat; echo ask; read x </dev/tty; echo got=\$x'" Enter
  shows "ask" && type_keys "typed-here" Enter
  shows "got=typed-here" || case_failed=1
  check "the piped data came first" 1 "$(screen | grep -c '^data$')"
  end

  begin "$1: printf x | hostexec sudo tee FILE asks the password on the terminal"
  rm -f "$S/sudo-out"
  at_prompt
  type_keys "printf pfd-$1 | hostexec sudo tee $S/sudo-out >/dev/null; echo rc=\$?" Enter
  shows "password for $U" && type_keys "$PASSWORD" Enter
  shows "rc=0" || case_failed=1
  check "the file sudo wrote" "pfd-$1" "$(cat "$S/sudo-out" 2>/dev/null)"
  check "the password was not shown" 0 "$(screen | grep -cF -- "$PASSWORD")"
  end

  begin "$1: hostexec sudo cat FILE | less asks the password, then less pages"
  at_prompt
  type_keys "hostexec sudo cat $S/sudo-secret | less" Enter
  shows "password for $U" && type_keys "$PASSWORD" Enter
  shows "the secret, page 1" || case_failed=1
  type_keys G
  shows "secret line 200" || case_failed=1
  type_keys q
  at_prompt || case_failed=1
  end

  begin "$1: hostexec git log | less: less gets every key"
  at_prompt
  type_keys "cd $T/home/repo && hostexec git log --format=%s | less" Enter
  shows "commit number 60" || case_failed=1
  type_keys G
  shows "commit number 1" || case_failed=1
  type_keys q
  at_prompt || case_failed=1
  type_keys "cd /" Enter
  end
}

cases_at_terminal host

# The same inside a container: podman exec -it from the user's terminal.
"${RUN[@]}" -d --name pfdt-term -v "$T/home/repo:$T/home/repo" --rootfs "$R" sleep 1000 >/dev/null
type_keys "clear; $(printf '%q ' "${PODMAN[@]:${#AS_U[@]}}")exec -it -e PS1='PFD\$ ' pfdt-term sh" Enter
type_keys "test -e /run/.containerenv && echo in-con''tainer" Enter
if shows "in-container"; then
  cases_at_terminal container
else
  begin "podman exec -it"; case_failed=1; end
fi
type_keys "exit" Enter

summary
