#pragma once
// Configuration and socket together, as both pfd and hostexec need them: the
// project file found from the working directory is a config layer and can
// name the project whose socket discovery picks.

#include "config.hpp"
#include "pfd/discovery.hpp"

#include <string>

namespace pfd {

struct context {
    config cfg;
    discovery_result where;
};

/// Loads /etc, user and project (.pfd.toml) configuration, then `config_file`,
/// and discovers the socket. Throws config_error or std::runtime_error.
/// `cwd` (default: the current directory) is where the project file search
/// starts.
context resolve_context(const std::string& socket_flag, const std::string& project_flag,
                        const std::string& config_file = {}, std::string cwd = {});

} // namespace pfd
