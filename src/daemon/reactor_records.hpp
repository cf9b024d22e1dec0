#pragma once
// Asio's reactor keeps a record for every descriptor it watches (the
// connection's socket, the command's pidfd, a terminal's master) in a pool
// that never gives memory back: a freed record waits there for the next
// descriptor. Made one at a time during a burst of connections, the records
// lie between the sessions' own allocations, and once the burst is over each
// pins the heap page it sits on: malloc_trim() can only return whole free
// pages, and 256 sessions left ~2 MiB behind for ~90 KiB of records
// (bench/memory.sh, heaptrack). Made here in batches, ahead of need, they lie
// together and the burst's pages go back.

#include <asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>

namespace pfd {

class reactor_records {
public:
    explicit reactor_records(asio::io_context& io) : io_(io) {}

    /// Makes sure the pool has records for `descriptors` watched at once,
    /// about half of which are in use (growing it to twice that, at least
    /// 64, when it does not). Cheap when it does: one atomic load.
    void reserve(std::size_t descriptors);

private:
    asio::io_context& io_;
    std::mutex growing_;
    std::atomic<std::size_t> reserved_{0};
};

} // namespace pfd
