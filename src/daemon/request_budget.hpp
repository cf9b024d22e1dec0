#pragma once
// What all unfinished requests may hold together: the bytes of their partial
// lines and the descriptors received with them ([limits] buffered_bytes,
// buffered_fds). Over either total, the request holding the most of it gives
// way (its client gets `limit`), not the one that happened to arrive last: a
// small, quick request is served while large slow ones are refused. With
// [limits] request_bytes and fds per request and connections per uid, this
// bounds what clients can make the daemon hold before it knows what they want.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace pfd {

class request_budget {
public:
    struct totals {
        std::size_t bytes = 0, fds = 0;
    };

    /// One unfinished request's part of the budget; holds nothing once
    /// released or destroyed.
    class share {
    public:
        share() = default;
        share(share&& other) noexcept;
        share& operator=(share&& other) noexcept;
        ~share() { release(); }

        /// This request now holds `bytes` and `fds`. False when it must give
        /// way itself (it holds the most); from then on it holds nothing.
        bool hold(std::size_t bytes, std::size_t fds, const totals& limits);
        /// Whether a later arrival made this request give way.
        bool evicted() const;
        /// The request is complete (or refused): it holds nothing more.
        void release() noexcept;

    private:
        friend class request_budget;
        share(request_budget* owner, std::uint64_t id) : owner_(owner), id_(id) {}
        request_budget* owner_ = nullptr;
        std::uint64_t id_ = 0;
    };

    /// A share for a new request; `evict` is called (from any thread, at
    /// most once) when another's arrival makes this one give way.
    share join(std::function<void()> evict);

    /// What unfinished requests hold now.
    totals held() const;

private:
    struct holder {
        totals holds;
        std::function<void()> evict;
        bool evicted = false;
    };
    bool hold(std::uint64_t id, totals now, const totals& limits);
    bool evicted(std::uint64_t id) const;
    void release(std::uint64_t id) noexcept;
    /// Under the lock: makes the largest holder of `field` give way; true if
    /// that was `self`.
    bool evict_largest(std::size_t totals::*field, std::uint64_t self, std::vector<std::function<void()>>& calls);

    mutable std::mutex mutex_;
    std::map<std::uint64_t, holder> holders_;
    totals total_;
    std::uint64_t next_id_ = 0;
    std::size_t peak_bytes_ = 0; ///< since the last time all were released
};

} // namespace pfd
