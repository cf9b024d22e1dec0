#pragma once
// Strings a client chose, quoted back in events and log lines, capped: a
// megabyte of argv[0] must not come back a megabyte long, nor be copied to
// every watcher (spec §9).

#include <cstddef>
#include <string>
#include <string_view>

namespace pfd {

/// How much of one client string an event or a log line quotes.
inline constexpr std::size_t quoted_max = 256;

/// `s` cut to at most `max` bytes at a UTF-8 character boundary, with "…"
/// appended when something was cut.
std::string clipped(std::string_view s, std::size_t max = quoted_max);

/// clipped(s) in single quotes: 'argv0'.
std::string quote(std::string_view s, std::size_t max = quoted_max);

/// `text` safe to print on a terminal: control bytes (an escape sequence in
/// a client's argv could rewrite the screen or the title) and '\' as \xNN.
std::string printable(std::string_view text);

} // namespace pfd
