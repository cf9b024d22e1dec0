#pragma once
// The daemon's log: one line per event on stderr (a file for a background
// daemon), each with a level, filtered by [daemon] log_level.

#include "pfd/settings.hpp"

#include <atomic>
#include <cstdio>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

/// "error", "warn", "info", "debug".
std::optional<log_level> log_level_from_name(std::string_view name) noexcept;

/// What is written from now on (default: info).
void set_log_level(log_level level) noexcept;
bool log_enabled(log_level level) noexcept;

template <typename... Args>
void log(log_level level, fmt::format_string<Args...> format, Args&&... args)
{
    if (!log_enabled(level)) return;
    static constexpr std::string_view names[] = {"error", "warn", "info", "debug"};
    fmt::print(stderr, "pfd: {}: {}\n", names[static_cast<int>(level)],
               fmt::format(format, std::forward<Args>(args)...));
}

} // namespace pfd
