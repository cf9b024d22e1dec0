#pragma once
// The daemon's latency figures for `status`: the time from a client's
// connection to its command running, over the last samples.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace pfd {

class latency_window {
public:
    /// Keeps this sample, forgetting the oldest beyond the last 1024.
    void record(std::chrono::microseconds latency);

    struct figures {
        std::uint64_t mean_us = 0; ///< 0 without samples
        std::uint64_t p99_us = 0;
    };
    figures summary() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::uint32_t> samples_us_; ///< a ring
    std::size_t next_ = 0;
};

} // namespace pfd
