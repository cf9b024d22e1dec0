# bash completion for pfd(1)                               -*- shell-script -*-
# Verbs, each verb's options (as in pfd(1): tests/cli_docs_test.py compares
# them), and for `pfd cancel` the ids of the running sessions, asked of the
# daemon the line names (--socket, --project, --config).

_pfd_verbs="serve start stop status ps watch cancel restart reload install-units trust help"

# The options VERB takes.
_pfd_options()
{
    local common="--socket --project --config --help"
    case $1 in
    serve) echo "$common --check-config --ready-fd --threads --request-timeout-ms --stop-grace-ms --in-container" ;;
    start | restart) echo "$common --threads --request-timeout-ms --stop-grace-ms --in-container" ;;
    stop) echo "$common --stop-grace-ms" ;;
    status | ps | watch) echo "$common --json" ;;
    cancel | reload) echo "$common" ;;
    install-units | help) echo "--help" ;;
    trust) echo "--list --revoke --help" ;;
    esac
}

# The projects that have a daemon socket in the runtime directory.
_pfd_projects()
{
    local dir=${XDG_RUNTIME_DIR:-/run/user/$UID} sock
    for sock in "$dir"/pfd.*.sock; do
        [[ -S $sock ]] || continue
        sock=${sock##*/pfd.}
        echo "${sock%.sock}"
    done
}

# The ids of the running sessions, from `pfd ps --json`.
_pfd_session_ids()
{
    local -a args=()
    local i
    for ((i = 2; i < cword; i++)); do
        case ${words[i]} in
        --socket | --project | --config) args+=("${words[i]}" "${words[i + 1]}") ;;
        --socket=* | --project=* | --config=*) args+=("${words[i]}") ;;
        esac
    done
    local pfd=${words[0]}
    [[ $pfd == \~/* ]] && pfd=$HOME/${pfd#\~/}
    "$pfd" ps --json "${args[@]}" 2>/dev/null | grep -o '"id":[0-9]*' | cut -d: -f2
}

_pfd()
{
    local cur prev words cword split
    _init_completion -s || return

    local i verb=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --socket | --project | --config | --threads | --ready-fd | --request-timeout-ms | --stop-grace-ms) ((i++)) ;;
        -*) ;;
        *)
            verb=${words[i]}
            break
            ;;
        esac
    done

    case $prev in
    --socket)
        _filedir
        return
        ;;
    --config)
        _filedir toml
        return
        ;;
    --project)
        COMPREPLY=($(compgen -W "$(_pfd_projects)" -- "$cur"))
        return
        ;;
    --threads | --ready-fd | --request-timeout-ms | --stop-grace-ms)
        return
        ;;
    esac
    $split && return

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version -h -V" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_pfd_verbs" -- "$cur"))
        fi
        return
    fi

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_pfd_options "$verb")" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi
    case $verb in
    cancel) COMPREPLY=($(compgen -W "$(_pfd_session_ids)" -- "$cur")) ;;
    install-units) _filedir -d ;;
    trust) _filedir toml ;;
    help) COMPREPLY=($(compgen -W "${_pfd_verbs% help}" -- "$cur")) ;;
    esac
} &&
    complete -F _pfd pfd

# ex: filetype=sh
