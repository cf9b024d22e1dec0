#include "slow_starts.hpp"

#include "pfd/error.hpp"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace pfd {

namespace {

struct job {
    std::function<void()> work;
    /// Posts the awaiting coroutine's resumption to its executor.
    std::function<void()> deliver;
};

} // namespace

/// Shared with the thread, which outlives the worker object when a job
/// never ends.
struct slow_start_worker::state {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<job> queue;
    std::size_t waiting = 0; ///< queued or running
    std::size_t max_waiting;
    bool started = false;
    /// Cleared (under `mutex`) before the io_context goes: no result is
    /// posted to it after.
    bool loop_alive = true;

    static void serve(const std::shared_ptr<state>& self)
    {
        std::unique_lock lock(self->mutex);
        for (;;) {
            self->ready.wait(lock, [&] { return !self->queue.empty() || !self->loop_alive; });
            if (!self->loop_alive) break;
            job next = std::move(self->queue.front());
            self->queue.pop_front();
            lock.unlock();
            next.work();         // catches its own exceptions (run())
            next.work = nullptr; // what it held goes here, off the loop
            lock.lock();
            --self->waiting;
            if (!self->loop_alive) {
                // Destroying the handler would destroy the coroutine frame,
                // and with it objects of the io_context gone meanwhile.
                static_cast<void>(new std::function<void()>(std::move(next.deliver)));
                break;
            }
            next.deliver();
        }
        // Queued results are dropped the same way.
        for (auto& left : self->queue) static_cast<void>(new std::function<void()>(std::move(left.deliver)));
        self->queue.clear();
    }
};

slow_start_worker::slow_start_worker(std::size_t max_waiting) : state_(std::make_shared<state>())
{
    state_->max_waiting = max_waiting;
}

slow_start_worker::~slow_start_worker()
{
    std::lock_guard lock(state_->mutex);
    state_->loop_alive = false;
    state_->ready.notify_all();
}

std::size_t slow_start_worker::waiting() const
{
    std::lock_guard lock(state_->mutex);
    return state_->waiting;
}

asio::awaitable<void> slow_start_worker::run(std::function<void()> work)
{
    {
        std::lock_guard lock(state_->mutex);
        if (state_->waiting >= state_->max_waiting)
            throw protocol_error(errc::busy,
                                 fmt::format("{} commands already wait to start in directories on file systems that "
                                             "may not answer (FUSE); try again later",
                                             state_->max_waiting));
        if (!state_->started) {
            // With every signal blocked, inherited by the thread: the
            // daemon's signals go to its I/O threads, and none interrupts a
            // job (a command started here sets its own mask).
            sigset_t all, old;
            sigfillset(&all);
            ::pthread_sigmask(SIG_SETMASK, &all, &old);
            try {
                std::thread([s = state_] { state::serve(s); }).detach();
            } catch (...) {
                ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
                throw;
            }
            ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
            state_->started = true;
        }
        ++state_->waiting;
    }
    // Named, not temporaries of the co_await's full expression: g++ 12
    // destroys those twice (the shared_ptr below lost its count so).
    auto failure = std::make_shared<std::exception_ptr>();
    auto initiation = [this, &work, failure](auto handler) {
        auto executor = asio::get_associated_executor(handler);
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        std::lock_guard lock(state_->mutex);
        state_->queue.push_back(job{[work = std::move(work), failure] {
                                        try {
                                            work();
                                        } catch (...) {
                                            *failure = std::current_exception();
                                        }
                                    },
                                    [executor, held] { asio::post(executor, [held] { std::move (*held)(); }); }});
        state_->ready.notify_one();
    };
    auto done = asio::async_initiate<decltype(asio::use_awaitable), void()>(std::move(initiation), asio::use_awaitable);
    co_await std::move(done);
    if (*failure) std::rethrow_exception(*failure);
}

} // namespace pfd
