#pragma once
// [policy] allow_commands / deny_commands, judged on the files that will
// run, by reference: the program's open descriptor and each interpreter's
// (program_launch), never a name the client gave. An entry is expanded here,
// in the daemon's own mount namespace, to the files it names, and a program
// matches it when it is one of them (device and inode): a name the client
// chose, a symlink, /proc/self/..., a directory of another mount namespace
// or a descriptor table rearranged after the check all lead to another
// file, or to the same one (docs/security.md).

#include "pfd/settings.hpp"
#include "program_launch.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pfd {

/// Nothing when the launch may run; else why not, for a `denied` answer.
/// The program (the file the command names) must be allowed and not denied;
/// an interpreter it runs through must not be denied (an allow-list of
/// scripts would else have to allow their shell, and with it `sh -c`
/// anything). `env` is the command's (its PATH's root-owned directories
/// count as system directories), `name` what the client called it.
std::optional<std::string> command_refusal(const policy_section& policy, const program_launch& launch,
                                           const std::vector<std::string>& env, const std::string& name);

/// An applet (the library's in-process commands) is judged by its name.
bool applet_allowed(const policy_section& policy, const std::string& name);

} // namespace pfd
