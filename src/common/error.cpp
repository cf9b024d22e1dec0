#include "pfd/error.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <system_error>

namespace pfd {

namespace {
/// The wire form of each code, in errc's order.
constexpr std::string_view names[] = {
    "bad_request",    "too_large", "fd_mismatch",  "denied",           "busy",          "limit", "not_found",
    "not_executable", "bad_cwd",   "spawn_failed", "version_mismatch", "shutting_down",
};
static_assert(std::size(names) == static_cast<std::size_t>(errc::shutting_down) + 1, "one name per code");
} // namespace

std::string_view to_string(errc code) noexcept
{
    auto i = static_cast<std::size_t>(code);
    return i < std::size(names) ? names[i] : "spawn_failed";
}

std::optional<errc> errc_from_string(std::string_view name) noexcept
{
    auto at = std::find(std::begin(names), std::end(names), name);
    if (at == std::end(names)) return std::nullopt;
    return static_cast<errc>(at - std::begin(names));
}

void throw_errno(const std::string& what, int error)
{
    throw std::system_error(error, std::generic_category(), what);
}

void throw_errno(const std::string& what)
{
    throw_errno(what, errno);
}

} // namespace pfd
