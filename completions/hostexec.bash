# bash completion for hostexec(1)                          -*- shell-script -*-
# hostexec's options (as in hostexec(1): tests/cli_docs_test.py compares
# them), then the command and its arguments, completed as that command's own
# (as for sudo and env).

# The index in COMP_WORDS of words[$1]: words joins what COMP_WORDBREAKS
# split at '=' (--env=A=B is one word), COMP_WORDS, which _command_offset
# shifts, does not.
_hostexec_comp_words_index()
{
    local j=0 k joined
    for ((k = 0; k < $1; k++)); do
        joined=
        while [[ $joined != "${words[k]}" ]] && ((j < ${#COMP_WORDS[@]})); do
            joined+=${COMP_WORDS[j++]}
        done
    done
    echo $j
}

_hostexec()
{
    local cur prev words cword split
    _init_completion -s || return

    # Where the command starts: the first word that is not an option or an
    # option's value, or the one after --.
    local i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --)
            ((i++))
            break
            ;;
        --install-shim)
            # DIR, then the names to make shims for.
            if ((cword == i + 1)); then
                _filedir -d
            else
                COMPREPLY=($(compgen -c -- "$cur"))
            fi
            return
            ;;
        --socket | --project | --env | --unset-env | --env-forward | --directory | --forward-fd) ((i++)) ;;
        -*) ;;
        *) break ;;
        esac
    done
    if ((i < cword)) || [[ $i -eq $cword && ${words[cword]} != -* ]]; then
        _command_offset "$(_hostexec_comp_words_index $i)"
        return
    fi

    case $prev in
    --socket)
        _filedir
        return
        ;;
    --directory)
        _filedir -d
        return
        ;;
    --project)
        local dir=${XDG_RUNTIME_DIR:-/run/user/$UID} sock projects=
        for sock in "$dir"/pfd.*.sock; do
            [[ -S $sock ]] || continue
            sock=${sock##*/pfd.}
            projects+=" ${sock%.sock}"
        done
        COMPREPLY=($(compgen -W "$projects" -- "$cur"))
        return
        ;;
    --env | --unset-env)
        [[ $cur == *=* ]] && return
        COMPREPLY=($(compgen -e -- "$cur"))
        if [[ $prev == --env ]]; then
            COMPREPLY=("${COMPREPLY[@]/%/=}")
            compopt -o nospace
        fi
        return
        ;;
    --env-forward)
        COMPREPLY=($(compgen -e -- "${cur##*,}"))
        [[ $cur == *,* ]] && COMPREPLY=("${COMPREPLY[@]/#/${cur%,*},}")
        return
        ;;
    --forward-fd)
        COMPREPLY=($(compgen -W "$(command ls /proc/$$/fd 2>/dev/null)" -- "$cur"))
        return
        ;;
    esac
    $split && return

    COMPREPLY=($(compgen -W "-t --tty -T --no-tty -d --detach --env= --unset-env= --clear-env --env-forward=
        --directory= --forward-fd= --no-inherit-fds --socket= --project= -C --create --json --install-shim
        -h --help -V --version --" -- "$cur"))
    [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
} &&
    complete -F _hostexec hostexec

# ex: filetype=sh
