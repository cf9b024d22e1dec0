#include "server_impl.hpp"

#include "log.hpp"
#include "own_mounts.hpp"
#include "session_ops.hpp"
#include "starter_handoff.hpp"
#include "spawner.hpp"
#include "systemd_notify.hpp"
#include "pfd/version.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using stream = asio::local::stream_protocol;

awaitable<void> server::impl::accept_loop()
{
    asio::error_code last_accept_error; // logged once, not at every retry
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(connection_executor(), as_tuple(use_awaitable));
        // A connection accepted is served, even if the acceptor closed
        // (restart, stop) before this resumed: dropped, its client would
        // lose its connection without a word (issue 14's flaky restart
        // test). The next accept on the closed acceptor ends the loop.
        if (!ec) {
            last_accept_error = {};
            admit(std::move(socket));
            continue;
        }
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
            if (refuse_without_descriptors()) continue;
        }
        if (ec != last_accept_error) log(log_level::warn, "accept: {} (retrying)", ec.message());
        last_accept_error = ec;
        asio::steady_timer pause(io, std::chrono::milliseconds(50));
        co_await pause.async_wait(as_tuple(use_awaitable));
    }
}

void server::impl::admit(stream::socket socket)
{
    peer_credentials peer;
    try {
        peer = peer_of(socket.native_handle());
    } catch (const std::system_error&) {
        return; // gone already
    }
    auto options = current();
    if (!peer_allowed(options->policy, peer.uid))
        return refuse(socket.native_handle(), errc::denied, fmt::format("uid {} may not use this daemon", peer.uid));
    std::string why;
    auto& limits = options->limits;
    auto slot = slots.take(peer.uid, is_owner_uid(peer.uid),
                           {limits.connections, limits.connections_per_uid, limits.owner_reserve}, why);
    if (!slot) return refuse(socket.native_handle(), errc::limit, why);
    // A connection watches its socket, its command's pidfd, perhaps a
    // terminal's master: room for the usual two each, and the daemon's own.
    records.reserve(2 * slots.open() + 8);
    auto ex = socket.get_executor();
    auto s = std::make_shared<session>(std::move(socket), std::move(options), registry, watchers, latency, *this, peer,
                                       std::move(*slot), budget, slow_starts);
    asio::co_spawn(ex, session::serve(std::move(s)), [](std::exception_ptr e) {
        if (e) log(log_level::error, "a session ended abnormally");
    });
}

void server::impl::refuse(int fd, errc code, std::string message)
{
    std::string line = encode_event(error_event{code, std::move(message)});
    [[maybe_unused]] auto n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

bool server::impl::refuse_without_descriptors()
{
    if (!reserve) return false;
    reserve.reset();
    // The acceptor is non-blocking (run()): no waiting client, EAGAIN.
    unique_fd client{::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC)};
    int error = client ? 0 : errno;
    if (client) refuse(client.get(), errc::limit, "the daemon has no descriptors left (EMFILE); try again later");
    client.reset();
    reserve = unique_fd{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    return error == 0 || error == EAGAIN || error == EWOULDBLOCK;
}
server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
server::~server() = default;

void server::run()
{
    auto& s = *impl_;
    rlimit nofile = original_nofile_limit(); // remembered for children before raising our own
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
    ::signal(SIGPIPE, SIG_IGN);

    std::optional<int> ready_fd = s.options.ready_fd ? s.options.ready_fd : ready_fd_from_environment();
    s.listener.emplace(s.options.socket_path);
    s.predecessor = predecessor_from_environment(s.listener->from_predecessor());
    s.acceptor.assign(stream(), s.listener->take_fd().release());
    s.acceptor.non_blocking(true);
    // The mount table cache's descriptor, opened (and the table read) before
    // the first client: counted among the daemon's own from the start.
    own_mount_type(0);
    // Automatic: one core left to the clients and their commands. Each
    // request is ~0.1 ms of daemon work; threads beyond that only add
    // cross-thread wake-ups (on 2 cores, 2 threads cost ~5% of a round trip
    // and some throughput against 1: bench/latency.sh, bench/concurrency.sh).
    unsigned cores = std::thread::hardware_concurrency();
    s.threads = s.options.daemon.threads ? s.options.daemon.threads : std::max(1u, cores > 1 ? cores - 1 : 1u);
    s.registry.on_empty([&s] {
        asio::post(s.control, [&s] {
            if (s.registry.size() == 0) s.carry_out(s.life.commands_ended());
        });
    });
    asio::co_spawn(s.control, s.signal_loop(), asio::detached);
    asio::co_spawn(s.control, s.accept_loop(), asio::detached);

    log(log_level::info, "serving {} (pid {}, {} {})", s.options.socket_path, ::getpid(), version(), build_id());
    notify_systemd(fmt::format("READY=1\nSTATUS=serving {}\nMAINPID={}", s.options.socket_path, ::getpid()));
    if (ready_fd) {
        [[maybe_unused]] auto n = ::write(*ready_fd, "\n", 1);
        ::close(*ready_fd);
    }
    if (s.options.on_ready) s.options.on_ready();

    std::vector<std::thread> pool;
    for (unsigned i = 1; i < s.threads; ++i) pool.emplace_back([&s] { s.io.run(); });
    s.io.run();
    for (auto& t : pool) t.join();
    // Stopped: a late SIGTERM must not kill us while the signal_set is torn
    // down (which restores the default disposition) and we exit with 0.
    sigset_t late;
    sigemptyset(&late);
    sigaddset(&late, SIGINT);
    sigaddset(&late, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &late, nullptr);
}

void server::stop()
{
    auto& s = *impl_;
    asio::post(s.control, [&s] {
        s.carry_out(s.life.request_stop(s.current()->limits.stop_grace, stopper::call, s.registry.size()));
    });
}

} // namespace pfd
