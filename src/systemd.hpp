#pragma once
// The systemd protocols pfd speaks, without libsystemd: readiness and status
// through $NOTIFY_SOCKET, socket activation through $LISTEN_FDS, and user
// units to enable both.

#include <optional>
#include <string>
#include <string_view>

namespace pfd {

/// The listening socket systemd passed (fd 3) when $LISTEN_PID is us and
/// $LISTEN_FDS is at least 1. The LISTEN_* variables are removed so that
/// nothing started later sees them.
std::optional<int> activated_socket();

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET
/// if set; silently does nothing otherwise.
void notify_systemd(std::string_view state) noexcept;

/// Writes pfd.socket and pfd.service for `pfd_path` into `unit_dir`
/// (default $XDG_CONFIG_HOME/systemd/user); returns the directory. They are
/// the units `meson install` installs (data/pfd.*.in), but for the path.
std::string install_user_units(const std::string& pfd_path, std::string unit_dir = {});

} // namespace pfd
