#include "session_registry.hpp"

#include <algorithm>
#include <csignal>
#include <cstdint>

namespace pfd {

void session_registry::add(session_info info)
{
    std::lock_guard lock(mutex_);
    ++served_;
    running_.emplace(info.id, std::move(info));
}

void session_registry::remove(std::uint64_t id)
{
    std::function<void()> callback;
    {
        std::lock_guard lock(mutex_);
        if (running_.erase(id) && running_.empty()) callback = on_empty_;
    }
    if (callback) callback();
}

std::size_t session_registry::size() const
{
    std::lock_guard lock(mutex_);
    return running_.size();
}

void session_registry::signal_all(int signo) const
{
    std::lock_guard lock(mutex_);
    for (auto& [id, info] : running_) ::kill(-info.pid, signo);
}

void session_registry::poke_all() const
{
    std::lock_guard lock(mutex_);
    for (auto& [id, info] : running_)
        if (info.poke) info.poke();
}

void session_registry::on_empty(std::function<void()> callback)
{
    std::lock_guard lock(mutex_);
    on_empty_ = std::move(callback);
}

} // namespace pfd

namespace pfd {

void session_registry::record_latency(std::chrono::microseconds latency)
{
    constexpr std::size_t kept = 1024;
    auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(latency.count(), UINT32_MAX));
    std::lock_guard lock(mutex_);
    if (latencies_us_.size() < kept)
        latencies_us_.push_back(us);
    else
        latencies_us_[next_latency_] = us;
    next_latency_ = (next_latency_ + 1) % kept;
}

session_registry::figures session_registry::snapshot() const
{
    std::vector<std::uint32_t> samples;
    figures f;
    {
        std::lock_guard lock(mutex_);
        f.running = running_.size();
        f.served = served_;
        samples = latencies_us_;
    }
    if (!samples.empty()) {
        std::uint64_t sum = 0;
        for (auto v : samples) sum += v;
        f.latency_mean_us = sum / samples.size();
        std::sort(samples.begin(), samples.end());
        f.latency_p99_us = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
    }
    return f;
}

} // namespace pfd
