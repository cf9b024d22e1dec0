#pragma once
// The sections of pfd's configuration (spec §6, config/pfd.toml), with their
// defaults. The TOML files fill them (src/common/config/config.cpp: one row per key), and
// an embedding program sets them in server_options directly.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace pfd {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

/// [daemon]
struct daemon_section {
    unsigned threads = 0; ///< 0: one per core but one (at least one)
    pfd::log_level log_level = pfd::log_level::info;
    std::string pidfile; ///< empty: beside the socket (pfd.sock -> pfd.pid)

    bool operator==(const daemon_section&) const = default;
};

/// [discovery]: how clients find (and start) a daemon.
struct discovery_section {
    std::vector<std::string> order{"project", "runtime"}; ///< "local" only when configured
    std::string project;
    bool autostart = false;               ///< hostexec starts a daemon when none answers, as with -C
    std::vector<uid_t> trust_daemon_uids; ///< daemons clients talk to besides their own uid's and root's
    /// How hostexec starts a daemon; empty: `pfd start` next to hostexec. "--socket PATH" is appended.
    std::vector<std::string> autostart_command;
    bool fallback_local = false; ///< fallback = "local": no daemon to be had, run the command here

    bool operator==(const discovery_section&) const = default;
};

/// [limits]
struct limits_section {
    std::size_t sessions = 0;              ///< commands running at once; 0: no limit
    std::size_t sessions_per_peer = 0;     ///< per client uid; 0: no limit
    std::size_t watchers = 64;             ///< `watch` subscribers at once; 0: no limit
    std::size_t watch_backlog = 256 << 10; ///< bytes a watcher may fall behind before it is dropped
    std::size_t connections = 1024;        ///< open connections in total; 0: no limit
    std::size_t connections_per_uid = 512; ///< open connections of one client uid; 0: no limit
    /// Connections, watchers and sessions (each of their totals) that only
    /// the daemon's own uid and root may take, at most half of each total:
    /// other uids together never take what the owner needs to see and stop them.
    std::size_t owner_reserve = 8;
    std::size_t request_bytes = 1 << 20; ///< one request line
    std::size_t fds = 253;               ///< descriptors attached to one request (the kernel's most)
    /// What all unfinished requests may hold together: line bytes and
    /// received descriptors (request_budget.hpp); 0: no limit.
    std::size_t buffered_bytes = 16 << 20;
    std::size_t buffered_fds = 512;
    std::chrono::milliseconds request_timeout{5000};
    /// After SIGTERM/SIGINT: how long running commands may finish before
    /// their groups get SIGTERM, and again before SIGKILL.
    std::chrono::milliseconds stop_grace{10000};
    std::chrono::milliseconds cancel_grace{5000}; ///< `cancel`: time between SIGTERM and SIGKILL

    bool operator==(const limits_section&) const = default;
};

/// [exec]
struct exec_section {
    std::vector<std::string> no_tty{"xdg-open", "gio", "kde-open", "kde-open5"};
    int hangup_signal = 1; ///< SIGHUP to a command whose client is gone; 0: none

    bool operator==(const exec_section&) const = default;
};

/// [policy]: who may run what, with which environment.
struct policy_section {
    std::vector<uid_t> allow_uids; ///< served besides the daemon's own uid and root
    /// Patterns for the files a command runs (the program, and for
    /// deny_commands each interpreter), opened first and compared by
    /// reference: an entry names the files it leads to here, a path (with a
    /// '/') or a file name in the system's and the command's PATH
    /// directories, which an allow-list takes only when root alone controls
    /// them (docs/security.md). Only allowed ones run (empty: all), denied
    /// ones never.
    std::vector<std::string> allow_commands, deny_commands;
    /// The command's environment, from the client's: only names matching
    /// env_forward pass (empty: all), names matching env_clean are dropped,
    /// a request carrying a name matching env_deny is refused, env_set
    /// ("K=V") is added last.
    std::vector<std::string> env_forward, env_clean, env_deny, env_set;
    /// Variables that load code (LD_PRELOAD, BASH_ENV, GIT_CONFIG_*, ...)
    /// that a client may still send where they are refused by default: to
    /// a daemon with allow_commands, or as another uid.
    std::vector<std::string> env_allow;

    bool operator==(const policy_section&) const = default;
};

/// [container]: what a command gets when its client lives in a container
/// (another mount namespace, or it says so): the container's PATH, library
/// paths and sandbox variables mean nothing on the host.
struct container_section {
    /// true ("host"): the host session's environment
    /// (server_options::host_environment) with the client's values of
    /// env_forward laid over it; false ("client"): the client's, whole.
    bool host_environment = true;
    /// Patterns of names whose client values win; hostexec --env and
    /// --env-forward add names per call.
    std::vector<std::string> env_forward{"TERM", "COLORTERM", "NO_COLOR", "LANG", "LANGUAGE", "LC_*"};

    bool operator==(const container_section&) const = default;
};

} // namespace pfd
