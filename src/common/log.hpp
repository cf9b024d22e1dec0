#pragma once
// The daemon's log: one line per event on stderr (a file for a background
// daemon), each with a level, filtered by [daemon] log_level. Lines start
// with the local time (ISO 8601, milliseconds, numeric offset), or, when
// stderr is the journal ($JOURNAL_STREAM), with an sd-daemon `<N>` priority
// instead: the journal keeps its own time.

#include "pfd/settings.hpp"

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

/// "error", "warn", "info", "debug".
std::optional<log_level> log_level_from_name(std::string_view name) noexcept;

/// What is written from now on (default: info).
void set_log_level(log_level level) noexcept;
bool log_enabled(log_level level) noexcept;

/// The whole line for `message`, '\n' included, for stderr as it is now.
std::string log_line(log_level level, std::string_view message);

/// Writes log_line() to stderr in one write(2): lines of several threads
/// never interleave. A message holding what needs_escaping() finds is
/// written printable(): a line is never two, nor a terminal's command.
void write_log(log_level level, std::string_view message) noexcept;

template <typename... Args>
void log(log_level level, fmt::format_string<Args...> format, Args&&... args)
{
    if (!log_enabled(level)) return;
    write_log(level, fmt::format(format, std::forward<Args>(args)...));
}

} // namespace pfd
