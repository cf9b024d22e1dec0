#pragma once
// [policy] env_*: the environment a command gets from the one its request
// made. A command list means little if the client can also choose what an
// allowed program loads: LD_PRELOAD runs a library inside `id`, BASH_ENV a
// file inside any bash script, GIT_CONFIG_* a hook inside `git status`. So
// where a list is set or the client is another user, such variables from
// the client are refused unless [policy] env_allow names them.

#include "pfd/server.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// Whether the variable makes a program load or run code it names: the
/// dynamic loader's and glibc's secure-mode list (ld.so(8)), shells' start-up
/// files and exported functions, interpreters' start-up and module paths,
/// git's commands and configuration.
bool loads_code(std::string_view name);

/// The command's environment from `env`, whose entries from `first_client`
/// on came from the client: env_deny refuses, env_forward and env_clean
/// filter, env_set adds last. With `guard_code`, a client variable that
/// loads_code() and env_allow does not name is refused. Throws
/// protocol_error(denied) naming the variable.
std::vector<std::string> command_environment(const server_options& o, std::vector<std::string> env,
                                             std::size_t first_client, bool guard_code);

} // namespace pfd
