#pragma once
// Where a client lives: here (the daemon's mount namespace: the pre-fork use,
// a shell on the host) or in a container, whose paths and environment mean
// something else here (docs/containers.md).

#include <sys/types.h>

#include <string>

namespace pfd {

struct peer_origin {
    bool container = false;
    /// What kind, for `ps`: the client's word ("podman", "toolbox",
    /// "flatpak", ...) or "container" when only the kernel told.
    std::string kind;

    /// "host" or the kind.
    std::string name() const { return container ? kind : "host"; }
};

/// The kernel's answer for the peer of `sock`, whose pid SO_PEERCRED gave:
/// another mount namespace, or another pid namespace (pid 0), is a
/// container, the same mount namespace is not. `stated`, what the client
/// said of itself (the request's `container`), names the kind, and decides
/// only when the kernel cannot tell (the peer's /proc entry is not ours).
peer_origin origin_of(int sock, pid_t pid, const std::string& stated);

} // namespace pfd
