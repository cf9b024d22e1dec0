// hostexec's side of the command's pseudo-terminal: the daemon opens it, so
// that it is a terminal of the host (tty, who, sudo and ps can name it), and
// sends its master here; we relay it to our own terminal, no byte going
// through the daemon.

#include "terminal_session.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace pfd {

namespace {

bool no_tty_program(const hostexec_options& o, const config& cfg)
{
    if (o.command.empty()) return false; // a login shell
    std::string_view program = o.command[0];
    program = program.substr(program.rfind('/') + 1);
    return std::find(cfg.exec.no_tty.begin(), cfg.exec.no_tty.end(), program) != cfg.exec.no_tty.end();
}

} // namespace

std::optional<terminal_session> terminal_for(const hostexec_options& o, const config& cfg)
{
    if (o.detach || o.tty == tty_mode::never) return std::nullopt;
    if (o.tty == tty_mode::always)
        return std::optional<terminal_session>(std::in_place, terminal_kind::whole, unique_fd());
    // Programs that hand work to something long-lived and return ([exec]
    // no_tty): given a pty, what they start would die with it.
    if (no_tty_program(o, cfg)) return std::nullopt;
    if (::isatty(0) && ::isatty(1))
        return std::optional<terminal_session>(std::in_place, terminal_kind::whole, unique_fd());
    unique_fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!tty) return std::nullopt; // no controlling terminal (setsid, a service): none for the command either
    return std::optional<terminal_session>(std::in_place, terminal_kind::controlling, std::move(tty));
}

terminal_session::terminal_session(terminal_kind k, unique_fd controlling_tty)
    : kind(k), tty(std::move(controlling_tty))
{
    int in = tty ? tty.get() : 0;
    termios local{};
    if (::tcgetattr(in, &local) == 0) modes = modes_of(local);
    size = terminal_size(tty ? tty.get() : 1);
    if (!size) size = terminal_size(in);
}

void terminal_session::describe(exec_request& req) const
{
    req.tty = kind == terminal_kind::whole;
    req.ctty = kind == terminal_kind::controlling;
    req.modes = modes; // none: the daemon leaves echo off, input being no terminal
    if (size) {
        req.rows = size->ws_row;
        req.cols = size->ws_col;
    }
}

void terminal_session::attach(unique_fd pty_master)
{
    master = std::move(pty_master);
    if (kind == terminal_kind::controlling) {
        // Our stdout on our terminal: nothing after us in a pipeline shows
        // there, so no other program waits for its keys.
        // (tcgetsid answers only for our controlling terminal.)
        auto when = ::isatty(1) && ::tcgetsid(1) == ::getsid(0) ? controlling_terminal_relay::input::from_start
                                                                : controlling_terminal_relay::input::on_demand;
        tty_relay.emplace(tty.get(), master.get(), when);
        resize();
        return;
    }
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
    if (tty_relay) tty_relay->add_poll(polled);
    return polled;
}

void terminal_session::handle_ready()
{
    if (relay) relay->handle(polled, 0);
    if (tty_relay) tty_relay->handle(polled, 0);
}

void terminal_session::drain()
{
    if (relay) relay->drain(50);
    if (tty_relay) tty_relay->drain(50);
}

void terminal_session::suspend()
{
    if (raw) raw->suspend();
    if (tty_relay) tty_relay->suspend();
}

void terminal_session::resume()
{
    if (raw) raw->resume();
    if (tty_relay) tty_relay->resume();
}

void terminal_session::resize() const
{
    if (!master) return;
    auto now = terminal_size(tty ? tty.get() : 1);
    if (!now) now = terminal_size(0);
    if (now) ::ioctl(master.get(), TIOCSWINSZ, &*now);
}

} // namespace pfd
