#pragma once
// Configuration and socket together, as both pfd and hostexec need them: the
// project file found from the working directory is a config layer and can
// name the project whose socket discovery picks.

#include "config.hpp"
#include "config_sources.hpp"
#include "pfd/discovery.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// What a configuration file with an error does. A daemon never runs with
/// part of its configuration: `fail`. A client leaves the file out and goes
/// on with the others, so that a typo never locks the user out of the
/// daemon that runs (hostexec, pfd stop, pfd status): `leave_out`.
enum class config_errors { fail, leave_out };

struct context {
    config cfg;
    discovery_result where;
    std::vector<std::string> left_out; ///< "FILE:LINE: what" of each file left out
    std::string ignored_project;       ///< "ignoring FILE: why" of a .pfd.toml not honoured
    config_sources sources;            ///< the files `cfg` was read from, for a daemon to read again
};

/// Loads /etc, user and project (.pfd.toml) configuration, then `config_file`,
/// and discovers the socket. Throws config_error (with config_errors::fail)
/// or std::runtime_error. `cwd` (default: the current directory) is where
/// the project file search starts.
context resolve_context(const std::string& socket_flag, const std::string& project_flag,
                        const std::string& config_file = {}, std::string cwd = {},
                        config_errors on_error = config_errors::fail);

/// The context of a daemon handed `sources` (a successor): exactly those
/// files, as load_config(config_sources&, check) reads them, and the socket
/// that `socket_flag` names. Throws config_error.
context context_from_sources(config_sources sources, project_check check, const std::string& socket_flag);

/// The variable that silences the line about a project file not honoured
/// (docs/usage.md): set to 1 by a user who means to leave it so.
inline constexpr const char* quiet_untrusted_variable = "PFD_QUIET_UNTRUSTED";

/// One line on stderr per file left out: "PROGRAM: FILE:LINE: what (that
/// file is left out until it is fixed)", "PROGRAM: ignoring FILE: why" for
/// a project file not honoured unless $PFD_QUIET_UNTRUSTED is 1, and for
/// each local socket passed over.
void report_left_out(const context& ctx, std::string_view program);

} // namespace pfd
