#pragma once
// "NAME=value" environment entries, as clients send them and commands get them.

#include <string_view>

namespace pfd {

/// The NAME of "NAME=value" (the whole entry if it has no '=').
inline std::string_view env_name(std::string_view entry)
{
    return entry.substr(0, entry.find('='));
}

/// A shell's bookkeeping of itself (`_`, OLDPWD, SHLVL, PWD, COLUMNS,
/// LINES): never a session's environment, whatever its source.
inline bool shell_bookkeeping(std::string_view name)
{
    return name == "_" || name == "OLDPWD" || name == "SHLVL" || name == "PWD" || name == "COLUMNS" || name == "LINES";
}

} // namespace pfd
