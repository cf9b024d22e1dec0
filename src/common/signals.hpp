#pragma once
// Signal names as the protocol spells them ("INT", "KILL", ...).

#include <optional>
#include <string>
#include <string_view>

namespace pfd {

/// "INT", "SIGINT", "int" and "2" all give SIGINT; realtime signals are
/// "RTMIN+N"/"RTMAX-N". nullopt for anything that is not a signal.
std::optional<int> signal_from_name(std::string_view name) noexcept;

/// The short name ("INT"), or the number as text for signals without one.
std::string signal_name(int signo);

} // namespace pfd
