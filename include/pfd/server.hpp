#pragma once
// The daemon: one io_context on N threads, one coroutine per connection.

#include "pfd/applet.hpp"
#include "pfd/settings.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace pfd {

/// The environment a container client's command starts from, and where it
/// came from (for `pfd status`).
struct host_environment_snapshot {
    std::shared_ptr<const std::vector<std::string>> env;
    std::string source;
};

/// What the configuration decides: read from the files (`pfd serve`) or set
/// by an embedding program. A reload replaces all of it at once; each
/// connection keeps the one that was in force when it connected.
struct server_config {
    /// The configuration's sections the daemon applies ([daemon] threads,
    /// [limits], [exec] hangup_signal, [policy], [container]); see
    /// settings.hpp. The pidfile is `pfd serve`'s business: an embedded
    /// server ignores it, and [daemon] threads is read once, at run().
    daemon_section daemon;
    limits_section limits;
    exec_section exec;
    policy_section policy;
    container_section container;
};

/// How the server is plugged into its program: where it listens, the code
/// it runs, the callbacks it calls. Fixed for the server's life: a reload
/// keeps it.
struct server_wiring {
    std::string socket_path;
    /// The pfd-session program that leads the session of a command run with
    /// a terminal (job control needs a parent inside that session). Empty:
    /// such commands lead their session themselves and Ctrl-Z cannot stop them.
    std::string session_helper;
    /// Reads the configuration again, for SIGHUP and `pfd reload`; throws
    /// on errors (the running configuration then stays). Empty: no reload.
    /// (A function returning a whole server_options fits: its wiring is
    /// dropped.)
    std::function<server_config()> reload;
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
    /// Those of `applets` that return at once: run on the daemon's own
    /// thread as soon as the request is read, not handed to a thread of
    /// their own, and their whole answer sent in one write. That hand-off
    /// (a thread started, then the daemon woken by its end) is most of a
    /// small applet's call (~0.17 ms of ~1 ms in bench/applet.sh's VM).
    /// While one runs, the daemon serves nobody else, and nothing can stop
    /// it (it is over before a cancel could be read): only for applets that
    /// never wait (no sleeping, no reading the client's input, no lock held
    /// for long) and write little (a full pipe to a slow reader would hold
    /// the daemon). Names not in `applets` mean nothing.
    std::set<std::string, std::less<>> quick_applets;
    /// The shell an `exec` with `login_shell` runs (read at each such
    /// request, as login(1) reads passwd). Empty: /bin/sh. `pfd serve` gives
    /// its user's passwd shell; a static program embedding the server had
    /// better not (glibc's NSS modules are loaded at run time).
    std::function<std::string()> login_shell;
    /// The host session's environment a container client's command starts
    /// from ([container] environment = "host"); `load`: asked for a command,
    /// which may start reading it; false: asked by `status`, which reads
    /// nothing. `pfd serve` gives the systemd user manager's environment
    /// block, followed, or a login environment. Empty: the daemon's own
    /// environment without a shell's bookkeeping (`_`, OLDPWD, SHLVL, PWD,
    /// COLUMNS, LINES).
    std::function<host_environment_snapshot(bool load)> host_environment;
    /// Whether an `exec` that names no applet starts a process. A program
    /// that serves only its applets turns this off; others get `not_found`.
    bool run_commands = true;
};

/// Both halves, as the server takes them: `options.limits.sessions = 1`,
/// `options.applets["name"] = ...` read as before the split.
struct server_options : server_config, server_wiring {};

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
