#pragma once
// libpfd's client: run a command (or an applet) through a daemon from a C++
// program and get its exit status, as hostexec does. These calls block;
// async_client.hpp has the same as Asio awaitables.
//
//     pfd::client daemon = pfd::client::discover();
//     pfd::exited_event e = daemon.run({.argv = {"make", "-j8"}});
//     return pfd::shell_status(e);

#include "pfd/error.hpp"
#include "pfd/protocol.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pfd {

/// What to run. Whatever is left empty is this process's own: its
/// environment, its working directory, its descriptors 0, 1 and 2.
struct command {
    std::vector<std::string> argv;               ///< byte strings; argv[0] looked up in the command's PATH
    std::optional<std::vector<std::string>> env; ///< "K=V" entries; unset: our environ
    std::string cwd;                             ///< absolute; empty: our working directory
    std::optional<std::map<int, int>> fds;       ///< number in the command -> descriptor here
};

/// Sees every event of the run as it arrives: accepted, started, progress,
/// stopped, continued and, last, exited.
using event_handler = std::function<void(const event&)>;

struct run_options {
    event_handler on_event;
    /// Blocking run() only: while the command runs, INT, TERM, HUP, QUIT,
    /// USR1 and USR2 sent to this process go to the command instead (they
    /// are blocked here and read from a signalfd, then unblocked again).
    bool forward_signals = false;
};

/// How a run whose output was captured ended, and that output.
struct captured {
    exited_event exit;
    std::string out, err;
};

/// A daemon to run commands through. Cheap to copy: each run is a
/// connection of its own, so one client may run many commands at once.
///
/// Failures throw: pfd::protocol_error with the daemon's error code when it
/// refuses or cannot start the command (not_found, denied, busy...),
/// std::system_error when the daemon cannot be reached, and
/// std::runtime_error when it answers nonsense or runs as another user
/// (descriptors are never handed to a daemon of another uid, root's and
/// those of [discovery] trust_daemon_uids aside).
class client {
public:
    /// The daemon listening on `socket_path`; nothing is connected yet.
    /// Besides our own uid and root, it may run as a uid listed in
    /// [discovery] trust_daemon_uids of /etc/pfd/config.toml or the user's
    /// ~/.config/pfd/config.toml (read here; an invalid file throws).
    explicit client(std::string socket_path);

    /// The daemon hostexec would use here: $PFD_SOCKET, then the modes of
    /// [discovery] order (local, project, runtime). Does not start one.
    static client discover();

    /// The daemon on `socket_path`; when none answers there, starts
    /// `daemon_argv` in the background (its own session, stdio to a log in
    /// $XDG_STATE_HOME/pfd) and returns once it is ready: it inherits a
    /// descriptor named by $PFD_READY_FD, which an embedded pfd::server
    /// writes a newline to once it listens. Concurrent callers start one
    /// daemon between them. Throws std::runtime_error if it does not come
    /// up within `timeout`.
    static client connect_or_start(std::string socket_path, std::vector<std::string> daemon_argv,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

    const std::string& socket_path() const noexcept { return socket_; }

    /// Runs `cmd` with the descriptors it names (default: ours 0, 1, 2) and
    /// returns how it ended. shell_status() turns that into $?.
    exited_event run(const command& cmd, const run_options& options = {}) const;

    /// Runs `cmd` with its descriptors 1 and 2 on pipes read here and
    /// returns what it wrote there. Descriptor 0 and others: as run().
    captured run_capture(const command& cmd, const run_options& options = {}) const;

    /// True when a daemon answers `ping` on the socket.
    bool ping() const noexcept;

    /// Asks the daemon to stop (`stop`): it accepts no more and ends once
    /// what runs has finished. True when it acknowledged; false when no
    /// daemon answers there.
    bool stop() const noexcept;

private:
    client(std::string socket_path, std::vector<uid_t> trusted_daemon_uids);
    std::string socket_;
    std::vector<uid_t> trusted_;
    /// The connection connect_or_start made to find the daemon there, kept
    /// for the first request (shared by copies, taken once).
    std::shared_ptr<struct kept_connection> kept_;

    friend struct client_connection;
};

} // namespace pfd
