#pragma once
// One client connection, in the shape of Asio's chat_server `chat_session`:
// it owns its socket, one notifier and its state. serve() reads the request
// (raced against a watchdog), checks who asks, and hands the request to its
// op (session_ops.hpp), which owns the rest of the connection.

#include "pfd/protocol.hpp"
#include "pfd/server.hpp"
#include "connection_slots.hpp"
#include "request_budget.hpp"
#include "latency_window.hpp"
#include "session_registry.hpp"
#include "slow_starts.hpp"
#include "watch_hub.hpp"
#include "unique_fd.hpp"
#include "unix_socket.hpp"
#include "wire.hpp"

#include <asio/awaitable.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// What a session may ask of the daemon as a whole (server.cpp answers):
/// the control ops, and the client build each exec names.
class daemon_control {
public:
    /// "" when the configuration was re-read and replaced, else why not.
    virtual asio::awaitable<std::string> reload() = 0;
    /// The `status` answer.
    virtual status_event status() const = 0;
    /// "" when the socket is handed over (or already was), else why not.
    virtual asio::awaitable<std::string> restart() = 0;
    /// Each exec's client build id.
    virtual void client_build_seen(std::string_view build) = 0;
    /// A graceful stop, as SIGTERM; the asker's connection is held open
    /// until the daemon is gone, so its end tells the asker that it is.
    /// `grace`: what the stop asked for instead of [limits] stop_grace_ms.
    /// The daemon answers `stopping` on the asker's connection itself.
    virtual void stop(unique_fd asker, std::optional<std::chrono::milliseconds> grace) = 0;

protected:
    ~daemon_control() = default;
};

class session : public std::enable_shared_from_this<session> {
public:
    using socket_type = asio::local::stream_protocol::socket;
    using clock = std::chrono::steady_clock;

    /// `options` is the configuration as it was when the client connected
    /// (it stays this session's through a reload), `peer` who connected
    /// (already allowed), `slot` its place among the open connections,
    /// `budget` what unfinished requests may hold, `slow` the thread for
    /// what may wait on a file system for good.
    session(socket_type socket, std::shared_ptr<const server_options> options, session_registry& registry,
            watch_hub& watchers, latency_window& latency, daemon_control& daemon, peer_credentials peer,
            connection_slots::slot slot, request_budget& budget, slow_start_worker& slow);

    /// Serves the connection to its end, on the socket's (strand) executor.
    /// Never throws: a failure becomes an `error` event for this client only.
    static asio::awaitable<void> serve(std::shared_ptr<session> self);

    socket_type& socket() noexcept { return socket_; }
    const server_options& options() const noexcept { return *options_; }
    session_registry& registry() const noexcept { return registry_; }
    watch_hub& watchers() const noexcept { return watchers_; }
    latency_window& latency() const noexcept { return latency_; }
    daemon_control& daemon() const noexcept { return daemon_; }
    slow_start_worker& slow_starts() const noexcept { return slow_starts_; }
    const peer_credentials& peer() const noexcept { return peer_; }
    /// The daemon's own uid or root: may see and control every session and
    /// the daemon itself. Other allowed uids ([policy] allow_uids) only
    /// their own sessions.
    bool peer_is_owner() const;
    clock::time_point connected() const noexcept { return connected_; }

    /// Sends a line the client may no longer be there to read.
    asio::awaitable<void> send(std::string line);
    /// Sends an event line to this client and to every watcher.
    asio::awaitable<void> emit(std::string line);
    /// The same, with `fd` riding along (SCM_RIGHTS) to this client only.
    asio::awaitable<void> emit(std::string line, int fd);

    /// A closure callable from any thread that runs `fn` on this session's
    /// strand while the session lives (and does nothing after).
    std::function<void()> on_strand(std::function<void(session&)> fn);
    /// Wakes notified(), from any thread: the command may have stopped,
    /// the applet reported, the watch has lines.
    std::function<void()> waker();
    /// Waits until woken since the last wait (true) or until `deadline`
    /// (false); false too when the wait itself is cancelled (`||`).
    asio::awaitable<bool> notified(clock::time_point deadline = clock::time_point::max());

    enum class client_end { gone, bad_line };
    /// Reads the lines a client sends while its command runs (signals,
    /// handed to `deliver`) until it goes away or says what it may not.
    asio::awaitable<client_end> read_control(const std::function<void(int)>& deliver);
    /// Completes when the peer closes (or sends anything, which a watcher must not).
    asio::awaitable<void> peer_closed();

    /// Hangs up on the client: no more is read or sent.
    void close() noexcept;

private:
    struct request_message {
        std::string line;
        std::vector<unique_fd> fds;
    };
    /// Nothing (the client left), the request, or the error to answer. A
    /// struct, not the variant itself: `||` would flatten a variant into
    /// its own result.
    struct read_result {
        std::variant<std::monostate, request_message, error_event> value;
    };

    asio::awaitable<void> handle();
    asio::awaitable<read_result> read_request();
    asio::awaitable<void> watchdog();
    /// Waits until the socket has bytes or its end to read; the error when
    /// the wait was cancelled or the connection failed.
    asio::awaitable<asio::error_code> readable();
    /// Gives the request's buffer back and stops counting it in the budget.
    void request_done();

    socket_type socket_;
    std::shared_ptr<const server_options> options_;
    session_registry& registry_;
    watch_hub& watchers_;
    latency_window& latency_;
    daemon_control& daemon_;
    slow_start_worker& slow_starts_;
    clock::time_point connected_ = clock::now();
    peer_credentials peer_;
    connection_slots::slot slot_;
    // Before lines_: given back after the buffer it counts is freed.
    request_budget& budget_pool_;
    request_budget::share budget_;
    bool reading_request_ = true; ///< on the strand: eviction may cancel the read
    line_buffer lines_;
    asio::steady_timer notifier_;
    bool woken_ = false;
};

} // namespace pfd
