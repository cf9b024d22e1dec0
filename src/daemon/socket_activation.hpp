#pragma once
// Socket activation ($LISTEN_FDS, $LISTEN_PID: systemd, or a predecessor
// handing its socket over, $PFD_HANDOFF), without libsystemd, and checked:
// whoever starts `pfd serve` sets its environment, and a descriptor 3 left
// open by accident, or a socket of the wrong kind or in the wrong place,
// must never become what the daemon serves on.

#include <optional>
#include <string>

namespace pfd {

/// Checks what the environment passes, without taking it. When $LISTEN_PID
/// is absent or names another process, the variables were meant for that
/// one (inherited: systemd's own rule) and are removed, with $PFD_HANDOFF
/// and $PFD_PREDECESSOR, which only count with a socket handed over; the
/// daemon then binds `path` itself. When $LISTEN_PID is this process,
/// throws std::runtime_error unless $LISTEN_FDS is 1 and descriptor 3 is a
/// listening AF_UNIX stream socket bound to `path`, a socket file of this
/// uid in a directory nobody else may write (check_socket_directory).
void check_activation(const std::string& path);

/// check_activation(), then the descriptor taken (close-on-exec, the
/// LISTEN_* variables removed so that nothing started later sees them).
std::optional<int> activated_socket(const std::string& path);

} // namespace pfd
