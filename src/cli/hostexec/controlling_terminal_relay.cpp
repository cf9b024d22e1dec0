#include "controlling_terminal_relay.hpp"
#include "pty_relay.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pfd {

namespace {

bool same_modes(const termios& a, const termios& b)
{
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag && a.c_lflag == b.c_lflag &&
           std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

void set_modes(int fd, const termios& t)
{
    // TCSADRAIN: output already relayed reaches the screen before the modes change.
    while (::tcsetattr(fd, TCSADRAIN, &t) < 0 && errno == EINTR) {
    }
}

} // namespace

controlling_terminal_relay::controlling_terminal_relay(int tty, int master, input when)
    : tty_(tty), master_(master), when_(when)
{
    // Packet mode: each read of the master says first whether the command
    // flushed its input (TIOCPKT_FLUSHREAD), which is how it starts reading
    // a password.
    int on = 1;
    ::ioctl(master_, TIOCPKT, &on);
    if (when_ == input::from_start) arm();
}

controlling_terminal_relay::~controlling_terminal_relay()
{
    suspend();
}

void controlling_terminal_relay::arm()
{
    if (armed_) return;
    armed_ = true;
    resume();
}

void controlling_terminal_relay::disarm()
{
    suspend();
    armed_ = false;
}

void controlling_terminal_relay::resume() noexcept
{
    if (!armed_ || saved_) return;
    termios now{};
    if (::tcgetattr(tty_, &now) < 0) return;
    termios t = now;
    t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO | ECHONL | IEXTEN));
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    set_modes(tty_, t);
    termios set{};
    if (::tcgetattr(tty_, &set) < 0) set = t;
    saved_ = now;
    ours_ = set;
}

void controlling_terminal_relay::suspend() noexcept
{
    if (!saved_) return;
    // Another program of the pipeline (less) may have set modes of its own
    // meanwhile: those stay.
    termios now{};
    if (::tcgetattr(tty_, &now) == 0 && same_modes(now, *ours_)) set_modes(tty_, *saved_);
    saved_.reset();
    ours_.reset();
}

void controlling_terminal_relay::add_poll(std::vector<pollfd>& fds)
{
    // In the background a read of our terminal would stop us (SIGTTIN):
    // the command waits, as it would for a background job.
    bool foreground = armed_ && tty_open_ && to_master_.empty() && ::tcgetpgrp(tty_) == ::getpgrp();
    fds.push_back({foreground ? tty_ : -1, POLLIN, 0});
    short master_events = static_cast<short>((master_closed_ ? 0 : POLLIN) | (to_master_.empty() ? 0 : POLLOUT));
    fds.push_back({master_events ? master_ : -1, master_events, 0});
}

void controlling_terminal_relay::handle(const std::vector<pollfd>& fds, std::size_t first)
{
    if (fds[first].fd >= 0 && (fds[first].revents & (POLLIN | POLLHUP | POLLERR))) read_input();
    short m = fds[first + 1].revents;
    if (m & POLLOUT) flush_to_master();
    if (m & (POLLIN | POLLHUP | POLLERR)) read_master();
}

bool controlling_terminal_relay::ends_a_line(std::string_view input) const
{
    termios t{};
    // On the master, the modes are the command's terminal's.
    if (::tcgetattr(master_, &t) < 0 || !(t.c_lflag & ICANON)) return false;
    for (char c : input) {
        auto is = [&](int index) { return t.c_cc[index] != _POSIX_VDISABLE && c == static_cast<char>(t.c_cc[index]); };
        if (c == '\n' || (c == '\r' && (t.c_iflag & ICRNL)) || is(VEOL) || is(VEOL2) || is(VEOF)) return true;
    }
    return false;
}

void controlling_terminal_relay::read_input()
{
    char buf[4096];
    ssize_t n = ::read(tty_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        tty_open_ = false; // hung up: nothing more will come
        return;
    }
    std::string_view chunk(buf, static_cast<std::size_t>(n));
    to_master_.append(chunk);
    flush_to_master();
    if (!ends_a_line(chunk)) return;
    // The command, woken by the line, writes its answer straight to our
    // terminal while the line's echo comes through us: take the echo now,
    // while the command is still reading, so it shows first.
    pollfd echo{master_, POLLIN, 0};
    if (::poll(&echo, 1, 5) > 0) read_master();
    // The line it waited for has gone: the next keys may be another
    // program's, until the command shows it reads again.
    if (when_ == input::on_demand) disarm();
}

void controlling_terminal_relay::flush_to_master()
{
    write_pending(master_, to_master_);
}

bool controlling_terminal_relay::read_master()
{
    char buf[65536];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
    if (n <= 0) {
        master_closed_ = true; // EIO: the command and pfd-session are gone
        return false;
    }
    if (buf[0] == TIOCPKT_DATA) {
        write_all(tty_, std::string_view(buf + 1, static_cast<std::size_t>(n - 1)));
        // A prompt does not end its line; a message does (sudo's newline
        // after the password it read).
        if (n > 1 && buf[n - 1] != '\n') arm();
    } else if ((buf[0] & TIOCPKT_FLUSHREAD) && when_ == input::on_demand) {
        // Typed-ahead input discarded: turning echo off for a password, or
        // raw mode for a screen, means input is next; back to echo and
        // lines, the program is done with its terminal.
        termios t{};
        if (::tcgetattr(master_, &t) == 0 && (t.c_lflag & ICANON) && (t.c_lflag & ECHO))
            disarm();
        else
            arm();
    }
    return true;
}

} // namespace pfd
