#pragma once
// The daemon's `status` answer (spec §7): who it is and how it does.

#include "pfd/protocol.hpp"
#include "pfd/server.hpp"
#include "latency_window.hpp"
#include "session_registry.hpp"

#include <chrono>
#include <string>

namespace pfd {

/// Where a container client's command gets its environment under `o`, for
/// `pfd status`: reads nothing new.
std::string environment_source(const server_options& o);

status_event daemon_status(const session_registry& registry, const latency_window& latency, const std::string& socket,
                           std::chrono::steady_clock::time_point started);

} // namespace pfd
