#pragma once
// The daemon: one io_context on N threads, one coroutine per connection.

#include "pfd/applet.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace pfd {

struct server_options {
    std::string socket_path;
    std::string pidfile;  ///< held with flock while serving (one daemon per socket)
    unsigned threads = 0; ///< 0: one per core but one (at least one)
    std::size_t max_request_bytes = 1 << 20;
    std::size_t max_fds = 64;
    std::chrono::milliseconds request_timeout{5000};
    /// After SIGTERM/SIGINT: how long running commands may finish before their
    /// groups get SIGTERM, and again before SIGKILL.
    std::chrono::milliseconds stop_grace{10000};
    /// `cancel`: time between SIGTERM and SIGKILL.
    std::chrono::milliseconds cancel_grace{5000};
    /// The pfd-session program that leads the session of a command run with
    /// a terminal (job control needs a parent inside that session). Empty:
    /// such commands lead their session themselves and Ctrl-Z cannot stop them.
    std::string session_helper;
    /// Commands running at once, in total and per peer uid (0: no limit).
    std::size_t max_sessions = 0;
    std::size_t max_sessions_per_peer = 0;
    /// `watch` subscribers at once (0: no limit).
    std::size_t max_watchers = 64;
    /// argv[0] patterns (fnmatch, against the name as given and its last
    /// component): only allowed ones run (empty: all), denied ones never.
    std::vector<std::string> allow_commands, deny_commands;
    /// Environment policy (see config.hpp): name patterns, and K=V to set.
    std::vector<std::string> env_forward, env_clean, env_deny, env_set;
    /// Signal sent to a command's group when its client goes away (0: none).
    int hangup_signal = 1;
    /// Uids served besides the daemon's own and root.
    std::vector<uid_t> allow_uids;
    /// Reads the configuration again, for SIGHUP and `pfd reload`; throws
    /// on errors (the running configuration then stays). Empty: no reload.
    std::function<server_options()> reload;
    /// Starts a successor daemon with the listening socket `listen_fd` and
    /// returns its pid once it is ready (throws otherwise): `pfd restart` and
    /// version upgrades. Empty: this daemon cannot be replaced.
    std::function<pid_t(int listen_fd)> hand_over;
    /// Called once serving and ready (a successor takes the pidfile here).
    std::function<void()> on_ready;
    /// The path this daemon's binary was started from: when the file there
    /// is no longer the running image, a client of another build triggers a
    /// replacement.
    std::string executable;
    /// Written "\n" and closed once the socket listens (s6-style readiness).
    /// Unset: $PFD_READY_FD when it names a descriptor (how client.hpp's
    /// connect_or_start learns that the daemon it started is ready).
    std::optional<int> ready_fd;

    /// Applets by name (applet.hpp): an `exec` whose argv[0] is one of
    /// these runs it inside the daemon instead of starting a process.
    std::map<std::string, applet, std::less<>> applets;
    /// Whether an `exec` that names no applet starts a process. A program
    /// that serves only its applets turns this off; others get `not_found`.
    bool run_commands = true;
};

/// Serves the socket until SIGINT/SIGTERM (or stop()), then drains and
/// removes the socket. Not copyable; one per socket.
class server {
public:
    explicit server(server_options options);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds, announces readiness and serves on the calling thread plus
    /// threads-1 more; returns once stopped and drained.
    void run();

    /// Starts a graceful stop, as SIGTERM does. Thread-safe.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace pfd
