#pragma once
// `watch`: every session's event lines, published to the connections that
// subscribed, each with a bounded backlog. The owner's watchers see every
// session, another uid's its own; other uids never take the places kept for
// the owner ([limits] owner_reserve).

#include "owner_places.hpp"

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
        uid_t uid_ = 0;
        bool owner_ = false; ///< sees every session; else only those of uid_
    };

    /// Subscribes a watcher of `uid` to the events of every session (the
    /// daemon's `owner`) or of that uid's own: `wake` is called when lines
    /// are queued, `drop` once when more than `backlog_bytes` wait (both
    /// from any thread). nullptr beyond `places` (total and owner_reserve;
    /// `why` then says which, naming the [limits] keys).
    std::shared_ptr<watcher> subscribe(std::function<void()> wake, std::function<void()> drop, uid_t uid, bool owner,
                                       const place_limits& places, std::size_t backlog_bytes, std::string& why);
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
