#include "pfd/async_client.hpp"

#include "command_request.hpp"
#include "client_engine.hpp"
#include "wire.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using stream = asio::local::stream_protocol;

namespace {

/// Connects without blocking the thread. The socket is made here, not by
/// Asio, so that it is close-on-exec: a program that also starts processes
/// must not leak its daemon connections into them.
awaitable<stream::socket> connect(const std::string& path)
{
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw_errno("socket");
    stream::socket s(co_await asio::this_coro::executor, stream(), fd);
    auto [ec] = co_await s.async_connect(stream::endpoint(path), asio::experimental::as_tuple(use_awaitable));
    if (ec) throw std::system_error(ec, fmt::format("cannot connect to '{}'", path));
    co_return s;
}

/// Sends the request with its descriptors, then hands each event to the
/// options' handler until `exited`. `theirs` (the command's ends of capture
/// pipes) is closed once sent.
awaitable<exited_event> exchange(stream::socket& s, const client& daemon, exec_plan plan, const run_options& options,
                                 std::vector<unique_fd> theirs = {})
{
    check_daemon_uid(s.native_handle(), daemon.socket_path(), client_connection::trusted(daemon));
    std::string data = encode_request(plan.request);
    std::string_view rest = data;
    bool attached = plan.attached.empty();
    bool refused = false;
    try {
        // The descriptors ride on the first bytes (a new connection's empty
        // buffer takes them at once); the rest goes by async_write, which,
        // unlike a wait, cannot miss the socket becoming writable when another
        // thread of the caller's io_context saw it first.
        while (!attached) {
            std::size_t n = send_some_with_fds(s.native_handle(), rest, plan.attached);
            if (n == 0) {
                co_await s.async_wait(stream::socket::wait_write, use_awaitable);
                continue;
            }
            attached = true;
            rest.remove_prefix(n);
        }
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(rest), asio::experimental::as_tuple(use_awaitable));
        if (ec) refused = true;
    } catch (const std::system_error&) {
        refused = true; // the daemon may have said why before it closed
    }
    theirs.clear();
    event_reader events;
    char buf[4096];
    for (;;) {
        while (auto ev = events.next()) {
            if (options.on_event) options.on_event(*ev);
            if (auto* exited = std::get_if<exited_event>(&*ev)) co_return *exited;
        }
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(use_awaitable));
        if (ec == asio::error::operation_aborted) throw std::system_error(ec, "run cancelled");
        if (ec || n == 0) {
            if (refused) throw std::runtime_error(fmt::format("cannot send the request to '{}'", daemon.socket_path()));
            throw std::runtime_error(
                fmt::format("the daemon on '{}' closed the connection before the command ended", daemon.socket_path()));
        }
        events.append({buf, n});
    }
}

/// Everything written to a pipe until its end.
awaitable<std::string> read_to_end(asio::posix::stream_descriptor pipe)
{
    std::string out;
    char buf[16384];
    for (;;) {
        auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(use_awaitable));
        out.append(buf, n);
        if (ec == asio::error::eof) co_return out;
        if (ec) throw std::system_error(ec, "read");
    }
}

} // namespace

awaitable<exited_event> async_run(const client& daemon, command cmd, run_options options)
{
    // Arguments built first: g++ 12 may destroy temporaries inside a
    // co_await expression twice.
    exec_plan plan = plan_of(cmd, descriptors_of(cmd));
    stream::socket s = co_await connect(daemon.socket_path());
    exited_event exit = co_await exchange(s, daemon, std::move(plan), options);
    co_return exit;
}

awaitable<captured> async_run_capture(const client& daemon, command cmd, run_options options)
{
    auto ex = co_await asio::this_coro::executor;
    auto fds = descriptors_of(cmd);
    unique_fd out_read, err_read;
    auto theirs = capture_pipes(fds, out_read, err_read);
    exec_plan plan = plan_of(cmd, fds);
    asio::posix::stream_descriptor out_pipe(ex, out_read.release()), err_pipe(ex, err_read.release());

    stream::socket s = co_await connect(daemon.socket_path());
    auto events = exchange(s, daemon, std::move(plan), options, std::move(theirs));
    auto out_text = read_to_end(std::move(out_pipe));
    auto err_text = read_to_end(std::move(err_pipe));
    auto [exit, stdout_text, stderr_text] = co_await (std::move(events) && std::move(out_text) && std::move(err_text));
    co_return captured{exit, std::move(stdout_text), std::move(stderr_text)};
}

} // namespace pfd
