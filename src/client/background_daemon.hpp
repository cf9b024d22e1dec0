#pragma once
// Running the daemon in the background: pidfile, daemonizing with readiness,
// stopping it again.

#include "unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pfd {

/// The pidfile of a daemon, held with flock for the daemon's life: one
/// daemon per socket. Removed on destruction if it is still ours.
class pidfile {
public:
    /// Throws std::runtime_error "a daemon (pid N) already holds ..." when
    /// another process holds it (after waiting up to `wait` for it to let go:
    /// a successor waits for its predecessor).
    explicit pidfile(std::string path, std::chrono::milliseconds wait = {});
    ~pidfile();

    /// Lets go of the pidfile without removing it: a successor that was
    /// handed the socket takes it over.
    void release() noexcept { fd_.reset(); }
    pidfile(const pidfile&) = delete;
    pidfile& operator=(const pidfile&) = delete;

private:
    std::string path_;
    unique_fd fd_;
};

/// The pid recorded in a pidfile whose lock is held, if any.
std::optional<pid_t> running_pid(const std::string& pidfile_path);

/// What start_in_background came to.
enum class start_outcome {
    started,         ///< the daemon wrote its readiness newline
    already_running, ///< one answered on the socket: nothing was started
    not_ready,       ///< none became ready within the timeout
};

/// Starts `serve(ready_fd)` as a daemon (double fork, setsid, stdio to
/// `log_path`) and waits for its readiness newline, up to `timeout`;
/// concurrent starts for the same socket are serialized on `lock_path` and
/// all but the first find it running.
start_outcome start_in_background(const std::string& socket, const std::string& lock_path, const std::string& log_path,
                                  std::chrono::milliseconds timeout, const std::function<int(int ready_fd)>& serve);

/// Starts `args` (a `pfd serve` command line) as this daemon's successor,
/// with `listen_fd` as its descriptor 3 (LISTEN_FDS, as systemd passes a
/// socket) and PFD_HANDOFF set, in `cwd`, with `env` ("NAME=VALUE") in its
/// environment too; returns its pid once it wrote its readiness newline on
/// descriptor 4. Throws otherwise, with the line it wrote there instead if
/// any (why it refused to take over). Safe to call from a threaded daemon:
/// the child only calls async-signal-safe functions before execve.
pid_t start_successor(const std::vector<std::string>& args, const std::string& cwd, int listen_fd,
                      const std::vector<std::string>& env = {});

/// The lock that serializes starts of the daemon of `socket`:
/// "x/pfd.sock" -> "x/pfd.lock".
std::string lock_file_for(const std::string& socket);

/// $XDG_STATE_HOME/pfd/<socket file name>.log (default ~/.local/state),
/// directories created; the previous log is kept as .log.1 once it exceeds 1 MiB.
std::string log_file_for(const std::string& socket);

} // namespace pfd
