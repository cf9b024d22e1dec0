#pragma once
// This process's own mount table, parsed once and read again only when it
// changed: the kernel marks an open /proc/self/mountinfo (POLLPRI) when its
// namespace's mounts change, so checking costs one poll(), not a read, on
// every request that sends a directory.

#include <optional>
#include <string>

namespace pfd {

/// The type of the mount with this ID in this process's mount namespace
/// as it is now; nothing when no mount here has it (a mount of another
/// namespace). Mount IDs are reused: the caller asks about a mount it holds
/// a descriptor of, whose ID cannot be freed meanwhile, and the table is
/// brought up to date before each answer. Thread-safe.
std::optional<std::string> own_mount_type(unsigned long id);

} // namespace pfd
