#pragma once
// Applets: commands that run inside the daemon itself rather than as a new
// process (the pre-fork pattern). A program that embeds the server
// (server.hpp) registers them by name; an `exec` whose argv[0] is that name
// runs the applet on a thread of its own (a quick applet, on the daemon's:
// server_options::quick_applets) with the client's argv,
// environment, directory and descriptors, and the client sees the same
// events as for a process: accepted, started (the daemon's pid), progress,
// exited with the applet's return value as the exit code.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// What one applet call gets. Used by the applet's thread only, except
/// that stop requests arrive from the daemon at any time.
class applet_context {
public:
    struct state;
    explicit applet_context(std::shared_ptr<state> s);
    ~applet_context();
    applet_context(const applet_context&) = delete;
    applet_context& operator=(const applet_context&) = delete;

    std::uint64_t id() const noexcept;
    /// argv[0] is the applet's name. Byte strings, as the client sent them.
    const std::vector<std::string>& argv() const noexcept;
    /// "K=V" entries, after the daemon's [policy].
    const std::vector<std::string>& env() const noexcept;
    /// The value of one variable of env(), if set.
    std::optional<std::string_view> getenv(std::string_view name) const noexcept;
    /// The client's working directory (absolute). The daemon's own stays
    /// where it is: resolve relative paths against this.
    const std::string& cwd() const noexcept;
    uid_t peer_uid() const noexcept;
    pid_t peer_pid() const noexcept;

    /// The descriptor the client passed as number `target` (0, 1, 2...),
    /// or -1. Owned by the context: closed when the applet returns.
    int fd(int target) const noexcept;
    /// Writes all of `text` to the client's descriptor 1 or 2. Returns
    /// false when it could not (not passed, closed reader): the applet
    /// decides whether that matters, as `yes | head` would.
    bool out(std::string_view text) const noexcept;
    bool err(std::string_view text) const noexcept;

    /// Set once the call should end: `pfd cancel`, a signal the client
    /// forwarded (INT, TERM...), the client hanging up, or the daemon
    /// stopping. Applets that run for long must watch it; a thread cannot
    /// be killed, so one that never looks runs to its end.
    std::stop_token stop_token() const noexcept;
    bool stop_requested() const noexcept { return stop_token().stop_requested(); }
    /// The signal that asked for the stop (SIGTERM for cancel and
    /// shutdown, the client's hangup signal when it went away), 0 if none.
    int stop_signal() const noexcept;

    /// Streams a `progress` event to the client (and watchers). Cheap and
    /// thread-safe; when the client reads slower than the applet reports,
    /// the oldest unsent reports are dropped, never the applet slowed.
    void progress(std::string message, std::optional<int> percent = std::nullopt) const;

private:
    std::shared_ptr<state> state_;
};

/// An applet: its return value is the client's exit code (0..255). An
/// exception it lets out ends the call with code 70 (EX_SOFTWARE) and
/// "<name>: <what()>" on the client's stderr.
using applet = std::function<int(applet_context&)>;

} // namespace pfd
