#include "log.hpp"

namespace pfd {

namespace {
std::atomic<int> current{static_cast<int>(log_level::info)};
}

std::optional<log_level> log_level_from_name(std::string_view name) noexcept
{
    if (name == "error") return log_level::error;
    if (name == "warn") return log_level::warn;
    if (name == "info") return log_level::info;
    if (name == "debug") return log_level::debug;
    return std::nullopt;
}

void set_log_level(log_level level) noexcept
{
    current = static_cast<int>(level);
}

bool log_enabled(log_level level) noexcept
{
    return static_cast<int>(level) <= current.load();
}

} // namespace pfd
