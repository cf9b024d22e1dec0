#pragma once
// The TOML configuration (spec §6): files read in order, later wins per key;
// an unknown key or a wrong type is an error naming the file, line and key.
// Only keys that take effect are accepted: config/pfd.toml lists them all.

#include "log.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace pfd {

struct config {
    // [daemon]
    unsigned threads = 0; ///< 0: one per core but one (at least one)
    pfd::log_level log_level = pfd::log_level::info;
    std::string pidfile; ///< empty: beside the socket (pfd.sock -> pfd.pid)
    // [discovery]
    std::vector<std::string> discovery_order{"local", "project", "runtime"};
    std::string discovery_project;
    bool autostart = false;               ///< hostexec starts a daemon when none answers, as with -C
    std::vector<uid_t> trust_daemon_uids; ///< daemons hostexec talks to besides its own uid's and root's
    /// How hostexec starts a daemon; empty: `pfd start` next to hostexec. "--socket PATH" is appended.
    std::vector<std::string> autostart_command;
    bool fallback_local = false; ///< [discovery] fallback = "local": no daemon to be had, run the command here
    // [limits]
    std::size_t sessions = 0;          ///< commands running at once; 0: no limit
    std::size_t sessions_per_peer = 0; ///< per client uid; 0: no limit
    std::size_t watchers = 64;         ///< `watch` subscribers at once; 0: no limit
    std::size_t request_bytes = 1 << 20;
    std::size_t fds = 64;
    std::chrono::milliseconds request_timeout{5000};
    std::chrono::milliseconds stop_grace{10000};
    std::chrono::milliseconds cancel_grace{5000};
    // [exec]
    std::vector<std::string> no_tty{"xdg-open", "gio", "kde-open", "kde-open5"};
    int hangup_signal = 1; ///< SIGHUP; 0: leave a command whose client is gone running
    // [policy]
    std::vector<uid_t> allow_uids;           ///< besides the daemon's own uid and root
    std::vector<std::string> allow_commands; ///< argv[0] patterns; empty: all
    std::vector<std::string> deny_commands;
    /// The command's environment, from the client's: only names matching
    /// env_forward pass (empty: all), names matching env_clean are dropped,
    /// a request carrying a name matching env_deny is refused, env_set
    /// ("K=V") is added last.
    std::vector<std::string> env_forward, env_clean, env_deny, env_set;
};

/// "<file>:<line>: <what>", e.g. "/etc/pfd/config.toml:3: unknown key 'limits.fdz'".
class config_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// /etc/pfd/config.toml, then $XDG_CONFIG_HOME/pfd/config.toml (default
/// ~/.config). `etc` is a seam for tests.
std::vector<std::string> default_config_files(const std::string& etc = "/etc/pfd");

/// Applies the files that exist in `files` in order, then `required` (which
/// must exist) if not empty. Throws config_error.
config load_config(const std::vector<std::string>& files, const std::string& required = {});

} // namespace pfd
