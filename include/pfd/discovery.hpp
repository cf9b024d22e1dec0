#pragma once
// Where the daemon's socket is (spec §5), the same for client and daemon:
// --socket, then $PFD_SOCKET, then the modes of [discovery] order.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// What discovery looks at; everything from the environment is read by
/// discover() itself, so tests set the environment.
struct discovery_request {
    std::string socket_flag;  ///< --socket
    std::string project_flag; ///< --project
    std::string cwd;          ///< where "local" looks and the .pfd.toml search starts
    std::vector<std::string> order{"project", "runtime"};
    std::string config_project; ///< [discovery] project
    /// The project a honoured .pfd.toml names (its `project` key or its
    /// directory's name), if one was found: a project file counts only once
    /// it is trusted (`pfd trust`), which the caller checks.
    std::string file_project;
};

struct discovery_result {
    std::string socket;
    std::string project; ///< set in project mode
    std::string how;     ///< "flag", "env", "local", "project" or "runtime"
    /// "ignoring PATH: why" for each local socket passed over; the caller
    /// tells the user, in its own name.
    std::vector<std::string> ignored;
};

/// First hit wins: the flag, $PFD_SOCKET, then per mode: "local" hits when
/// pfd.sock or .pfd.sock in cwd is a socket of ours in a directory of ours
/// that nobody else may write (another one is skipped, and `ignored` says
/// why); "project" when a project is
/// named (--project, $PFD_PROJECT, [discovery] project, file_project);
/// "runtime" always. Throws std::runtime_error for an invalid project name
/// or an unusable runtime directory.
discovery_result discover(const discovery_request& request);

/// [A-Za-z0-9._-], 1 to 64 characters, not starting with '.'.
bool is_valid_project_name(std::string_view name) noexcept;

/// The nearest .pfd.toml from `dir` up to /, if any.
std::optional<std::string> find_project_file(const std::string& dir);

/// $XDG_RUNTIME_DIR, else /run/user/$UID when it exists and is ours, else
/// /tmp/pfd-$UID created 0700 and checked (owner, mode, not a symlink), as
/// tmux does. Throws std::runtime_error when no safe directory can be had.
/// `run_user` and `tmp` are seams for tests.
std::string runtime_dir(const std::string& run_user = "/run/user", const std::string& tmp = "/tmp");

/// The pidfile that goes with a socket: "x/pfd.sock" -> "x/pfd.pid".
std::string pidfile_for(const std::string& socket);

} // namespace pfd
