#pragma once
// The command's terminal as hostexec sees it: which kind it gets, and the
// session that relays it to ours.

#include "config.hpp"
#include "hostexec_options.hpp"
#include "controlling_terminal_relay.hpp"
#include "pty_relay.hpp"

#include "pfd/protocol.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pfd {

/// What terminal the command gets.
enum class terminal_kind {
    none,
    /// A pseudo-terminal as its 0, 1, 2 and controlling terminal: -t, or
    /// stdin and stdout are terminals (and the program is not one of
    /// [exec] no_tty).
    whole,
    /// A pseudo-terminal as its controlling terminal only, its 0-2 ours:
    /// we have a controlling terminal, but stdin or stdout is no terminal
    /// (sudo, ssh, gpg then ask on /dev/tty).
    controlling,
};

/// The command's terminal, which the daemon opens (so that the host can
/// name it) and whose master it sends back; relayed to ours from then on:
/// all of it for a whole terminal (ours raw, pty_relay), for a controlling
/// one what the command writes and, when it reads, what is typed
/// (controlling_terminal_relay).
struct terminal_session {
    terminal_kind kind;
    /// Our controlling terminal, for a controlling one.
    unique_fd tty;
    std::optional<terminal_modes> modes; ///< our terminal's, if stdin is one
    std::optional<winsize> size;
    unique_fd master;
    std::optional<scoped_raw_mode> raw;
    std::optional<pty_relay> relay;
    std::optional<controlling_terminal_relay> tty_relay;
    std::vector<pollfd> polled; ///< the relay's descriptors, for exec_run::next

    /// Reads the local terminal's modes and size; `controlling_tty`: ours,
    /// opened, for a controlling one.
    terminal_session(terminal_kind k, unique_fd controlling_tty);

    /// Whether the terminal is the command's 0, 1 and 2.
    bool replaces_standard_descriptors() const noexcept { return kind == terminal_kind::whole; }

    /// Asks for a terminal with those modes and that size.
    void describe(exec_request& req) const;
    /// The daemon's master arrived: raw mode locally, relay running.
    void attach(unique_fd pty_master);
    bool attached() const noexcept { return relay.has_value() || tty_relay.has_value(); }

    /// The relay's descriptors to poll now (none before attach).
    std::vector<pollfd>& poll_set();
    /// Acts on poll_set()'s results.
    void handle_ready();
    /// Forwards what the master still holds (the command ended).
    void drain();
    /// Back to our own modes around a stop.
    void suspend();
    void resume();

    /// Copies the local terminal's size to the pty.
    void resize() const;
};

/// The terminal the command gets, if any: -t/-T, else whole when stdin and
/// stdout are terminals, else controlling when we have one; none for a
/// program of [exec] no_tty (given a terminal, what it starts would die with
/// it) or with --detach.
std::optional<terminal_session> terminal_for(const hostexec_options& o, const config& cfg);

} // namespace pfd
