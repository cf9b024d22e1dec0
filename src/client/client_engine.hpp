#pragma once
// The one client of the protocol. hostexec, pfd::client, the awaitable client
// and every `pfd` verb talk to a daemon through this: the daemon-uid check,
// building the exec request from this process, sending it with descriptors,
// reading typed events, forwarding signals. Blocking and Asio-free, so that
// hostexec stays small and starts in microseconds (the awaitable client
// shares everything here but the blocking reads).

#include "pfd/protocol.hpp"
#include "unique_fd.hpp"
#include "wire.hpp"

#include <poll.h>
#include <sys/types.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pfd {

/// Signals a run hands on to the command's process group instead of acting
/// on this process (hostexec adds job control's).
inline constexpr int terminating_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/// getcwd(), however long. Throws std::system_error.
std::string current_directory();
mode_t current_umask() noexcept;
/// Our environment, one entry per name (the first, as getenv sees it).
std::vector<std::string> current_environment();
/// Our open descriptors without close-on-exec, in order: what a local exec
/// would hand on.
std::vector<int> inheritable_descriptors();

/// An exec request for this process: `plan` maps the number a descriptor
/// gets in the command to the descriptor here; `attached` lists the latter
/// in the request's order: the working directory first when `directory` is
/// one (request.cwd_fd), then `fds`.
struct exec_plan {
    exec_request request;
    std::vector<int> attached;

    void attach(const std::map<int, int>& plan, int directory = -1);
};

/// Refuses (std::runtime_error) a daemon that runs as another uid than
/// ours, root's or one in `trusted`: the kernel says who listens, and our
/// descriptors and environment go to nobody else.
void check_daemon_uid(int sock, const std::string& path, std::span<const uid_t> trusted);

/// Turns bytes from a daemon into events. An `error` event is thrown as
/// protocol_error with the daemon's code and message, as is a line that is
/// no event.
class event_reader {
public:
    void append(std::string_view bytes) { lines_.append(bytes); }
    /// The next whole event, if one is buffered. `raw`, when given, gets its line.
    std::optional<event> next(std::string* raw = nullptr);
    /// The same, but an `error` event is returned, not thrown.
    std::optional<event> next_any(std::string* raw = nullptr);
    /// The next whole line, uninterpreted (a watcher's stream holds other
    /// sessions' errors, which are not ours to throw).
    std::optional<std::string> next_line() { return lines_.next_line(); }
    /// Whether bytes are buffered that no event has been made of yet.
    bool has_pending() const noexcept { return lines_.pending() > 0; }

private:
    line_buffer lines_{1 << 20};
};

/// A connection to a daemon we trust (check_daemon_uid).
class daemon_connection {
public:
    /// Throws std::system_error when nobody answers on `path`.
    daemon_connection(const std::string& path, std::span<const uid_t> trusted);
    /// Over `sock`, already connected to `path`.
    daemon_connection(const std::string& path, unique_fd sock, std::span<const uid_t> trusted);

    int fd() const noexcept { return sock_.get(); }
    const std::string& path() const noexcept { return path_; }

    /// Sends `req` with `fds` attached. When the daemon hung up before
    /// taking it all, what it said (its error event) is the next event;
    /// when it said nothing, std::system_error.
    void send(const request& req, std::span<const int> fds = {});

    /// Asks the command's process group to take `signo`. False when the
    /// daemon is no longer there to hear it.
    bool send_signal(int signo) noexcept;

    /// The next event, reading as needed; nothing once the daemon closed.
    /// `raw`, when given, gets the event's line.
    std::optional<event> next_event(std::string* raw = nullptr);
    /// The next line, uninterpreted, reading as needed; nothing once the
    /// daemon closed.
    std::optional<std::string> next_line();
    /// The next event already read, without reading more; an `error` is
    /// returned, not thrown.
    std::optional<event> buffered_event(std::string* raw = nullptr) { return reader_.next_any(raw); }
    /// One read (blocks unless data is there); false at end of stream.
    bool read_some();
    /// The oldest descriptor the daemon sent (with a `terminal` event), if any.
    unique_fd take_descriptor();

    /// A control op: sends it and returns the first answer. A refusal is
    /// thrown as protocol_error; hanging up without an answer as
    /// std::runtime_error.
    event ask(const request& req, std::string* raw = nullptr);

private:
    std::string path_;
    unique_fd sock_;
    event_reader reader_;
    std::vector<unique_fd> received_;
};

/// While alive, `forward` and `report` signals wait in a signalfd instead of
/// acting on this process; the previous mask comes back after.
class signal_inbox {
public:
    explicit signal_inbox(const std::vector<int>& signals);
    ~signal_inbox();
    signal_inbox(const signal_inbox&) = delete;
    signal_inbox& operator=(const signal_inbox&) = delete;

    int fd() const noexcept { return fd_.get(); }
    /// The next pending signal, 0 if none.
    int next() const noexcept;

private:
    sigset_t previous_;
    unique_fd fd_;
};

/// One exec over a connection, from sending the request to `exited`.
class exec_run {
public:
    /// A signal of `report` arrived (the caller acts on it).
    struct signal_caught {
        int signo;
    };
    /// One of the caller's descriptors is ready (see next()).
    struct fds_ready {};
    /// The daemon closed the connection before the command ended.
    struct connection_lost {};
    using happening = std::variant<event, signal_caught, fds_ready, connection_lost>;

    /// Blocks `forward` and `report` (their signals are read from a
    /// signalfd until the run ends; `forward` ones go to the command), then
    /// sends the request (see daemon_connection::send).
    exec_run(daemon_connection& conn, const exec_plan& plan, std::vector<int> forward, std::vector<int> report = {});

    /// Waits for the next event (an `error` is thrown as protocol_error),
    /// a `report` signal, or readiness of `extra`, polled alongside (their
    /// revents filled in; poll is level-triggered, so what is not acted on
    /// now is reported again). After `exited` the socket is no longer read.
    happening next(std::span<pollfd> extra = {});

    bool ended() const noexcept { return ended_; }

    /// Every event line read is also written there (hostexec --json).
    std::FILE* echo = nullptr;

private:
    daemon_connection& conn_;
    std::vector<int> forward_;
    std::optional<signal_inbox> signals_; ///< none when no signal is asked for
    std::vector<int> caught_;
    bool ended_ = false;
};

/// The exit status a shell would report for a refusal or failure: 127 for
/// not_found, 126 for not_executable, else 125 (as env(1) and podman).
int exit_status_for(errc code) noexcept;

} // namespace pfd
