#include "request_budget.hpp"

#include <malloc.h>

#include <utility>

namespace pfd {

namespace {

/// Big request buffers freed in the middle of the heap stay in the
/// process's RSS; once nothing is buffered, what is free goes back.
constexpr std::size_t trim_after_bytes = 4 << 20;

} // namespace

request_budget::share::share(share&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_) {}

request_budget::share& request_budget::share::operator=(share&& other) noexcept
{
    if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        id_ = other.id_;
    }
    return *this;
}

bool request_budget::share::hold(std::size_t bytes, std::size_t fds, const totals& limits)
{
    return owner_ && owner_->hold(id_, {bytes, fds}, limits);
}

bool request_budget::share::evicted() const
{
    return owner_ && owner_->evicted(id_);
}

void request_budget::share::release() noexcept
{
    if (auto* owner = std::exchange(owner_, nullptr)) owner->release(id_);
}

request_budget::share request_budget::join(std::function<void()> evict)
{
    std::lock_guard lock(mutex_);
    std::uint64_t id = ++next_id_;
    holders_.emplace(id, holder{{}, std::move(evict), false});
    return share(this, id);
}

request_budget::totals request_budget::held() const
{
    std::lock_guard lock(mutex_);
    return total_;
}

bool request_budget::hold(std::uint64_t id, totals now, const totals& limits)
{
    std::vector<std::function<void()>> calls;
    bool self_evicted = false;
    {
        std::lock_guard lock(mutex_);
        auto it = holders_.find(id);
        if (it == holders_.end() || it->second.evicted) return false;
        auto& mine = it->second.holds;
        total_.bytes += now.bytes - mine.bytes;
        total_.fds += now.fds - mine.fds;
        mine = now;
        if (total_.bytes > peak_bytes_) peak_bytes_ = total_.bytes;
        while (!self_evicted && limits.bytes && total_.bytes > limits.bytes)
            self_evicted = evict_largest(&totals::bytes, id, calls);
        while (!self_evicted && limits.fds && total_.fds > limits.fds)
            self_evicted = evict_largest(&totals::fds, id, calls);
    }
    for (auto& call : calls) call();
    return !self_evicted;
}

bool request_budget::evict_largest(std::size_t totals::*field, std::uint64_t self,
                                   std::vector<std::function<void()>>& calls)
{
    // Ties go against `self`: of requests holding as much, the newcomer
    // gives way rather than one that was there first.
    auto largest = holders_.find(self);
    for (auto it = holders_.begin(); it != holders_.end(); ++it)
        if (!it->second.evicted && it->second.holds.*field > largest->second.holds.*field) largest = it;
    auto& h = largest->second;
    h.evicted = true;
    total_.bytes -= h.holds.bytes;
    total_.fds -= h.holds.fds;
    h.holds = {};
    if (largest->first == self) return true;
    if (h.evict) calls.push_back(std::move(h.evict));
    return false;
}

bool request_budget::evicted(std::uint64_t id) const
{
    std::lock_guard lock(mutex_);
    auto it = holders_.find(id);
    return it == holders_.end() || it->second.evicted;
}

void request_budget::release(std::uint64_t id) noexcept
{
    bool trim = false;
    {
        std::lock_guard lock(mutex_);
        auto it = holders_.find(id);
        if (it == holders_.end()) return;
        total_.bytes -= it->second.holds.bytes;
        total_.fds -= it->second.holds.fds;
        holders_.erase(it);
        if (holders_.empty() && peak_bytes_ >= trim_after_bytes) {
            peak_bytes_ = 0;
            trim = true;
        }
    }
    if (trim) ::malloc_trim(0);
}

} // namespace pfd
