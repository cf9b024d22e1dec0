#pragma once
// The one thread for the parts of requests that may wait for good: a
// client's directory on a file system whose server need never answer (a
// FUSE mount of its own, working_directory.hpp) is named, searched for the
// program and entered here, never on an I/O thread, so every other client
// is served meanwhile. One long-lived thread, not one per request: a
// command's parent-death signal (PR_SET_PDEATHSIG) fires when the *thread*
// that started it ends. It is made on first use, runs its jobs in order
// and is never joined: a job that waits for good must not hold up the
// daemon's exit.

#include <asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace pfd {

class slow_start_worker {
public:
    /// At most `max_waiting` jobs queued or running at once.
    explicit slow_start_worker(std::size_t max_waiting);
    /// The I/O loop is going: the result of a job still running or queued
    /// is dropped (its awaiting coroutine is never resumed nor destroyed).
    /// Called before the io_context is destroyed.
    ~slow_start_worker();
    slow_start_worker(const slow_start_worker&) = delete;
    slow_start_worker& operator=(const slow_start_worker&) = delete;

    /// Runs `work` on the thread and resumes the caller on its own executor
    /// when it is done, rethrowing what `work` threw. What `work` refers to
    /// must live as long as the awaiting coroutine (its frame: that is never
    /// destroyed while the job is pending). Throws protocol_error(busy)
    /// when `max_waiting` jobs are already there, std::system_error when
    /// the thread cannot be made.
    asio::awaitable<void> run(std::function<void()> work);

    /// Jobs queued or running now.
    std::size_t waiting() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace pfd
