#pragma once
// hostexec's side of a command's pseudo-terminal: its own terminal in raw
// mode, and the relay between it and the master the daemon sent.

#include "pty.hpp"

#include <poll.h>
#include <termios.h>

#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// After the command ended: calls `read_once` (which reads `master` once,
/// false when it got nothing) until the master closes or stays quiet for
/// `quiet_ms`. The two relays' drain.
template <class ReadOnce>
void drain_master(int master, const bool& closed, int quiet_ms, ReadOnce read_once)
{
    while (!closed) {
        pollfd pf{master, POLLIN, 0};
        if (::poll(&pf, 1, quiet_ms) <= 0) return;
        if (!read_once() && !closed) return;
    }
}

/// Puts a terminal into raw mode for its lifetime and restores the exact
/// modes it found on every way out; suspend()/resume() around a stop.
class scoped_raw_mode {
public:
    /// Does nothing if `fd` is not a terminal.
    explicit scoped_raw_mode(int fd);
    ~scoped_raw_mode();
    scoped_raw_mode(const scoped_raw_mode&) = delete;
    scoped_raw_mode& operator=(const scoped_raw_mode&) = delete;

    void suspend() noexcept; ///< back to the saved modes
    void resume() noexcept;  ///< raw again

private:
    int fd_;
    termios saved_{};
    bool is_tty_ = false;
    bool raw_ = false;
};

/// Copies bytes between the local stdin/stdout and the pty master without
/// ever blocking on the master (it has its own buffers and poll interest).
class pty_relay {
public:
    /// `eof_char`: what tells the command "end of input" when local stdin
    /// (not a terminal) reaches its end.
    pty_relay(int in, int out, int master, cc_t eof_char);

    /// Appends the descriptors to watch; handle() takes the same vector.
    void add_poll(std::vector<pollfd>& fds) const;
    /// Acts on the poll results starting at `first`.
    void handle(const std::vector<pollfd>& fds, std::size_t first);

    /// After the command ended: forwards what the master still holds,
    /// waiting at most `quiet_ms` for more once it runs dry.
    void drain(int quiet_ms)
    {
        drain_master(master_, master_closed_, quiet_ms, [this] { return read_master(); });
    }

    /// True once the master reported that no slave is open any more.
    bool master_closed() const noexcept { return master_closed_; }

private:
    void read_input();
    void flush_to_master();
    bool read_master();

    int in_, out_, master_;
    cc_t eof_char_;
    std::string to_master_;
    bool in_open_ = true;
    bool master_closed_ = false;
    char last_input_ = '\n';
};

/// Writes as much of `pending` to the non-blocking `fd` as it takes now;
/// drops it all when `fd` fails otherwise (the reader is gone: input has
/// nowhere to go).
void write_pending(int fd, std::string& pending);

/// Writes all of `data` to the non-blocking `fd`, waiting for room; gives up
/// when `fd` is gone.
void write_all(int fd, std::string_view data);

} // namespace pfd
