#pragma once
// What a client says when no daemon can be reached: where it looked and why
// there, and for a socket it may not use, who may. hostexec and the pfd
// verbs each add what to do about it.

#include "pfd/discovery.hpp"

#include <string>
#include <system_error>

namespace pfd {

/// Why connecting to `where.socket` failed with `e`, for a user: "no daemon
/// runs on 'P' (the default: $XDG_RUNTIME_DIR/pfd.sock)", "no socket at 'P'
/// (given with --socket)", "cannot connect to 'P': Permission denied; the
/// socket is uid 1000's (mode 0600) and only uid 1000 may connect"...
std::string unreachable_reason(const discovery_result& where, const std::system_error& e);

/// Whether `e` means that nobody listens there (no socket, or one left
/// behind by a daemon that is gone): starting one would help.
bool nobody_listens(const std::system_error& e) noexcept;

} // namespace pfd
