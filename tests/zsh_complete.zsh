#!/usr/bin/env zsh -f
# zsh_complete.zsh FPATH_DIR LINE: the matches zsh's completion system
# offers for LINE (the cursor at its end), one a line. An interactive zsh in
# a pseudo-terminal (zsh/zpty) loads compinit with FPATH_DIR first in fpath;
# compadd is wrapped to print what it adds, between two NUL marks that the
# completion's pre- and post-functions print. (The approach of
# zsh-capture-completion, reduced.)
# $ZSH_COMPDUMP, when set, is compinit's dump file, kept for the next run.
zmodload zsh/zpty || exit 2
local dump=${ZSH_COMPDUMP:-${TMPDIR:-/tmp}/zcompdump.$$}
zpty z zsh -f -i
zpty -w z "PROMPT=; RPROMPT=; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)dump}"
zpty -w z 'bindkey "^I" complete-word'
zpty -w z 'mark() { print -rn -- $'"'"'\0'"'"' }; compprefuncs=(mark); comppostfuncs=(mark exit)'
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -A hits "$@"; print -rl -- $hits; builtin compadd "$@"
}'
zpty -w z "$2"$'\t'
local all= more= i
for i in {1..100}; do # 10 s at most
  zpty -r -t z more && all+=$more
  [[ $all == *$'\0'*$'\0'* ]] && break
  sleep 0.1
done
zpty -d z
[[ -n $ZSH_COMPDUMP ]] || rm -f $dump
[[ $all == *$'\0'*$'\0'* ]] || exit 1
print -r -- "${${all#*$'\0'}%$'\0'*}" | tr -d '\r' | grep -v '^$'
