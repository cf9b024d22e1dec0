#include "pfd/server.hpp"

#include "connection_slots.hpp"
#include "listening_socket.hpp"
#include "log.hpp"
#include "reactor_records.hpp"
#include "request_budget.hpp"
#include "session.hpp"
#include "session_registry.hpp"
#include "daemon_status.hpp"
#include "starter_handoff.hpp"
#include "spawner.hpp"
#include "systemd_notify.hpp"
#include "pfd/version.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using stream = asio::local::stream_protocol;

/// Where the daemon is in its life. serving -> draining (SIGTERM, `stop`)
/// or -> handing_over (`restart`, an upgrade); either -> stopped.
enum class daemon_state { serving, draining, handing_over, stopped };

struct server::impl {
    server_options options;
    asio::io_context io;
    std::optional<listening_socket> listener;
    stream::acceptor acceptor{io};
    // SIGCHLD only as a wake-up: children are still waited on through their
    // pidfds; it tells sessions that a command may have stopped.
    asio::signal_set signals{io, SIGINT, SIGTERM, SIGHUP};
    asio::strand<asio::io_context::executor_type> control{io.get_executor()};
    asio::steady_timer drained{control};
    session_registry registry;
    connection_slots slots;
    request_budget budget;
    reactor_records records{io};
    /// Held for the moment the daemon runs out of descriptors: let go, it
    /// lets one waiting client be accepted and told why before it is closed,
    /// instead of the queue filling with clients that wait for nothing.
    unique_fd reserve{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    daemon_state state = daemon_state::serving; ///< changed on `control` only
    unsigned threads = 1; ///< running io, set by run() before it accepts
    std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

    /// What new sessions use; replaced whole by a reload. (A mutex, not
    /// std::atomic<std::shared_ptr>: libstdc++ 12's crashed here.)
    std::shared_ptr<const server_options> live;
    mutable std::mutex live_mutex;
    std::mutex reload_mutex;  ///< one reload or restart at a time
    bool handed_over = false; ///< under reload_mutex: a successor was started
    /// The daemon that handed us the socket, while it finishes its commands:
    /// no restart until it is gone, so daemons never pile up.
    unique_fd predecessor;
    bool told_to_stop = false; ///< on `control`: SIGTERM while handing over

    /// On `control`, once stopping: each of the two waits of a stop takes
    /// this long (the configuration's, or what a `stop` asked for: a later,
    /// shorter one wins); `skip_wait` ends the current one (a second SIGTERM).
    std::chrono::milliseconds stop_grace{};
    bool skip_wait = false;
    /// On `control`: the connections of `stop` askers, told each step and
    /// closed when the server is destroyed: their end tells them the daemon
    /// is gone.
    std::vector<unique_fd> stop_askers;

    daemon_hooks hooks{[this] { return reload(); }, [this] { return status(); }, [this] { return restart(); },
                       [this](std::string_view build) { client_build_seen(build); },
                       [this](unique_fd asker, std::optional<std::chrono::milliseconds> grace) {
                           asio::post(control, [this, asker = std::move(asker), grace]() mutable {
                               stop_asked(std::move(asker), grace);
                           });
                       }};

    explicit impl(server_options o) : options(std::move(o)), live(std::make_shared<const server_options>(options))
    {
        signals.add(SIGCHLD);
    }

    std::shared_ptr<const server_options> current() const
    {
        std::lock_guard lock(live_mutex);
        return live;
    }

    /// Re-reads the configuration; "" when applied, else why it was not
    /// (the running one stays). What cannot change while running (socket,
    /// threads, applets) is kept.
    std::string reload()
    {
        std::lock_guard lock(reload_mutex);
        if (!options.reload) return "this daemon was started without a configuration to reload";
        try {
            server_options fresh = options.reload();
            fresh.socket_path = options.socket_path;
            fresh.daemon.threads = options.daemon.threads;
            fresh.ready_fd.reset();
            fresh.reload = options.reload;
            fresh.applets = options.applets; // code, not configuration
            fresh.quick_applets = options.quick_applets;
            fresh.run_commands = options.run_commands;
            if (!fresh.host_environment) fresh.host_environment = options.host_environment; // a process's state
            auto next = std::make_shared<const server_options>(std::move(fresh));
            std::lock_guard swap(live_mutex);
            live = std::move(next);
            log(log_level::info, "configuration reloaded");
            return {};
        } catch (const std::exception& e) {
            log(log_level::error, "reload failed, keeping the running configuration: {}", e.what());
            return std::string("reload failed, keeping the running configuration: ") + e.what();
        }
    }

    /// Hands the listening socket to a successor (the binary on disk), then
    /// stops accepting and lets running commands finish: no client is
    /// refused, no command is cut short. "" when done, else why not.
    std::string restart()
    {
        std::lock_guard lock(reload_mutex);
        if (!options.hand_over) return "this daemon cannot hand its socket over";
        if (handed_over) return {};
        if (predecessor) {
            pollfd gone{predecessor.get(), POLLIN, 0};
            if (::poll(&gone, 1, 0) != 1)
                return "the previous daemon is still finishing its commands; restart again once it has ended";
            predecessor.reset();
        }
        pid_t successor;
        try {
            successor = options.hand_over(acceptor.native_handle());
        } catch (const std::exception& e) {
            log(log_level::error, "restart failed, still serving: {}", e.what());
            return std::string("restart failed, still serving: ") + e.what();
        }
        handed_over = true;
        log(log_level::info, "handed the socket to pid {}; finishing running commands", successor);
        asio::co_spawn(control, retire(), asio::detached);
        return {};
    }

    /// A client of another build: if our binary was replaced on disk since
    /// we started, replace ourselves with it (once).
    void client_build_seen(std::string_view build)
    {
        if (build.empty() || build == build_id() || options.executable.empty()) return;
        struct stat on_disk {
        }, running{};
        if (::stat(options.executable.c_str(), &on_disk) < 0 || ::stat("/proc/self/exe", &running) < 0) return;
        if (on_disk.st_ino == running.st_ino && on_disk.st_dev == running.st_dev) return;
        log(log_level::info, "a client of build {} and a new '{}' on disk: replacing this daemon", build,
            options.executable);
        asio::post(control, [this] { restart(); });
    }

    /// The `status` answer: who we are and how we do (spec §7).
    status_event status() const
    {
        status_event s = daemon_status(registry, options.socket_path, started_at);
        s.environment = environment_source(*current());
        return s;
    }

    awaitable<void> accept_loop()
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

    /// What a connection's handlers run on. With several threads, a strand
    /// of its own, so that they never run at once; with one, the
    /// io_context itself, which runs one handler at a time anyway: a strand
    /// there only costs an allocation and a queue on every hop (and Asio
    /// keeps the mutexes strands share for good, scattered through the
    /// heap by the first burst of connections).
    asio::any_io_executor connection_executor()
    {
        if (threads == 1) return io.get_executor();
        return asio::make_strand(io);
    }

    /// Who connected is known from the kernel before a byte is read: a uid
    /// that may not use the daemon, or one beyond the connection limits, is
    /// answered and closed at once.
    void admit(stream::socket socket)
    {
        peer_credentials peer;
        try {
            peer = peer_of(socket.native_handle());
        } catch (const std::system_error&) {
            return; // gone already
        }
        auto options = current();
        if (!peer_allowed(*options, peer.uid))
            return refuse(socket.native_handle(), errc::denied, fmt::format("uid {} may not use this daemon", peer.uid));
        std::string why;
        auto slot = slots.take(peer.uid, options->limits.connections, options->limits.connections_per_uid, why);
        if (!slot) return refuse(socket.native_handle(), errc::limit, why);
        // A connection watches its socket, its command's pidfd, perhaps a
        // terminal's master: room for the usual two each, and the daemon's own.
        records.reserve(2 * slots.open() + 8);
        auto ex = socket.get_executor();
        auto s = std::make_shared<session>(std::move(socket), std::move(options), registry, hooks, peer,
                                           std::move(*slot), budget);
        asio::co_spawn(ex, session::serve(std::move(s)), [](std::exception_ptr e) {
            if (e) log(log_level::error, "a session ended abnormally");
        });
    }

    static bool peer_allowed(const server_options& options, uid_t uid)
    {
        auto& allowed = options.policy.allow_uids;
        return uid == ::getuid() || uid == 0 || std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
    }

    /// The error line, if the socket's empty buffer takes it, then the end.
    /// The client reads it even after its own send failed (EPIPE): it was
    /// queued before the close.
    static void refuse(int fd, errc code, std::string message)
    {
        std::string line = encode_event(error_event{code, std::move(message)});
        [[maybe_unused]] auto n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }

    /// EMFILE: the reserve descriptor makes room to accept one client and
    /// tell it so. False when even that fails (then the loop pauses).
    bool refuse_without_descriptors()
    {
        if (!reserve) return false;
        reserve.reset();
        // The acceptor is non-blocking (run()): no waiting client, EAGAIN.
        unique_fd client{::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC)};
        int error = client ? 0 : errno;
        if (client)
            refuse(client.get(), errc::limit, "the daemon has no descriptors left (EMFILE); try again later");
        client.reset();
        reserve = unique_fd{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
        return error == 0 || error == EAGAIN || error == EWOULDBLOCK;
    }

    /// Waits until no command runs or `grace` has passed.
    awaitable<void> drain_for(std::chrono::milliseconds grace)
    {
        if (registry.size() == 0) co_return;
        drained.expires_after(grace);
        co_await drained.async_wait(as_tuple(use_awaitable));
    }

    /// Waits until no command runs, `stop_grace` has passed (it may shrink
    /// meanwhile) or the wait is skipped.
    awaitable<void> drain_in_grace()
    {
        auto from = std::chrono::steady_clock::now();
        skip_wait = false;
        while (registry.size() > 0 && !skip_wait && std::chrono::steady_clock::now() < from + stop_grace) {
            drained.expires_at(from + stop_grace);
            co_await drained.async_wait(as_tuple(use_awaitable));
        }
    }

    /// Tells every `stop` asker how the stop goes. The line is tiny and the
    /// asker only reads: it goes into an empty socket buffer at once, and an
    /// asker that does not read loses it rather than holding the daemon up.
    void tell_askers(const event& ev)
    {
        std::string line = encode_event(ev);
        for (auto& asker : stop_askers)
            [[maybe_unused]] auto n = ::send(asker.get(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }

    /// Starts a stop (once) whose waits take `grace` each.
    void begin_stop(std::chrono::milliseconds grace)
    {
        if (state != daemon_state::serving) return;
        stop_grace = grace;
        log(log_level::info, "stopping: {} command(s) running get {} ms", registry.size(), grace.count());
        asio::co_spawn(control, shutdown(), asio::detached);
    }

    /// A `stop` (on `control`): answered with what it will wait for, then
    /// told each step until the daemon is gone. A grace shorter than the one
    /// in force takes over, so a second, impatient `stop` is heard.
    void stop_asked(unique_fd asker, std::optional<std::chrono::milliseconds> grace)
    {
        auto wanted = grace.value_or(current()->limits.stop_grace);
        if (state != daemon_state::serving && wanted < stop_grace) {
            stop_grace = wanted;
            drained.cancel(); // the wait in progress looks at the new deadline
        }
        if (state == daemon_state::handing_over && !told_to_stop) {
            stop_grace = wanted;
            told_to_stop = true; // as SIGTERM: what still runs is ended
            drained.cancel();
        }
        auto running = static_cast<std::uint64_t>(registry.size());
        auto in_force = state == daemon_state::serving ? wanted : stop_grace;
        stop_askers.push_back(std::move(asker));
        std::string answer = encode_event(
            stopping_event{::getpid(), running, static_cast<std::uint64_t>(in_force.count())});
        [[maybe_unused]] auto n =
            ::send(stop_askers.back().get(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        begin_stop(wanted); // may run to its first wait (or its end) at once: the asker is listed first
    }

    void close_acceptor()
    {
        asio::error_code ignored;
        acceptor.close(ignored);
    }

    void enter(daemon_state next)
    {
        state = next;
        if (next != daemon_state::stopped) return;
        signals.cancel(); // the io_context runs out of work
        // Once the commands are gone or killed; a watcher may miss the
        // `exited` of a command killed at the end.
        registry.drop_watchers();
    }

    /// SIGTERM or `stop`: accept no more, let running commands finish, then
    /// TERM and KILL them.
    awaitable<void> shutdown()
    {
        if (state != daemon_state::serving) co_return;
        enter(daemon_state::draining);
        notify_systemd("STOPPING=1");
        close_acceptor();
        listener->remove_file();
        co_await drain_in_grace();
        co_await end_commands();
        enter(daemon_state::stopped);
    }

    /// SIGTERM (and SIGCONT) to what still runs, SIGKILL after the grace;
    /// each step told to the `stop` askers.
    awaitable<void> end_commands()
    {
        if (registry.size() > 0) {
            auto signalled = registry.signal_all(SIGTERM);
            registry.signal_all(SIGCONT);
            tell_askers(stop_step_event{stop_step::term, signalled});
            log(log_level::info, "stopping: SIGTERM sent to {} command(s)", signalled);
            co_await drain_in_grace();
        }
        if (registry.size() == 0) {
            tell_askers(stop_step_event{stop_step::ended, 0});
            co_return;
        }
        auto killed = registry.signal_all(SIGKILL);
        tell_askers(stop_step_event{stop_step::kill, killed});
        log(log_level::info, "stopping: SIGKILL sent to {} command(s)", killed);
    }

    /// After a hand-over: accept no more, finish what runs, leave the socket
    /// file and pidfile to the successor.
    awaitable<void> retire()
    {
        if (state != daemon_state::serving) co_return;
        enter(daemon_state::handing_over);
        listener->leave_file();
        close_acceptor();
        while (registry.size() > 0 && !told_to_stop) co_await drain_for(std::chrono::hours(24));
        // SIGTERM meanwhile: what still runs is ended, as by a stop.
        if (told_to_stop) co_await end_commands();
        enter(daemon_state::stopped);
    }

    /// Every signal the daemon handles, in one place.
    awaitable<void> signal_loop()
    {
        while (state != daemon_state::stopped) {
            auto [ec, signo] = co_await signals.async_wait(as_tuple(use_awaitable));
            if (ec) co_return;
            switch (signo) {
            case SIGCHLD:
                registry.poke_changed();
                break;
            case SIGHUP:
                reload();
                break;
            case SIGINT:
            case SIGTERM:
                // shutdown() may run inline from here and finish before this
                // loop waits again: the state, not the cancel, ends the loop.
                if (state == daemon_state::serving) {
                    begin_stop(current()->limits.stop_grace);
                    break;
                }
                // A retiring daemon ends its commands; a second signal skips
                // the rest of the wait in progress.
                if (state == daemon_state::handing_over && !told_to_stop)
                    stop_grace = current()->limits.stop_grace;
                else
                    skip_wait = true;
                told_to_stop = true;
                drained.cancel();
                break;
            }
        }
    }
};

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
server::~server() = default;

void server::run()
{
    auto& s = *impl_;
    rlimit nofile = original_nofile_limit(); // remembered for children before raising our own
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
    ::signal(SIGPIPE, SIG_IGN);

    if (!s.options.ready_fd) s.options.ready_fd = ready_fd_from_environment();
    s.predecessor = predecessor_from_environment();
    s.listener.emplace(s.options.socket_path);
    s.acceptor.assign(stream(), s.listener->take_fd().release());
    s.acceptor.non_blocking(true);
    // Automatic: one core left to the clients and their commands. Each
    // request is ~0.1 ms of daemon work; threads beyond that only add
    // cross-thread wake-ups (on 2 cores, 2 threads cost ~5% of a round trip
    // and some throughput against 1: bench/latency.sh, bench/concurrency.sh).
    unsigned cores = std::thread::hardware_concurrency();
    s.threads = s.options.daemon.threads ? s.options.daemon.threads : std::max(1u, cores > 1 ? cores - 1 : 1u);
    s.registry.on_empty([&s] {
        asio::post(s.control, [&s] {
            if (s.state != daemon_state::serving) s.drained.cancel();
        });
    });
    asio::co_spawn(s.control, s.signal_loop(), asio::detached);
    asio::co_spawn(s.control, s.accept_loop(), asio::detached);

    log(log_level::info, "serving {} (pid {}, {} {})", s.options.socket_path, ::getpid(), version(), build_id());
    notify_systemd(fmt::format("READY=1\nSTATUS=serving {}\nMAINPID={}", s.options.socket_path, ::getpid()));
    if (s.options.ready_fd) {
        [[maybe_unused]] auto n = ::write(*s.options.ready_fd, "\n", 1);
        ::close(*s.options.ready_fd);
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
    asio::post(s.control, [&s] { s.begin_stop(s.current()->limits.stop_grace); });
}

} // namespace pfd
