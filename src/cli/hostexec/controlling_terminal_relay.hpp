#pragma once
// hostexec's side of a command that has only a controlling terminal (a
// `ctty` exec: the caller has a terminal, but its stdin or stdout is a pipe
// or a file): the command's /dev/tty is a host pty whose master the daemon
// sent here, and this relays it to the caller's own terminal.
//
// Output (a prompt written to /dev/tty) is always relayed. Input is read
// from the caller's terminal only while the command can be reading its
// own: keystrokes may belong to another program of the caller's pipeline
// (`hostexec git log | less`: every key is less's). The rule
// (docs/usage.md, "A terminal for /dev/tty"):
// - with our stdout on the caller's terminal, nothing after us in a
//   pipeline shows on it: input is relayed from the start, as with a
//   terminal on 0-2;
// - else input is relayed once the command shows it is at its terminal: it
//   wrote a prompt to it (output that does not end its line), or discarded
//   its typed-ahead input with echo off or in raw mode (TCSAFLUSH, as sudo,
//   ssh and getpass do turning echo off; the pty's packet mode reports it);
//   and until it has had a line while its terminal is canonical, or
//   discards input again with echo and lines back on (a restore).
// While input is relayed, the caller's terminal leaves line editing and
// echo to the command's (ICANON, ECHO off here; signals, output processing
// untouched: Ctrl-C and Ctrl-Z still act on the caller's whole job); it gets
// its modes back after, unless another program changed them meanwhile.

#include "pty_relay.hpp"
#include "unique_fd.hpp"

#include <poll.h>
#include <termios.h>

#include <optional>
#include <string>
#include <vector>

namespace pfd {

class controlling_terminal_relay {
public:
    enum class input { from_start, on_demand };

    /// `tty`: the caller's terminal (not owned); `master`: the command's.
    controlling_terminal_relay(int tty, int master, input when);
    ~controlling_terminal_relay();
    controlling_terminal_relay(const controlling_terminal_relay&) = delete;
    controlling_terminal_relay& operator=(const controlling_terminal_relay&) = delete;

    /// Appends the descriptors to watch; handle() takes the same vector.
    void add_poll(std::vector<pollfd>& fds);
    void handle(const std::vector<pollfd>& fds, std::size_t first);
    /// After the command ended: forwards what the master still holds.
    void drain(int quiet_ms)
    {
        drain_master(master_, master_closed_, quiet_ms, [this] { return read_master(); });
    }
    /// The caller's modes back around a stop, and ours again after it.
    void suspend() noexcept;
    void resume() noexcept;

    bool relaying_input() const noexcept { return armed_; }

private:
    void arm();
    void disarm();
    void read_input();
    void flush_to_master();
    bool read_master();
    bool ends_a_line(std::string_view input) const;

    int tty_, master_;
    input when_;
    bool armed_ = false;
    bool master_closed_ = false;
    bool tty_open_ = true;
    std::string to_master_;
    /// The caller's modes when input relaying began, and the ones it set.
    std::optional<termios> saved_, ours_;
};

} // namespace pfd
