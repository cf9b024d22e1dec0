# fish completion for pfd(1): verbs, each verb's options (as in pfd(1)), and
# for `pfd cancel` the ids of the running sessions, asked of the daemon the
# line names (--socket, --project, --config).

function __fish_pfd_sessions
    set -l tokens (commandline -opc)
    set -l args
    set -l i 2
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --socket --project --config
                set -a args $tokens[$i]
                set i (math $i + 1)
                set -a args $tokens[$i]
            case '--socket=*' '--project=*' '--config=*'
                set -a args $tokens[$i]
        end
        set i (math $i + 1)
    end
    $tokens[1] ps --json $args 2>/dev/null | string match -ar '"id":[0-9]+' | string replace '"id":' ''
end

function __fish_pfd_projects
    set -l dir $XDG_RUNTIME_DIR
    test -n "$dir"; or set dir /run/user/(id -u)
    for sock in $dir/pfd.*.sock
        test -S $sock; and string replace -r '^.*/pfd\.(.*)\.sock$' '$1' -- $sock
    end
end

set -l verbs serve start stop status ps watch cancel restart reload install-units trust help
set -l daemon_verbs serve start stop status ps watch cancel restart reload

complete -c pfd -f
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -s h -l help -d 'Print the usage'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -s V -l version -d 'Print the version'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a serve -d 'Run the daemon in the foreground'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a start -d 'Start the daemon in the background'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a stop -d 'Stop the daemon (drains running commands)'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a status -d 'Pid, socket, uptime, version, latency, RSS'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a ps -d 'List the running commands'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a watch -d 'Print every event as it happens'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a cancel -d 'End a running command'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a restart -d 'Hand the socket to a new daemon'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a reload -d 'Read the configuration again'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a install-units -d 'Write the systemd user units'
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a trust -d "Honour a project's .pfd.toml"
complete -c pfd -n "not __fish_seen_subcommand_from $verbs" -a help -d 'Print the usage of a verb'

# Every verb's own --help.
complete -c pfd -n "__fish_seen_subcommand_from $verbs" -s h -l help -d 'Print the usage of the verb'

# The verbs that find a daemon.
complete -c pfd -n "__fish_seen_subcommand_from $daemon_verbs" -l socket -r -F -d "The daemon's socket"
complete -c pfd -n "__fish_seen_subcommand_from $daemon_verbs" -l project -x -a '(__fish_pfd_projects)' -d "The project's daemon"
complete -c pfd -n "__fish_seen_subcommand_from $daemon_verbs" -l config -r -F -d 'Read FILE after the configuration files'

complete -c pfd -n '__fish_seen_subcommand_from serve' -l check-config -d 'Only validate the configuration'
complete -c pfd -n '__fish_seen_subcommand_from serve' -l ready-fd -x -d 'Write a newline to descriptor N once serving'
complete -c pfd -n '__fish_seen_subcommand_from serve start restart' -l threads -x -d 'Worker threads'
complete -c pfd -n '__fish_seen_subcommand_from serve start restart' -l request-timeout-ms -x -d 'Time a client has to send its request'
complete -c pfd -n '__fish_seen_subcommand_from serve start restart stop' -l stop-grace-ms -x -d 'Time running commands get before SIGTERM, then SIGKILL'
complete -c pfd -n '__fish_seen_subcommand_from serve start restart' -l in-container -d 'Start the daemon even inside a container'
complete -c pfd -n '__fish_seen_subcommand_from status ps watch' -l json -d 'Print JSON'
complete -c pfd -n '__fish_seen_subcommand_from cancel' -x -a '(__fish_pfd_sessions)' -d 'Session'
complete -c pfd -n '__fish_seen_subcommand_from install-units' -x -a '(__fish_complete_directories)'
complete -c pfd -n '__fish_seen_subcommand_from trust' -l list -d 'List the trusted files'
complete -c pfd -n '__fish_seen_subcommand_from trust' -l revoke -d 'Stop trusting FILE'
complete -c pfd -n '__fish_seen_subcommand_from trust' -F
complete -c pfd -n '__fish_seen_subcommand_from help' -x -a "$verbs"
