#pragma once
// The systemd protocols the daemon speaks, without libsystemd: readiness and
// status through $NOTIFY_SOCKET; socket activation through $LISTEN_FDS is
// socket_activation.hpp (the units that enable both: cli/user_units.hpp).

#include <string_view>

namespace pfd {

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET
/// if set; silently does nothing otherwise.
void notify_systemd(std::string_view state) noexcept;

} // namespace pfd
