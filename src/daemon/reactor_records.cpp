#include "reactor_records.hpp"

#include "unique_fd.hpp"

#include <asio/posix/stream_descriptor.hpp>

#include <fcntl.h>

#include <algorithm>
#include <vector>

namespace pfd {

namespace {

constexpr std::size_t smallest_batch = 64;

} // namespace

void reactor_records::reserve(std::size_t descriptors)
{
    if (descriptors <= reserved_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(growing_);
    std::size_t reserved = reserved_.load(std::memory_order_relaxed);
    if (descriptors <= reserved) return;
    std::size_t target = std::max({descriptors * 2, reserved * 2, smallest_batch});
    // Each descriptor object assigned takes a record from the pool (a new one
    // once the pool's free ones are taken); released, it puts it back. epoll
    // refuses /dev/null (EPERM), which Asio takes for a descriptor that never
    // blocks: nothing is watched, and one descriptor serves them all.
    unique_fd devnull{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    if (!devnull) return; // out of descriptors: the records come one by one
    // About half of `descriptors` hold records already; the pool reaches
    // `target` with this many more held at once.
    std::size_t more = target - descriptors / 2;
    std::vector<asio::posix::stream_descriptor> held;
    held.reserve(more);
    asio::error_code ec;
    while (held.size() < more) {
        held.emplace_back(io_);
        held.back().assign(devnull.get(), ec);
        if (ec) break;
    }
    for (auto& d : held)
        if (d.is_open()) d.release();
    reserved_.store(target, std::memory_order_relaxed);
}

} // namespace pfd
