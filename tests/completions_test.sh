#!/usr/bin/env bash
# The shell completions in completions/, run as the shells run them: bash
# through COMP_WORDS/COMP_CWORD with bash-completion loaded, fish through
# `complete -C`, zsh and fish through a syntax check too. `pfd cancel` is
# completed with the ids of a real daemon's running sessions. zsh's real
# completions run through tests/zsh_complete.zsh (a pseudo-terminal).
# Every verb `pfd --help` lists (not a copy kept here) must be completed by
# every shell: a new verb missing from a completion file fails.
# Usage: completions_test.sh SOURCE_DIR, with PFD_BIN and HOSTEXEC_BIN set.
set -euo pipefail
src=$1
build=$(dirname "$(realpath "$PFD_BIN")")
tmp=$(mktemp -d /tmp/pfd-completions-XXXXXX)
daemon= client=
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null || true
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failed=0 passed=0
check() { # WHAT EXPECTED-WORD OUTPUT: OUTPUT has the word
  if grep -qxF -- "$2" <<<"$3"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1: no '$2' in: $(tr '\n' ' ' <<<"$3")"
    failed=$((failed + 1))
  fi
}
check_not() { # WHAT UNEXPECTED-WORD OUTPUT
  if grep -qxF -- "$2" <<<"$3"; then
    echo "FAIL: $1: '$2' offered in: $(tr '\n' ' ' <<<"$3")"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# The completions call the pfd that the line names: this build's.
export PATH=$build:$PATH
export XDG_RUNTIME_DIR=$tmp/run XDG_CONFIG_HOME=$tmp/config XDG_STATE_HOME=$tmp/state XDG_DATA_HOME=$tmp/data
mkdir -m 700 "$tmp/run"
unset PFD_SOCKET PFD_PROJECT
sock=$tmp/run/pfd.sock

# The verbs, from the first word of each row of the "Verbs:" paragraph.
verbs=$("$PFD_BIN" --help | sed -n '/^Verbs:$/,/^$/ s/^  \([a-z][a-z-]*\).*/\1/p')
[ "$(wc -w <<<"$verbs")" -ge 10 ] || { echo "no verbs read from pfd --help: $verbs"; exit 1; }
echo "verbs of pfd --help:" $verbs

# ---- a daemon with one running session ----------------------------------------

mkfifo "$tmp/ready"
"$PFD_BIN" serve --socket "$sock" --ready-fd 3 --stop-grace-ms 200 3>"$tmp/ready" 2>"$tmp/daemon.log" &
daemon=$!
read -r -t 20 _ <"$tmp/ready" || { echo "the daemon did not get ready"; cat "$tmp/daemon.log"; exit 1; }
"$HOSTEXEC_BIN" --socket "$sock" -T sleep 300 </dev/null >/dev/null 2>&1 &
client=$!
id=
for _ in $(seq 100); do # 10 s at most
  id=$("$PFD_BIN" ps --json --socket "$sock" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2) || true
  [ -n "$id" ] && break
  sleep 0.1
done
[ -n "$id" ] || { echo "the sleep never showed in pfd ps"; exit 1; }
echo "session $id runs on $sock"

# ---- bash ---------------------------------------------------------------------

bash_completion=
for f in /usr/share/bash-completion/bash_completion /etc/bash_completion; do
  [ -r "$f" ] && bash_completion=$f && break
done
if [ -z "$bash_completion" ]; then
  echo "bash: skipped, bash-completion is not installed"
else
  # comp LINE: what bash offers for LINE, the cursor at its end, one a line.
  cat >"$tmp/comp.bash" <<EOF
source $bash_completion
source $src/completions/pfd.bash
source $src/completions/hostexec.bash
comp() {
  local line=\$1
  COMP_LINE=\$line COMP_POINT=\${#line}
  local IFS=\$' \\t\\n'
  read -ra COMP_WORDS <<<"\$line"
  [[ \$line == *' ' ]] && COMP_WORDS+=("")
  COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  local spec=\$(complete -p "\${COMP_WORDS[0]}")
  local fn=\${spec#*-F }
  fn=\${fn%% *}
  "\$fn" "\${COMP_WORDS[0]}" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
  printf '%s\n' "\${COMPREPLY[@]}"
}
EOF
  comp() { bash --norc --noprofile -c "source $tmp/comp.bash; comp \"\$1\"" _ "$1"; }

  out=$(bash --norc --noprofile -c "source $tmp/comp.bash; complete -p pfd hostexec")
  check "complete -p" "complete -F _pfd pfd" "$out"
  check "complete -p" "complete -F _hostexec hostexec" "$out"

  out=$(comp "pfd ")
  for verb in $verbs; do
    check "bash: pfd <TAB>" "$verb" "$out"
  done
  out=$(comp "pfd sta")
  check "bash: pfd sta" start "$out"
  check "bash: pfd sta" status "$out"
  check_not "bash: pfd sta" stop "$out"
  out=$(comp "pfd -")
  check "bash: pfd -" --version "$out"
  out=$(comp "pfd serve --")
  for o in --socket --project --config --check-config --ready-fd --threads --request-timeout-ms --stop-grace-ms; do
    check "bash: pfd serve --" "$o" "$out"
  done
  out=$(comp "pfd stop --")
  check "bash: pfd stop --" --stop-grace-ms "$out"
  check_not "bash: pfd stop --" --check-config "$out"
  out=$(comp "pfd watch --")
  check "bash: pfd watch --" --json "$out"
  out=$(comp "pfd trust --")
  check "bash: pfd trust --" --revoke "$out"
  check_not "bash: pfd trust --" --socket "$out"

  out=$(comp "pfd cancel --socket $sock ")
  check "bash: pfd cancel --socket SOCKET (a real session)" "$id" "$out"
  out=$(comp "pfd cancel --socket=$sock ")
  check "bash: pfd cancel --socket=SOCKET" "$id" "$out"
  out=$(PFD_SOCKET=$sock comp "pfd cancel ")
  check "bash: pfd cancel with PFD_SOCKET" "$id" "$out"

  out=$(comp "hostexec --")
  for o in --tty --no-tty --detach --env= --unset-env= --clear-env --env-forward= --directory= --forward-fd= \
           --no-inherit-fds --socket= --project= --create --json --install-shim --help --version; do
    check "bash: hostexec --" "$o" "$out"
  done
  # After hostexec's options, the command and its own arguments.
  out=$(comp "hostexec -t --socket $sock ech")
  check "bash: hostexec OPTIONS ech" echo "$out"
  check_not "bash: hostexec OPTIONS ech" --tty "$out"
  out=$(comp "hostexec --env=A=B -- ech")
  check "bash: hostexec --env=A=B -- ech" echo "$out"
  out=$(comp "hostexec --directory /tmp pfd sta")
  check "bash: hostexec pfd sta (pfd's own completion)" status "$out"
  out=$(comp "hostexec --env A=B pfd stop --")
  check "bash: hostexec pfd stop -- (pfd's own completion)" --stop-grace-ms "$out"
  check_not "bash: hostexec pfd stop --" --detach "$out"
  out=$(comp "hostexec --directory ")
  check_not "bash: hostexec --directory (a directory, not a command)" echo "$out"
fi

# What zsh and fish must complete for real: SHELL, and COMPLETE "LINE"
# printing the candidates.
real_completions() {
  local shell=$1 complete=$2
  out=$("$complete" "pfd ")
  for verb in $verbs; do
    check "$shell: pfd <TAB>" "$verb" "$out"
  done
  out=$("$complete" "pfd sta")
  check "$shell: pfd sta" start "$out"
  check "$shell: pfd sta" status "$out"
  out=$("$complete" "pfd stop --")
  check "$shell: pfd stop --" --stop-grace-ms "$out"
  check_not "$shell: pfd stop --" --check-config "$out"
  out=$("$complete" "pfd cancel --socket $sock ")
  check "$shell: pfd cancel --socket SOCKET (a real session)" "$id" "$out"
  out=$("$complete" "hostexec --so")
  check "$shell: hostexec --so" --socket "$out"
  out=$("$complete" "hostexec -t --socket $sock ech")
  check "$shell: hostexec OPTIONS ech" echo "$out"
  out=$("$complete" "hostexec -T pfd sta")
  check "$shell: hostexec pfd sta (pfd's own completion)" status "$out"
}

# ---- zsh ----------------------------------------------------------------------

if ! command -v zsh >/dev/null; then
  echo "zsh: skipped, zsh is not installed"
else
  for f in _pfd _hostexec; do
    if zsh -n "$src/completions/$f"; then passed=$((passed + 1)); else
      echo "FAIL: zsh -n completions/$f"
      failed=$((failed + 1))
    fi
  done
  # Loaded by compinit from fpath, as installed: both register.
  out=$(zsh -f -c "fpath=($src/completions \$fpath); autoload -Uz compinit; compinit -u -d $tmp/zcompdump;
                   print -l \$_comps[pfd] \$_comps[hostexec]")
  check "zsh: compinit registers pfd" _pfd "$out"
  check "zsh: compinit registers hostexec" _hostexec "$out"
  # Real completions, in an interactive zsh on a pseudo-terminal.
  zcomp() { ZSH_COMPDUMP=$tmp/zcompdump zsh -f "$src/tests/zsh_complete.zsh" "$src/completions" "$1"; }
  if ! out=$(zcomp "pfd sta"); then
    echo "zsh: real completions skipped: zsh/zpty did not work here"
  else
    check_not "zsh: pfd sta" stop "$out"
    real_completions zsh zcomp
  fi
fi

# ---- fish ---------------------------------------------------------------------

if ! command -v fish >/dev/null; then
  echo "fish: skipped, fish is not installed"
else
  for f in pfd.fish hostexec.fish; do
    if fish -n "$src/completions/$f"; then passed=$((passed + 1)); else
      echo "FAIL: fish -n completions/$f"
      failed=$((failed + 1))
    fi
  done
  # Loaded by fish itself from fish_complete_path, as installed.
  fcomp() {
    fish --no-config -c "set fish_complete_path $src/completions \$fish_complete_path
                         complete -C\"\$argv[1]\"" "$1" | cut -f1
  }
  real_completions fish fcomp
  # hostexec's completion takes the projects' names from pfd's, whichever
  # is loaded first.
  if command -v python3 >/dev/null; then
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/run/pfd.named.sock"
    check "fish: hostexec --project (pfd's not loaded yet)" named "$(fcomp "hostexec --project ")"
    out=$(fish --no-config -c "set fish_complete_path $src/completions \$fish_complete_path
                               complete -C'pfd sta' >/dev/null; complete -C'hostexec --project '" | cut -f1)
    check "fish: hostexec --project (pfd's loaded first)" named "$out"
    rm "$tmp/run/pfd.named.sock"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
