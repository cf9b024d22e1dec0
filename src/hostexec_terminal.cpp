// hostexec's pseudo-terminal: opened here, not by the daemon, so that it is
// this terminal that is relayed and no byte goes through the daemon.

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
    std::string_view program = o.command[0];
    program = program.substr(program.rfind('/') + 1);
    return std::find(cfg.exec.no_tty.begin(), cfg.exec.no_tty.end(), program) == cfg.exec.no_tty.end();
}

terminal_session::terminal_session()
{
    termios modes{};
    const termios* from = nullptr;
    if (::tcgetattr(0, &modes) == 0) from = &modes;
    auto size = terminal_size(1);
    if (!size) size = terminal_size(0);
    try {
        pty = open_pty(from, size ? &*size : nullptr);
    } catch (const std::exception& e) {
        throw failure{125, fmt::format("cannot open a pseudo-terminal: {}", e.what())};
    }
    if (!from) {
        // stdin is not a terminal (e.g. a pipe): do not echo what is piped in.
        termios t{};
        if (::tcgetattr(pty.slave.get(), &t) == 0) {
            t.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHONL));
            ::tcsetattr(pty.slave.get(), TCSANOW, &t);
        }
    }
}

void terminal_session::start()
{
    termios t{};
    cc_t eof = 4; // ^D
    if (::tcgetattr(pty.slave.get(), &t) == 0) eof = t.c_cc[VEOF];
    pty.slave.reset(); // the command holds it now; EIO on the master then means "all closed"
    raw.emplace(0);
    relay.emplace(0, 1, pty.master.get(), eof);
}

std::vector<pollfd>& terminal_session::poll_set()
{
    polled.clear();
    relay->add_poll(polled);
    return polled;
}

void terminal_session::handle_ready()
{
    relay->handle(polled, 0);
}

void terminal_session::resize() const
{
    auto size = terminal_size(1);
    if (!size) size = terminal_size(0);
    if (size) ::ioctl(pty.master.get(), TIOCSWINSZ, &*size);
}

} // namespace pfd
