# fish completion for hostexec(1): its options (as in hostexec(1)), then the
# command and its arguments, completed as that command's own (as for sudo
# and env).

# The words from the command on, hostexec's options and their values
# skipped; fails while there is no command yet (or --install-shim's names).
function __fish_hostexec_command
    set -l tokens (commandline -opc) (commandline -ct)
    set -e tokens[1]
    while set -q tokens[1]
        switch $tokens[1]
            case --
                set -e tokens[1]
                break
            case --install-shim
                return 1
            case --socket --project --env --unset-env --env-forward --directory --forward-fd
                set -e tokens[1]
                set -q tokens[2]; or return 1 # the value is being typed
                set -e tokens[1]
            case '-*'
                set -q tokens[2]; or return 1 # an option is being typed
                set -e tokens[1]
            case '*'
                break
        end
    end
    set -q tokens[1]; or return 1
    printf '%s\n' $tokens
end

# The projects' names come from __fish_pfd_projects, in pfd's completion:
# it is installed beside this file.
functions -q __fish_pfd_projects; or source (status dirname)/pfd.fish

set -l options 'not __fish_hostexec_command >/dev/null'
complete -c hostexec -n $options -s t -l tty -d 'Run in a new pseudo-terminal'
complete -c hostexec -n $options -s T -l no-tty -d 'Never allocate a pseudo-terminal'
complete -c hostexec -n $options -s d -l detach -d 'Hand the command over, print its id and exit'
complete -c hostexec -n $options -l env -x -a '(set -xn)=' -d "Set VAR in the command's environment"
complete -c hostexec -n $options -l unset-env -x -a '(set -xn)' -d "Remove VAR from the command's environment"
complete -c hostexec -n $options -l clear-env -d 'Start the command with an empty environment'
complete -c hostexec -n $options -l env-forward -x -a '(set -xn)' -d 'From a container: keep these variables of ours'
complete -c hostexec -n $options -l directory -x -a '(__fish_complete_directories)' -d 'Run the command in DIR'
complete -c hostexec -n $options -l forward-fd -x -d 'Also pass descriptor FD'
complete -c hostexec -n $options -l no-inherit-fds -d 'Pass only descriptors 0-2 and those --forward-fd names'
complete -c hostexec -n $options -l socket -r -F -d "The daemon's socket"
complete -c hostexec -n $options -l project -x -a '(__fish_pfd_projects)' -d "The project's daemon"
complete -c hostexec -n $options -s C -l create -d 'Start the daemon if none answers'
complete -c hostexec -n $options -l json -d "Print the daemon's events on stderr"
complete -c hostexec -n $options -l install-shim -x -a '(__fish_complete_directories)' -d 'Make DIR/NAME symlinks to hostexec'
complete -c hostexec -n $options -s h -l help -d 'Print the usage'
complete -c hostexec -n $options -s V -l version -d 'Print the version'
complete -c hostexec -n '__fish_seen_argument -l install-shim' -x -a '(__fish_complete_command)'
complete -c hostexec -n '__fish_hostexec_command >/dev/null' -x -a '(__fish_complete_subcommand --commandline (__fish_hostexec_command))'
