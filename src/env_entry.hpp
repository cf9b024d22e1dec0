#pragma once
// "NAME=value" environment entries, as clients send them and commands get them.

#include <string_view>

namespace pfd {

/// The NAME of "NAME=value" (the whole entry if it has no '=').
inline std::string_view env_name(std::string_view entry)
{
    return entry.substr(0, entry.find('='));
}

} // namespace pfd
