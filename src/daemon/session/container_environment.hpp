#pragma once
// [container] environment: a command whose client lives in a container gets
// the host session's environment (session_environment.hpp: the systemd user
// manager's, or a login environment; never the daemon's own shell's), with
// the client's values of a few names over it, as flatpak-spawn --host does;
// the container's PATH, LD_LIBRARY_PATH or FLATPAK_ID mean nothing here.

#include "peer_origin.hpp"
#include "pfd/protocol.hpp"
#include "pfd/server.hpp"

#include <string>
#include <vector>

namespace pfd {

/// The environment before [policy], and where the client's part of it
/// starts (entries before `first_client` are the host's).
struct command_env {
    std::vector<std::string> env;
    std::size_t first_client = 0;
};

/// The request's `env` itself for a client here (or with environment =
/// "client"), with `clear_env` (the client cleared it: nothing of the
/// host's either), or for a client of another uid (`own_uid` false: the
/// owner's session environment, its tokens, is never another user's,
/// whatever the client says it is); else the host's (`host`, or without it
/// the daemon's own environment without a shell's bookkeeping) without the
/// request's `unset_env`, with the client's values of [container]
/// env_forward, of the request's `env_forward` and of PWD laid over it.
command_env environment_for(const server_options& o, const peer_origin& origin, bool own_uid, exec_request& req);

/// The daemon's own environment as it started, without a shell's
/// bookkeeping and the daemon's hand-over variables: the host's environment
/// of a server that was given none (server_options::host_environment).
const std::vector<std::string>& daemon_environment();

} // namespace pfd
