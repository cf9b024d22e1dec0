#include "latency_window.hpp"

#include <algorithm>
#include <cstdint>

namespace pfd {

void latency_window::record(std::chrono::microseconds latency)
{
    constexpr std::size_t kept = 1024;
    auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(latency.count(), UINT32_MAX));
    std::lock_guard lock(mutex_);
    if (samples_us_.size() < kept)
        samples_us_.push_back(us);
    else
        samples_us_[next_] = us;
    next_ = (next_ + 1) % kept;
}

latency_window::figures latency_window::summary() const
{
    std::vector<std::uint32_t> samples;
    {
        std::lock_guard lock(mutex_);
        samples = samples_us_;
    }
    figures f;
    if (samples.empty()) return f;
    std::uint64_t sum = 0;
    for (auto v : samples) sum += v;
    f.mean_us = sum / samples.size();
    std::sort(samples.begin(), samples.end());
    f.p99_us = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
    return f;
}

} // namespace pfd
