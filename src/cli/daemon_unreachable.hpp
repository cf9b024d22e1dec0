#pragma once
// What a client says when no daemon can be reached: where it looked and why
// there, and for a socket it may not use, who may; how a daemon for that
// socket is started on the host, and why none is started inside a container.
// hostexec and the pfd verbs each add what to do about it.

#include "pfd/discovery.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace pfd {

/// Why connecting to `where.socket` failed with `e`, for a user: "no daemon
/// runs on 'P' (the default: $XDG_RUNTIME_DIR/pfd.sock)", "no socket at 'P'
/// (given with --socket)", "'P' (given with --socket) is a directory, not a
/// socket", "cannot connect to 'P': Permission denied; the socket is uid
/// 1000's (mode 0600) and only uid 1000 may connect"...
std::string unreachable_reason(const discovery_result& where, const std::system_error& e);

/// Whether `e`, from connecting to `socket`, means that nobody listens there
/// (no socket, or one left behind by a daemon that is gone): starting one
/// would help. Something that is not a socket in the way is not that.
bool nobody_listens(const std::string& socket, const std::system_error& e) noexcept;

/// The command that starts the daemon of `where` from anywhere: "pfd start"
/// for the default socket, "pfd start --project NAME" for a project's, "pfd
/// start --socket PATH" for any other.
std::string start_command(const discovery_result& where);

/// How a user starts the daemon of `where` on the host: "'pfd start', or for
/// good with 'systemctl --user enable --now pfd.socket'" for the default
/// socket (the one the units serve), else "'START_COMMAND'".
std::string how_to_start(const discovery_result& where);

/// Why no daemon for `where` is started inside this container (`kind`, from
/// container_here.hpp): it would serve the container, not the host. The
/// words of both hostexec -C and pfd start, serve and restart.
std::string not_started_in_container(const discovery_result& where, std::string_view kind);

} // namespace pfd
