#pragma once
// The daemon's table of running commands: which run, for whom. Sessions run
// on their own strands; this table, the watchers (watch_hub.hpp) and the
// latency figures (latency_window.hpp) are what they share, each behind its
// own mutex.

#include "owner_places.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pfd {

/// What the registry keeps of a command's argv, for `ps` and the watchers'
/// `session` event: the command gets all of it, but a megabyte argv is not
/// held (and listed) for as long as it runs. At most session_argv_max
/// arguments and session_argv_bytes bytes (protocol.hpp); the argument that
/// crosses the budget is cut with "…", those after it are left out.
struct kept_argv {
    std::vector<std::string> args;
    bool truncated = false; ///< something was cut or left out
};
kept_argv keep_argv(const std::vector<std::string>& argv);

struct session_info {
    std::uint64_t id = 0;
    pid_t pid = -1; ///< the command's pid and process group
    uid_t peer_uid = 0;
    pid_t peer_pid = -1;
    kept_argv argv;
    std::chrono::steady_clock::time_point started;
    std::string origin = "host"; ///< peer_origin::name()
    /// The command's pidfd while it runs (owned by its session, which removes
    /// the entry before closing it); -1 for an applet.
    int pidfd = -1;
    /// Tells the session its command stopped, continued or exited.
    std::function<void()> poke;
    /// Delivers a signal to a session that is no process group (an applet);
    /// false when it had no effect.
    std::function<bool(int)> deliver;
};

/// Why the registry turned a session away, if it did.
enum class admit_result { admitted, busy, peer_limit, owner_reserve };

class session_registry {
public:
    /// Ids are never reused during the daemon's life.
    std::uint64_t next_id() noexcept { return ++last_id_; }

    /// Admits a session of the daemon's `owner` (its uid, root) or of
    /// another uid if `places` allow ([limits] sessions, sessions_per_peer,
    /// owner_reserve), reserving its place at once so that concurrent
    /// requests cannot both squeeze in. Otherwise `busy` (the total
    /// reached), `peer_limit` (this peer's) or `owner_reserve` (other uids
    /// hold all that is not kept for the owner).
    admit_result admit(session_info info, const place_limits& places, bool owner);
    /// The admitted session's command runs: it may now be signalled and poked.
    void started(std::uint64_t id, pid_t pid, int pidfd, std::function<void()> poke,
                 std::function<bool(int)> deliver = {});
    void remove(std::uint64_t id);
    std::size_t size() const;

    /// Sends `signo` to the process group of every running command; how many.
    std::size_t signal_all(int signo) const;

    /// Signals one session's process group; false if it has no running command.
    bool signal(std::uint64_t id, int signo) const;

    /// Calls `callback` (outside the lock) when session `id` ends; false if
    /// there is no such session (it may have just ended).
    bool on_removed(std::uint64_t id, std::function<void()> callback);

    /// The running sessions, for `ps`.
    std::vector<session_info> list() const;
    /// The peer uid of session `id`, if it runs.
    std::optional<uid_t> owner_of(std::uint64_t id) const;

    /// On SIGCHLD (some child stopped, continued or exited): pokes the
    /// sessions whose command did, and those without a pidfd to ask.
    void poke_changed() const;

    /// Called (outside the lock) each time the last running command ends.
    void on_empty(std::function<void()> callback);

    struct figures {
        std::size_t running = 0;
        std::uint64_t served = 0; ///< commands started so far
    };
    figures snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, session_info> running_;
    std::set<std::uint64_t> of_others_; ///< the sessions of uids that are not the owner's
    std::function<void()> on_empty_;
    std::multimap<std::uint64_t, std::function<void()>> removal_watchers_;
    std::uint64_t served_ = 0;
    std::atomic<std::uint64_t> last_id_{0};
};

} // namespace pfd
