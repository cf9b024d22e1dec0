#pragma once
// hostexec's command line: its own flags, the flatpak-spawn compatible ones,
// and the multi-call (shim) form.

#include <string>
#include <variant>
#include <vector>

namespace pfd {

enum class tty_mode { automatic, always, never };

struct hostexec_options {
    std::string socket;
    std::string project; ///< --project
    bool create = false; ///< -C: start a daemon if none answers
    bool json = false;
    tty_mode tty = tty_mode::automatic;
    bool detach = false;
    bool clear_env = false;
    std::vector<std::string> set_env;   ///< "VAR=VALUE", in order
    std::vector<std::string> unset_env; ///< "VAR"
    std::string directory;              ///< empty: the current one
    std::vector<int> forward_fds;       ///< with no_inherit_fds: beyond 0, 1 and 2
    bool no_inherit_fds = false;        ///< only 0-2 and forward_fds, not every inheritable one
    std::vector<std::string> command;
    std::string shim;                     ///< the name when run through a shim (command[0] is argv[0] as called)
    std::vector<std::string> env_forward; ///< --env-forward: names a container's command keeps
    bool login_shell = false;             ///< no command: the user's login shell on the host
};

/// A usage error: the message to print after "hostexec: ", then a line
/// pointing at --help; exit status 125, as hostexec's other failures.
struct usage_error {
    std::string message;
};

/// What the command line asks for: run something, print help or version,
/// or install shims.
struct print_help {};
struct print_version {};
struct install_shims_request {
    std::string dir;
    std::vector<std::string> names;
};
using hostexec_action = std::variant<hostexec_options, print_help, print_version, install_shims_request>;

/// Parses argv. Called through a symlink named NAME (not "hostexec"), every
/// argument belongs to NAME: no flag is parsed. Options stop at the first
/// non-option argument; "--" ends them explicitly. Throws usage_error.
hostexec_action parse_hostexec_args(int argc, char** argv);

/// The usage text.
const char* hostexec_usage() noexcept;

} // namespace pfd
