#include "session.hpp"

#include "session_ops.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace asio::experimental::awaitable_operators;

session::session(socket_type socket, std::shared_ptr<const server_options> options, session_registry& registry,
                 watch_hub& watchers, latency_window& latency, daemon_control& daemon, peer_credentials peer,
                 connection_slots::slot slot, request_budget& budget, slow_start_worker& slow)
    : socket_(std::move(socket)), options_(std::move(options)), registry_(registry), watchers_(watchers),
      latency_(latency), daemon_(daemon), slow_starts_(slow), peer_(peer), slot_(std::move(slot)), budget_pool_(budget),
      lines_(options_->limits.request_bytes), notifier_(socket_.get_executor())
{
}

awaitable<void> session::serve(std::shared_ptr<session> self)
{
    std::optional<error_event> failed;
    try {
        // Given way to a larger unfinished request: the read in progress
        // ends (and reports why), an op already running is left alone.
        self->budget_ = self->budget_pool_.join(self->on_strand([](session& s) {
            if (s.reading_request_) s.socket_.cancel();
        }));
        co_await self->handle();
    } catch (const protocol_error& e) {
        failed = error_event{e.code(), e.what()};
    } catch (const std::exception& e) {
        failed = error_event{errc::spawn_failed, e.what()};
    }
    if (failed) co_await self->emit(encode_event(*failed));
    // Unread bytes or descriptors still queued die with the socket: the
    // kernel closes descriptors in flight when their receiver goes away.
}

awaitable<void> session::handle()
{
    auto first = co_await (read_request() || watchdog());
    if (first.index() == 1)
        throw protocol_error(errc::bad_request, fmt::format("no complete request line within {} ms",
                                                            options().limits.request_timeout.count()));
    auto& got = std::get<0>(first).value;
    if (auto* error = std::get_if<error_event>(&got)) throw protocol_error(error->code, error->message);
    auto* message = std::get_if<request_message>(&got);
    if (!message) co_return; // closed before saying anything
    request req = parse_request(message->line);
    // Parsed: the line (mostly the environment, a few KiB) need not live as
    // long as the command; with hundreds running it adds up.
    std::string().swap(message->line);
    auto op = dispatch(*this, std::move(req), std::move(message->fds));
    co_await std::move(op);
}

bool session::peer_is_owner() const
{
    return peer_.uid == ::getuid() || peer_.uid == 0;
}

awaitable<void> session::watchdog()
{
    notifier_.expires_after(options().limits.request_timeout);
    co_await notifier_.async_wait(as_tuple(use_awaitable));
}

namespace {

/// The answer to a request that gave way to the budget (request_budget.hpp).
error_event gave_way(const limits_section& limits)
{
    return error_event{errc::limit,
                       fmt::format("the daemon holds as much for unfinished requests as it may ([limits] "
                                   "buffered_bytes {}, buffered_fds {}) and this one held the most; try again later",
                                   limits.buffered_bytes, limits.buffered_fds)};
}

} // namespace

awaitable<session::read_result> session::read_request()
{
    const limits_section& limits = options().limits;
    // Failures are values, not exceptions: `||` waits for the first
    // success, and a thrown error would wait out the watchdog.
    request_message msg;
    char buf[16384];
    for (;;) {
        // Checked before taking the line: its '\n' may have come in the same
        // read that took it past the limit.
        if (lines_.overflowed())
            co_return read_result{error_event{
                errc::too_large, fmt::format("request line longer than {} bytes", options().limits.request_bytes)}};
        if (auto line = lines_.next_line()) {
            msg.line = std::move(*line);
            request_done();
            co_return read_result{std::move(msg)};
        }
        // The limit is per request, not per read: a line may come in several
        // sendmsg calls, each with descriptors.
        std::size_t room = options().limits.fds - msg.fds.size();
        std::size_t before = msg.fds.size();
        received r;
        try {
            // Read first, wait only if nothing is there: the request usually
            // arrives with the connection, and an epoll round trip costs more.
            r = recv_with_fds(socket_.native_handle(), buf, msg.fds, room, true);
            if (r.would_block) {
                auto ec = co_await readable();
                if (budget_.evicted()) co_return read_result{gave_way(limits)};
                if (ec) co_return read_result{};
                continue;
            }
        } catch (const std::system_error&) {
            co_return read_result{};
        }
        if (r.truncated && msg.fds.size() - before < room)
            co_return read_result{error_event{
                errc::limit, "the daemon has no descriptors left to receive yours (EMFILE); try again later"}};
        if (r.truncated)
            co_return read_result{
                error_event{errc::limit, fmt::format("more than {} descriptors attached", options().limits.fds)}};
        if (r.eof) co_return read_result{};
        lines_.append({buf, r.bytes});
        if (!budget_.hold(lines_.capacity(), msg.fds.size(), {limits.buffered_bytes, limits.buffered_fds}))
            co_return read_result{gave_way(limits)};
    }
}

