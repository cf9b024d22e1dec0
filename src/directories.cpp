#include "directories.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace pfd {

void make_directories(const std::string& dir)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!ec && !std::filesystem::is_directory(dir, ec) && !ec)
        ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) throw std::runtime_error(fmt::format("cannot create directory '{}': {}", dir, ec.message()));
}

} // namespace pfd
