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
    // A file of another kind already there is not always an error to it.
    bool made = !ec && std::filesystem::is_directory(dir, ec);
    if (!made && !ec) ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) throw std::runtime_error(fmt::format("cannot create directory '{}': {}", dir, ec.message()));
}

} // namespace pfd
