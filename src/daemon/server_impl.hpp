#pragma once
// The server's insides, shared by server.cpp (its threads, accepting
// connections) and server_life.cpp (stop, hand-over and reload, driving
// daemon_life). Only those two include this.

#include "pfd/server.hpp"

#include "connection_slots.hpp"
#include "daemon_life.hpp"
#include "listening_socket.hpp"
#include "reactor_records.hpp"
#include "request_budget.hpp"
#include "session.hpp"
#include "session_registry.hpp"
#include "slow_starts.hpp"
#include "unique_fd.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <fcntl.h>
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pfd {

struct server::impl final : daemon_control {
    using stream = asio::local::stream_protocol;
    template <typename T>
    using awaitable = asio::awaitable<T>;

    server_options options; ///< as given: its wiring holds for the server's life
    asio::io_context io;
    std::optional<listening_socket> listener;
    stream::acceptor acceptor{io};
    // SIGCHLD only as a wake-up: children are still waited on through their
    // pidfds; it tells sessions that a command may have stopped.
    asio::signal_set signals{io, SIGINT, SIGTERM, SIGHUP};
    asio::strand<asio::io_context::executor_type> control{io.get_executor()};
    session_registry registry;
    watch_hub watchers;
    latency_window latency;
    connection_slots slots;
    request_budget budget;
    reactor_records records{io};
    /// Requests whose directory may hang wait for this thread, at most 8 at
    /// once (docs/design.md, bounds). After `io`: destroyed before it, so
    /// no result is posted to a gone io_context.
    slow_start_worker slow_starts{8};
    /// Held for the moment the daemon runs out of descriptors: let go, it
    /// lets one waiting client be accepted and told why before it is closed,
    /// instead of the queue filling with clients that wait for nothing.
    unique_fd reserve{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    unsigned threads = 1; ///< running io, set by run() before it accepts
    std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

    /// What new sessions use: the configuration, replaced whole by a
    /// reload, beside the wiring. (A mutex, not
    /// std::atomic<std::shared_ptr>: libstdc++ 12's crashed here.)
    std::shared_ptr<const server_options> live;
    mutable std::mutex live_mutex;

    // On `control` only: the daemon's life (daemon_life.hpp) and what its
    // actions need.
    daemon_life life;
    /// The current wait of a stop: from when, and which one (a timer
    /// handler of an older one does nothing).
    asio::steady_timer drained{control};
    std::chrono::steady_clock::time_point wait_from;
    std::uint64_t wait_number = 0;
    /// The connections of `stop` askers, told each step and closed when the
    /// server is destroyed: their end tells them the daemon is gone.
    std::vector<unique_fd> stop_askers;
    /// The daemon that handed us the socket, while it finishes its commands:
    /// no restart until it is gone, so daemons never pile up.
    unique_fd predecessor;
    /// The binary on disk (device, inode) whose successor failed or refused
    /// to take over: a client's build does not make us try it again (each
    /// exec would start one to fail) until `pfd restart` or a reload.
    std::optional<std::pair<dev_t, ino_t>> upgrade_failed;

    explicit impl(server_options o) : options(std::move(o)), live(std::make_shared<const server_options>(options))
    {
        signals.add(SIGCHLD);
    }

    std::shared_ptr<const server_options> current() const
    {
        std::lock_guard lock(live_mutex);
        return live;
    }

    // daemon_control: what sessions ask, carried out on `control`.

    awaitable<std::string> reload() override;
    awaitable<std::string> restart() override;

    template <typename Fn>
    static awaitable<std::string> on_control(Fn fn)
    {
        co_return fn();
    }

    void stop(unique_fd asker, std::optional<std::chrono::milliseconds> grace) override;

    /// A client of another build: if our binary was replaced on disk since
    /// we started, replace ourselves with it (once).
    void client_build_seen(std::string_view build) override;

    /// The `status` answer: who we are and how we do (spec §7).
    status_event status() const override;

    /// Re-reads the configuration and replaces it whole; "" when applied,
    /// else why it was not (the running one stays). The wiring (socket,
    /// applets, callbacks) and the threads running are the server's own.
    std::string reload_config();

    /// Hands the listening socket to a successor (the binary on disk), then
    /// stops accepting and lets running commands finish: no client is
    /// refused, no command is cut short. "" when done, else why not.
    std::string hand_over();

    /// A `stop` (on `control`): answered with what it will wait for, then
    /// told each step until the daemon is gone.
    void stop_asked(unique_fd asker, std::optional<std::chrono::milliseconds> grace);

    /// Tells every `stop` asker how the stop goes. The line is tiny and the
    /// asker only reads: it goes into an empty socket buffer at once, and an
    /// asker that does not read loses it rather than holding the daemon up.
    void tell_askers(const event& ev);

    /// What a transition of `life` asks for, in its order (on `control`).
    void carry_out(life_action a);

    /// The wait of a stop ends at its start + the grace in force (a shorter
    /// `stop` re-arms it); a retiring daemon's only when its commands end.
    void arm_wait();
    awaitable<void> accept_loop();

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
    void admit(stream::socket socket);

    /// The error line, if the socket's empty buffer takes it, then the end.
    /// The client reads it even after its own send failed (EPIPE): it was
    /// queued before the close.
    static void refuse(int fd, errc code, std::string message);

    /// EMFILE: the reserve descriptor makes room to accept one client and
    /// tell it so. False when even that fails (then the loop pauses).
    bool refuse_without_descriptors();

    /// Every signal the daemon handles, in one place.
    awaitable<void> signal_loop();
};

} // namespace pfd
