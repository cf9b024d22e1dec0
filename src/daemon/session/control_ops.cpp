// The control ops: each answers on its own connection.

#include "session_ops.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <fmt/format.h>

namespace pfd {

using asio::awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

/// Sends `ev`. Not a coroutine: `ev` is encoded before anything is
/// awaited (g++ 12 mishandles temporaries with destructors that live across
/// a co_await; a double free was seen here).
awaitable<void> answer(session& s, const event& ev)
{
    return s.send(encode_event(ev));
}

} // namespace

awaitable<void> run_ps(session& s)
{
    ps_event ps;
    auto now = session::clock::now();
    for (auto& info : s.registry().list())
        if (s.peer_is_owner() || info.peer_uid == s.peer().uid) {
            auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - info.started).count();
            ps.sessions.push_back(ps_entry{info.id, info.pid, info.peer_uid, info.peer_pid, info.argv.args,
                                           static_cast<std::uint64_t>(age), info.origin, info.argv.truncated});
        }
    co_await answer(s, ps);
}

awaitable<void> run_cancel(session& s, std::uint64_t id)
{
    auto owner = s.registry().owner_of(id);
    // Another uid's session is none to a stranger, as in `ps`: the same
    // answer as for an id that runs nothing, so that nobody learns which
    // ids run by asking to cancel them.
    bool visible = owner && (*owner == s.peer().uid || s.peer_is_owner());
    // The session's end wakes us; its own client gets its `exited` as usual.
    if (!visible || !s.registry().on_removed(id, s.waker()) || !s.registry().signal(id, SIGTERM))
        throw protocol_error(errc::not_found, fmt::format("no running session {}", id));
    s.registry().signal(id, SIGCONT);
    co_await answer(s, cancelling_event{id, SIGTERM});
    bool ended = co_await s.notified(session::clock::now() + s.options().limits.cancel_grace);
    bool killed = !ended && s.registry().signal(id, SIGKILL);
    co_await answer(s, cancelled_event{id, killed});
}

awaitable<void> run_watch(session& s)
{
    // A dropped watcher may be stuck in a write it never reads: cancelling
    // the socket ends that write and the wait below. Another allowed uid's
    // watcher sees its own sessions only.
    auto& limits = s.options().limits;
    std::string why;
    auto w = s.watchers().subscribe(s.waker(), s.on_strand([](session& self) { self.socket().cancel(); }), s.peer().uid,
                                    s.peer_is_owner(), {limits.watchers, 0, limits.owner_reserve}, limits.watch_backlog,
                                    why);
    if (!w) throw protocol_error(errc::limit, why);
    struct unsubscribe {
        watch_hub& hub;
        std::shared_ptr<watch_hub::watcher> w;
        ~unsubscribe() { hub.unsubscribe(w); }
    } subscribed{s.watchers(), w};
    int sndbuf = 64 * 1024; // fall behind soon rather than buffer a lot in the kernel
    ::setsockopt(s.socket().native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    co_await answer(s, watching_event{});
    // Taken before the first wait: a watcher that came as the daemon stops
    // starts dropped, and nothing would wake it.
    for (;;) {
        auto batch = w->take();
        if (!batch) co_return;
        if (!batch->empty()) {
            std::string out;
            for (auto& line : *batch) out += line;
            auto [ec, n] = co_await asio::async_write(s.socket(), asio::buffer(out),
                                                      asio::experimental::as_tuple(asio::use_awaitable));
            if (ec) co_return;
        }
        auto woke = co_await (s.notified() || s.peer_closed());
        if (woke.index() == 1) co_return;
    }
}

awaitable<void> run_status(session& s)
{
    co_await answer(s, s.daemon().status());
}

awaitable<void> run_ping(session& s)
{
    co_await answer(s, pong_event{});
}

namespace {

/// stop, restart and reload are the daemon's owner's (its uid, root).
void check_owner(session& s, std::string_view op)
{
    if (!s.peer_is_owner())
        throw protocol_error(errc::denied, fmt::format("only uid {} and root may {} this daemon", ::getuid(), op));
}

} // namespace

awaitable<void> run_stop(session& s, std::optional<std::chrono::milliseconds> grace)
{
    check_owner(s, "stop");
    // The daemon keeps this connection until it is gone, answering and
    // telling each step on it: the asker waits for its end rather than for
    // a pid number, which could be anybody's by then.
    s.daemon().stop(unique_fd(s.socket().release()), grace);
    co_return;
}

awaitable<void> run_reload(session& s)
{
    check_owner(s, "reload");
    std::string why = co_await s.daemon().reload();
    if (!why.empty()) throw protocol_error(errc::bad_request, why);
    co_await answer(s, reloaded_event{});
}

awaitable<void> run_restart(session& s)
{
    check_owner(s, "restart");
    std::string why = co_await s.daemon().restart();
    if (!why.empty()) throw protocol_error(errc::bad_request, why);
    co_await answer(s, restarted_event{});
}

} // namespace pfd