void session::request_done()
{
    reading_request_ = false;
    lines_.shrink();
    budget_.release();
}

awaitable<void> session::send(std::string line)
{
    [[maybe_unused]] auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(line), as_tuple(use_awaitable));
}

awaitable<void> session::emit(std::string line)
{
    watchers_.publish(line, peer_.uid);
    co_await send(std::move(line));
}

awaitable<void> session::emit(std::string line, int fd)
{
    watchers_.publish(line, peer_.uid);
    // Sent first, waited for only when the buffer is full (it hardly ever
    // is: this is the connection's first answer or close to it).
    std::size_t sent = 0;
    for (;;) {
        try {
            sent = send_some_with_fds(socket_.native_handle(), line, std::span<const int>(&fd, 1));
        } catch (const std::system_error&) {
            co_return; // the client is gone; the command hangs up with it
        }
        if (sent > 0) break;
        auto [ec] = co_await socket_.async_wait(socket_type::wait_write, as_tuple(use_awaitable));
        if (ec) co_return;
    }
    if (sent < line.size()) co_await send(line.substr(sent));
}

std::function<void()> session::on_strand(std::function<void(session&)> fn)
{
    return [weak = weak_from_this(), fn = std::move(fn)] {
        if (auto self = weak.lock()) asio::post(self->notifier_.get_executor(), [self, fn] { fn(*self); });
    };
}

std::function<void()> session::waker()
{
    return on_strand([](session& self) {
        self.woken_ = true;
        self.notifier_.cancel();
    });
}

awaitable<bool> session::notified(clock::time_point deadline)
{
    for (;;) {
        if (woken_) {
            woken_ = false;
            co_return true;
        }
        if (clock::now() >= deadline) co_return false;
        notifier_.expires_at(deadline);
        co_await notifier_.async_wait(as_tuple(use_awaitable));
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) co_return false;
    }
}

awaitable<session::client_end> session::read_control(const std::function<void(int)>& deliver)
{
    std::vector<unique_fd> stray; // descriptors are not accepted here: closed at once
    char buf[1024];
    for (;;) {
        while (auto line = lines_.next_line()) {
            std::optional<error_event> refused;
            try {
                deliver(parse_control(*line).signo);
            } catch (const protocol_error& e) {
                refused = error_event{e.code(), e.what()};
            }
            if (refused) {
                co_await emit(encode_event(*refused));
                co_return client_end::bad_line;
            }
        }
        if (lines_.overflowed()) co_return client_end::bad_line;
        if (auto ec = co_await readable()) co_return client_end::gone;
        received r;
        try {
            r = recv_with_fds(socket_.native_handle(), buf, stray, 0, true);
        } catch (const std::system_error&) {
            co_return client_end::gone;
        }
        stray.clear();
        if (r.eof) co_return client_end::gone;
        lines_.append({buf, r.bytes});
    }
}

awaitable<void> session::peer_closed()
{
    co_await readable();
}

awaitable<asio::error_code> session::readable()
{
    // Not async_wait(wait_read): with several threads, asio's wait ops miss
    // an edge another thread's epoll_wait took before the wait was queued
    // (the client then waits for nothing). A receive is tried at once when
    // such an edge was seen; peeking one byte leaves it for recvmsg.
    char byte;
    auto [ec, n] =
        co_await socket_.async_receive(asio::buffer(&byte, 1), socket_type::message_peek, as_tuple(use_awaitable));
    if (ec == asio::error::eof) co_return asio::error_code{}; // readable: the end
    co_return ec;
}

void session::close() noexcept
{
    asio::error_code ignored;
    socket_.close(ignored);
}

} // namespace pfd

namespace pfd {

namespace {

/// Each request type to its op (std::visit: a new request type does not
/// compile until it has one).
struct op_for {
    session& s;
    std::vector<unique_fd>& fds;

    awaitable<void> operator()(exec_request& r) { return run_exec(s, std::move(r), std::move(fds)); }
    awaitable<void> operator()(signal_request&)
    {
        throw protocol_error(errc::bad_request, "'signal' is only valid while a command runs");
    }
    awaitable<void> operator()(cancel_request& r) { return run_cancel(s, r.id); }
    awaitable<void> operator()(ps_request&) { return run_ps(s); }
    awaitable<void> operator()(watch_request&) { return run_watch(s); }
    awaitable<void> operator()(status_request&) { return run_status(s); }
    awaitable<void> operator()(ping_request&) { return run_ping(s); }
    awaitable<void> operator()(stop_request& r) { return run_stop(s, r.grace); }
    awaitable<void> operator()(reload_request&) { return run_reload(s); }
    awaitable<void> operator()(restart_request&) { return run_restart(s); }
};

} // namespace

awaitable<void> dispatch(session& s, request req, std::vector<unique_fd> fds)
{
    auto op = std::visit(op_for{s, fds}, req);
    co_await std::move(op);
}

} // namespace pfd
