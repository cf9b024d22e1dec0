#pragma once
// The systemd protocols the daemon speaks, without libsystemd: readiness and
// status through $NOTIFY_SOCKET, socket activation through $LISTEN_FDS (the
// units that enable both: cli/user_units.hpp).

#include <optional>
#include <string_view>

namespace pfd {

/// The listening socket systemd passed (fd 3) when $LISTEN_PID is us and
/// $LISTEN_FDS is at least 1. The LISTEN_* variables are removed so that
/// nothing started later sees them.
std::optional<int> activated_socket();

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET
/// if set; silently does nothing otherwise.
void notify_systemd(std::string_view state) noexcept;

} // namespace pfd
