#include "pfd/error.hpp"

#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

namespace pfd {

namespace {
constexpr std::array<std::pair<errc, std::string_view>, 12> names{{
    {errc::bad_request, "bad_request"},
    {errc::too_large, "too_large"},
    {errc::fd_mismatch, "fd_mismatch"},
    {errc::denied, "denied"},
    {errc::busy, "busy"},
    {errc::limit, "limit"},
    {errc::not_found, "not_found"},
    {errc::not_executable, "not_executable"},
    {errc::bad_cwd, "bad_cwd"},
    {errc::spawn_failed, "spawn_failed"},
    {errc::version_mismatch, "version_mismatch"},
    {errc::shutting_down, "shutting_down"},
}};
} // namespace

std::string_view to_string(errc code) noexcept
{
    for (auto& [c, name] : names)
        if (c == code) return name;
    return "spawn_failed";
}

std::optional<errc> errc_from_string(std::string_view name) noexcept
{
    for (auto& [c, n] : names)
        if (n == name) return c;
    return std::nullopt;
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
