#pragma once
// What the daemon's starter handed down in the environment, each taken once
// (the variable is removed so that no command inherits it).

#include "unique_fd.hpp"

#include <optional>

namespace pfd {

/// The readiness descriptor a launcher left in $PFD_READY_FD.
std::optional<int> ready_fd_from_environment();

/// The daemon that started us as its successor ($PFD_PREDECESSOR), as a
/// pidfd, while it is still our parent: a pid alone could be anybody's by
/// the time we look. Only with a socket it `handed_over` (checked, see
/// socket_activation.hpp): a caller of `pfd serve` that sets the variable
/// makes no process our predecessor. Empty when there is none (or it
/// already ended).
unique_fd predecessor_from_environment(bool handed_over);

} // namespace pfd
