#include "pty.hpp"

#include "pfd/error.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace pfd {

pty_pair open_pty(const termios* modes, const winsize* size)
{
    unique_fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) throw_errno("posix_openpt");
    if (::grantpt(master.get()) < 0 || ::unlockpt(master.get()) < 0) throw_errno("unlockpt");
    char name[128];
    if (::ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("ptsname");
    unique_fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) throw_errno(std::string("open ") + name);
    if (modes) ::tcsetattr(slave.get(), TCSANOW, modes);
    if (size) ::ioctl(master.get(), TIOCSWINSZ, size);
    int flags = ::fcntl(master.get(), F_GETFL);
    ::fcntl(master.get(), F_SETFL, flags | O_NONBLOCK);
    return {std::move(master), std::move(slave), name};
}

terminal_modes modes_of(const termios& t)
{
    return {t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, std::vector<std::uint8_t>(t.c_cc, t.c_cc + NCCS)};
}

termios termios_of(const terminal_modes& m)
{
    termios t{};
    t.c_iflag = m.iflag;
    t.c_oflag = m.oflag;
    t.c_cflag = m.cflag;
    t.c_lflag = m.lflag;
    for (std::size_t i = 0; i < m.cc.size() && i < NCCS; ++i) t.c_cc[i] = m.cc[i];
    return t; // the line speed is part of c_cflag (CBAUD) on Linux
}

std::optional<winsize> terminal_size(int fd)
{
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) < 0) return std::nullopt;
    return ws;
}

} // namespace pfd
