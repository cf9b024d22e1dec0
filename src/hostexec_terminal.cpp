// hostexec's side of the command's pseudo-terminal: the daemon opens it, so
// that it is a terminal of the host (tty, who, sudo and ps can name it), and
// sends its master here; we relay it to our own terminal, no byte going
// through the daemon.

#include "hostexec_parts.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace pfd {

bool wants_tty(const hostexec_options& o, const config& cfg)
{
    if (o.detach || o.tty == tty_mode::never) return false;
    if (o.tty == tty_mode::always) return true;
    if (!::isatty(0) || !::isatty(1)) return false;
    // Programs that hand work to something long-lived and return ([exec]
    // no_tty): given a pty, what they start would die with it.
    if (o.command.empty()) return true; // a login shell
    std::string_view program = o.command[0];
    program = program.substr(program.rfind('/') + 1);
    return std::find(cfg.exec.no_tty.begin(), cfg.exec.no_tty.end(), program) == cfg.exec.no_tty.end();
}

terminal_session::terminal_session()
{
    termios local{};
    if (::tcgetattr(0, &local) == 0) modes = modes_of(local);
    size = terminal_size(1);
    if (!size) size = terminal_size(0);
}

void terminal_session::describe(exec_request& req) const
{
    req.modes = modes; // none: the daemon leaves echo off, input being no terminal
    if (size) {
        req.rows = size->ws_row;
        req.cols = size->ws_col;
    }
}

void terminal_session::attach(unique_fd pty_master)
{
    master = std::move(pty_master);
    termios t{};
    cc_t eof = 4; // ^D
    if (::tcgetattr(master.get(), &t) == 0) eof = t.c_cc[VEOF];
    // Non-blocking: the daemon set it on the description we share.
    raw.emplace(0);
    relay.emplace(0, 1, master.get(), eof);
    resize(); // it may have changed while the request travelled
}

std::vector<pollfd>& terminal_session::poll_set()
{
    polled.clear();
    if (relay) relay->add_poll(polled);
    return polled;
}

void terminal_session::handle_ready()
{
    if (relay) relay->handle(polled, 0);
}

void terminal_session::drain()
{
    if (relay) relay->drain(50);
}

void terminal_session::suspend()
{
    if (raw) raw->suspend();
}

void terminal_session::resume()
{
    if (raw) raw->resume();
}

void terminal_session::resize() const
{
    if (!master) return;
    auto now = terminal_size(1);
    if (!now) now = terminal_size(0);
    if (now) ::ioctl(master.get(), TIOCSWINSZ, &*now);
}

} // namespace pfd
