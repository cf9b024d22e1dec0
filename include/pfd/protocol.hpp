#pragma once
// Messages of wire protocol version 1 (spec §3, docs/protocol.md): the
// requests a client sends, the events the daemon answers with, and their
// strict validation. Pure data and JSON: no sockets, no system calls.

#include "pfd/error.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pfd {

inline constexpr int protocol_version = 1;

/// A terminal's modes as termios(3) has them (the kernel's constants, the
/// same for every libc): what hostexec's own terminal is set to.
struct terminal_modes {
    std::uint32_t iflag = 0, oflag = 0, cflag = 0, lflag = 0;
    std::vector<std::uint8_t> cc; ///< c_cc, indexed by VINTR, VQUIT, ...

    bool operator==(const terminal_modes&) const = default;
};

/// Run argv with env in cwd; the descriptors attached to the request line land
/// at the numbers in `fds`, in order. Strings are byte strings.
struct exec_request {
    /// Empty with `login_shell`: the daemon fills it in.
    std::vector<std::string> argv;
    std::vector<std::string> env;
    /// The directory's path as the client names it; with `cwd_fd` only shown
    /// (ps) and used for PWD, the directory itself travels as a descriptor.
    std::string cwd;
    /// The first attached descriptor is the directory to start in (any
    /// directory descriptor, O_PATH is enough); it is not passed on, and
    /// `fds` describes the ones after it.
    bool cwd_fd = false;
    mode_t umask = 022;
    std::vector<int> fds;
    /// The daemon opens a pseudo-terminal: its slave is the command's 0, 1
    /// and 2 and controlling terminal, its master goes back to the client
    /// (the `terminal` event), so the terminal is one the host can name.
    bool tty = false;
    /// The daemon opens a pseudo-terminal as the command's controlling
    /// terminal only (its /dev/tty: sudo, ssh, gpg ask there), its 0-2
    /// being attached descriptors like any other; the master goes back as
    /// with `tty`. For a caller with a terminal whose stdin or stdout is not.
    bool ctty = false;
    /// With tty or ctty: the size (rows, columns; 0: unknown) and the modes to start
    /// with (none: the kernel's, without echo).
    std::uint16_t rows = 0, cols = 0;
    std::optional<terminal_modes> modes;
    bool detach = false;
    std::string client;
    /// The file to run when it is not argv[0] (a shim keeps the caller's
    /// argv[0], a path or not, and names the program here).
    std::string program;
    /// The client says it runs in a container of this kind ("podman",
    /// "toolbox", "flatpak", ...): its environment is not the host's.
    std::string container;
    /// Names of `env` a client in a container asks to keep over the host's
    /// environment (hostexec --env, --env-forward), beside [container]
    /// env_forward.
    std::vector<std::string> env_forward;
    /// A container client's --clear-env: `env` is the whole environment,
    /// nothing of the host's under it (hostexec --clear-env means the same
    /// from a container as on the host).
    bool clear_env = false;
    /// A container client's --unset-env: names removed from the host's
    /// environment too.
    std::vector<std::string> unset_env;
    /// Run the daemon's user's login shell (its passwd entry's, as
    /// `-NAME`): the client cannot know the host's shell. No argv then.
    bool login_shell = false;

    bool operator==(const exec_request&) const = default;
};

/// Deliver a signal to the command's process group (sent while it runs).
struct signal_request {
    int signo = 0;
    bool operator==(const signal_request&) const = default;
};

/// Ask the daemon to cancel session `id` (two-step: TERM, then KILL).
struct cancel_request {
    std::uint64_t id = 0;
    bool operator==(const cancel_request&) const = default;
};

/// The control ops without arguments, one type each.
struct ps_request {
    bool operator==(const ps_request&) const = default;
};
struct watch_request {
    bool operator==(const watch_request&) const = default;
};
struct status_request {
    bool operator==(const status_request&) const = default;
};
struct ping_request {
    bool operator==(const ping_request&) const = default;
};
/// Stop the daemon; `grace` replaces its configured stop grace
/// ([limits] stop_grace_ms) for each of the two waits.
struct stop_request {
    std::optional<std::chrono::milliseconds> grace;
    bool operator==(const stop_request&) const = default;
};
/// The longest stop grace a request may ask for (an hour).
inline constexpr std::chrono::milliseconds max_stop_grace{3600000};
struct reload_request {
    bool operator==(const reload_request&) const = default;
};
struct restart_request {
    bool operator==(const restart_request&) const = default;
};

/// Every request of protocol version 1: the whole set, closed. A new op is
/// a new alternative here, its encoding in protocol_requests.cpp, and its
/// handler in the daemon's dispatch (which std::visit makes fail to compile
/// until then).
using request = std::variant<exec_request, signal_request, cancel_request, ps_request, watch_request, status_request,
                             ping_request, stop_request, reload_request, restart_request>;

/// The op's name on the wire ("exec", "ps"...).
std::string_view op_name(const request& req) noexcept;

/// Parses and validates one request line (without its '\n'). Throws
/// protocol_error with the code to answer: bad_request for anything malformed,
/// version_mismatch for another protocol version.
request parse_request(std::string_view line);

/// Parses a line sent while an exec runs: only `signal` is allowed there.
signal_request parse_control(std::string_view line);

