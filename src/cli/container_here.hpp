#pragma once
// Whether this process runs inside a container, by the marks container
// engines leave (the daemon also asks the kernel: peer_origin.hpp).

#include <string>

namespace pfd {

/// "flatpak", "toolbox", "podman", the value of $container (distrobox,
/// systemd-nspawn, lxc, ...), or empty when nothing says so.
std::string container_kind_here();

} // namespace pfd
