#pragma once
// Pseudo-terminals, for both ends: the daemon opens the command's (a
// terminal of the host, which tty, who and sudo can name) and sends the
// master back; hostexec relays between it and its own terminal
// (cli/hostexec/pty_relay.hpp).

#include "pfd/protocol.hpp"
#include "unique_fd.hpp"

#include <sys/ioctl.h>
#include <termios.h>

#include <optional>
#include <string>

namespace pfd {

/// A new pseudo-terminal. The slave starts with `modes` (else the kernel's
/// defaults) and `size`.
struct pty_pair {
    unique_fd master; ///< non-blocking, close-on-exec
    unique_fd slave;  ///< close-on-exec (a received copy loses that flag)
    std::string path; ///< the slave's name, /dev/pts/N
};
pty_pair open_pty(const termios* modes, const winsize* size);

/// A terminal's modes for the wire, and back.
terminal_modes modes_of(const termios& t);
termios termios_of(const terminal_modes& m);

/// The size of the terminal at `fd`, if it is one.
std::optional<winsize> terminal_size(int fd);

} // namespace pfd