/// Encodes a request as one line, '\n' included.
std::string encode_request(const request& req);

struct accepted_event {
    std::uint64_t id = 0;
};
struct started_event {
    std::uint64_t id = 0;
    pid_t pid = 0;
};
/// The command's pseudo-terminal (a `tty` exec): its name on the daemon's
/// side; its master rides with this line (SCM_RIGHTS).
struct terminal_event {
    std::uint64_t id = 0;
    std::string path;
};
/// How a command ended: its exit code, or the signal that killed it.
struct exited_event {
    std::uint64_t id = 0;
    std::optional<int> code;
    int signo = 0;
    bool core = false;
    std::uint64_t duration_ms = 0;
};
/// The command (the session's leader) was stopped by a signal (job control).
struct stopped_event {
    std::uint64_t id = 0;
    int signo = 0;
};
/// The command continued after a stop.
struct continued_event {
    std::uint64_t id = 0;
};
struct error_event {
    errc code = errc::spawn_failed;
    std::string message;
};
/// An applet's word on how far it got (see applet.hpp): a message and,
/// when it knows, a percentage.
struct progress_event {
    std::uint64_t id = 0;
    std::string message;
    std::optional<int> percent; ///< 0..100
};

/// Answers to the control ops.
struct pong_event {};
struct reloaded_event {};
struct restarted_event {};
/// `stop` acknowledged by the daemon of `pid`; the connection then stays
/// open until that daemon is gone.
struct stopping_event {
    pid_t pid = 0;
    /// Commands running when the stop was asked, and the grace each wait
    /// takes (absent from daemons before these fields).
    std::optional<std::uint64_t> running;
    std::optional<std::uint64_t> grace_ms;
};
/// A step of a stop, told to every connection that asked for it: all
/// commands ended, or a signal went to `commands` commands still running.
enum class stop_step { ended, term, kill };
struct stop_step_event {
    stop_step step = stop_step::ended;
    std::uint64_t commands = 0;
};
/// Who asked for session `id` and what it runs, sent to watchers only
/// (before the session's `accepted`): `watch` shows it beside the events.
struct session_event {
    std::uint64_t id = 0;
    uid_t peer_uid = 0;
    pid_t peer_pid = 0;
    std::vector<std::string> argv; ///< byte strings, cut (session_argv_max, session_argv_bytes)
    std::string origin = "host";
    bool truncated = false; ///< argv was cut or arguments left out
};
/// How much of a session's argv the daemon keeps for `ps` and the `session`
/// event: the command gets all of it, but neither the daemon's memory nor
/// `ps` and every watcher should carry a megabyte request for as long as it
/// runs. At most this many arguments...
inline constexpr std::size_t session_argv_max = 64;
/// ...and this many bytes of them: the argument that crosses it is cut
/// (with "…"), those after it are left out, and `truncated` says so.
inline constexpr std::size_t session_argv_bytes = 4096;
struct watching_event {};
/// `cancel`'s first step: `signo` (TERM) went to the session's group.
struct cancelling_event {
    std::uint64_t id = 0;
    int signo = 0;
};
/// `cancel`'s second step: the session ended; `killed` when SIGKILL was needed.
struct cancelled_event {
    std::uint64_t id = 0;
    bool killed = false;
};
/// What the daemon says of itself (`status`).
struct status_event {
    pid_t pid = 0;
    std::string socket;
    std::uint64_t uptime_ms = 0;
    std::string version;
    std::string build;
    std::uint64_t running = 0;
    std::uint64_t served = 0;
    std::uint64_t latency_mean_us = 0;
    std::uint64_t latency_p99_us = 0;
    std::uint64_t rss_kib = 0;
    /// Where a container client's command gets its environment ("" from a
    /// daemon before this field).
    std::string environment;
};
/// One running session, as `ps` lists it.
struct ps_entry {
    std::uint64_t id = 0;
    pid_t pid = 0;
    uid_t peer_uid = 0;
    pid_t peer_pid = 0;
    std::vector<std::string> argv; ///< byte strings, cut as session_event's
    std::uint64_t age_ms = 0;
    /// Where the client lives: "host" or a container's kind ("podman", ...).
    std::string origin = "host";
    bool truncated = false; ///< argv was cut or arguments left out
};
struct ps_event {
    std::vector<ps_entry> sessions;
};
/// An event this build does not know (a newer daemon's), kept by name:
/// clients ignore it.
struct other_event {
    std::string name;
};

/// Every event of protocol version 1, plus other_event for newer ones.
using event = std::variant<accepted_event, started_event, terminal_event, exited_event, stopped_event, continued_event,
                           progress_event, error_event, pong_event, reloaded_event, restarted_event, stopping_event,
                           watching_event, cancelling_event, cancelled_event, status_event, ps_event, stop_step_event,
                           session_event, other_event>;

/// Encodes an event as one line, '\n' included.
std::string encode_event(const event& ev);

/// Parses an event line leniently (unknown fields are ignored, so an older
/// client keeps working with a newer daemon). Throws protocol_error if the line
/// is not an event at all, or a known event lacks a field it must have.
event parse_event(std::string_view line);

/// The exit status a shell would report for `ev` (128 + signal when killed).
int shell_status(const exited_event& ev) noexcept;

} // namespace pfd
