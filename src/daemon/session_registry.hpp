#pragma once
// The daemon's one shared table: which commands run, for whom. Sessions run
// on their own strands; this is the only state they share, behind one mutex.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace pfd {

struct session_info {
    std::uint64_t id = 0;
    pid_t pid = -1; ///< the command's pid and process group
    uid_t peer_uid = 0;
    pid_t peer_pid = -1;
    std::vector<std::string> argv;
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

class session_registry {
public:
    /// Ids are never reused during the daemon's life.
    std::uint64_t next_id() noexcept { return ++last_id_; }

    /// Admits a session if the limits allow (0: no limit), reserving its
    /// place at once so that concurrent requests cannot both squeeze in.
    /// Returns "busy" (total reached) or "limit" (this peer's) otherwise.
    std::optional<std::string_view> admit(session_info info, std::size_t max_total, std::size_t max_per_peer);
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

    /// A `watch` subscriber: event lines queued for it, bounded in bytes. A
    /// watcher that falls that far behind is dropped so that nobody else
    /// waits for it.
    class watcher {
    public:
        /// The lines queued since the last call; nothing once dropped.
        std::optional<std::deque<std::string>> take();

    private:
        friend class session_registry;
        std::mutex mutex_;
        std::deque<std::string> lines_;
        std::size_t bytes_ = 0, max_bytes_ = 0;
        bool dropped_ = false;
        std::function<void()> wake_, drop_;
        std::optional<uid_t> only_uid_; ///< sees only the sessions of this peer uid
    };

    /// Subscribes to every event of every session: `wake` is called when
    /// lines are queued, `drop` once when more than `backlog_bytes` wait
    /// (both from any thread). With `only_uid`, it sees the events of that
    /// peer uid's sessions only. nullptr beyond `max_watchers`.
    std::shared_ptr<watcher> subscribe(std::function<void()> wake, std::function<void()> drop, std::size_t max_watchers,
                                       std::size_t backlog_bytes, std::optional<uid_t> only_uid = std::nullopt);
    void unsubscribe(const std::shared_ptr<watcher>& w);
    /// Drops every watcher (their connections end): the daemon stops, and a
    /// watcher must not keep it running.
    void drop_watchers();

    /// Pushes an event line of a session of `peer_uid` to every watcher
    /// that may see it (cheap when there is none).
    void publish(const std::string& line, uid_t peer_uid);
    /// publish(make(), peer_uid), with `make` called only when somebody
    /// watches: what only watchers get costs nothing otherwise.
    template <typename MakeLine>
    void publish_to_watchers(uid_t peer_uid, MakeLine&& make)
    {
        if (watcher_count_.load() != 0) publish(make(), peer_uid);
    }

    /// On SIGCHLD (some child stopped, continued or exited): pokes the
    /// sessions whose command did, and those without a pidfd to ask.
    void poke_changed() const;

    /// Called (outside the lock) each time the last running command ends.
    void on_empty(std::function<void()> callback);

    /// Time from a client's connection to its command running.
    void record_latency(std::chrono::microseconds latency);

    struct figures {
        std::size_t running = 0;
        std::uint64_t served = 0;
        std::uint64_t latency_mean_us = 0; ///< over the last samples
        std::uint64_t latency_p99_us = 0;
    };
    figures snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, session_info> running_;
    std::function<void()> on_empty_;
    std::multimap<std::uint64_t, std::function<void()>> removal_watchers_;
    mutable std::mutex watchers_mutex_;
    std::vector<std::shared_ptr<watcher>> watchers_;
    bool watchers_dropped_ = false; ///< under watchers_mutex_: later ones start dropped
    std::atomic<std::size_t> watcher_count_{0};
    std::uint64_t served_ = 0;
    std::vector<std::uint32_t> latencies_us_; ///< a ring of the last samples
    std::size_t next_latency_ = 0;
    std::atomic<std::uint64_t> last_id_{0};
};

} // namespace pfd
