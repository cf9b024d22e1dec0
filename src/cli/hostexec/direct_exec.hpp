#pragma once
// What hostexec runs itself, not through a daemon: the daemon's starter,
// the command here ([discovery] fallback = "local"), a shim's real program.
// Each throws failure (hostexec_failure.hpp) when it cannot.

#include "config.hpp"
#include "hostexec_options.hpp"
#include "pfd/discovery.hpp"
#include "pfd/protocol.hpp"

namespace pfd {

/// Runs `pfd start` (or [discovery] autostart_command) for `where` and
/// returns once the daemon is ready. Throws failure.
void start_daemon(const discovery_result& where, const config& cfg);

/// [discovery] fallback = "local": no daemon to be had, so the command runs
/// here, in this process, with the environment and directory it would have
/// had (descriptors are ours already). Throws failure.
[[noreturn]] void run_here(const exec_request& req);

/// A shim started by pfd for its own name is on the daemon's side already:
/// run the real program from PATH, never the daemon again. Throws failure.
[[noreturn]] void run_real_program(const hostexec_options& o);

} // namespace pfd
