#pragma once
// `watch`: every session's event lines, published to the connections that
// subscribed, each with a bounded backlog.

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pfd {

class watch_hub {
public:
    /// A `watch` subscriber: event lines queued for it, bounded in bytes. A
    /// watcher that falls that far behind is dropped so that nobody else
    /// waits for it.
    class watcher {
    public:
        /// The lines queued since the last call; nothing once dropped.
        std::optional<std::deque<std::string>> take();

    private:
        friend class watch_hub;
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
    void drop_all();

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

private:
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<watcher>> watchers_;
    bool dropped_ = false; ///< under mutex_: later ones start dropped
    std::atomic<std::size_t> watcher_count_{0};
};

} // namespace pfd
