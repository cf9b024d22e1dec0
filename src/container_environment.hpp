#pragma once
// [container] environment: a command whose client lives in a container gets
// the host session's environment (the daemon's own), with the client's
// values of a few names over it, as flatpak-spawn --host does; the
// container's PATH, LD_LIBRARY_PATH or FLATPAK_ID mean nothing here.

#include "peer_origin.hpp"
#include "pfd/settings.hpp"

#include <string>
#include <vector>

namespace pfd {

/// The environment before [policy]: `client_env` itself for a client here
/// (or with environment = "client"), else the daemon's environment with the
/// client's values of [container] env_forward, of `asked` (the request's
/// env_forward) and of PWD laid over it.
std::vector<std::string> environment_for(const container_section& rules, const peer_origin& origin,
                                         std::vector<std::string> client_env, const std::vector<std::string>& asked);

} // namespace pfd
