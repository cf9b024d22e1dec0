#include "shim.hpp"

#include "pfd/error.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

std::optional<std::string> real_path(const std::string& path)
{
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) return std::nullopt;
    return std::string(buf);
}

} // namespace

std::string self_executable()
{
    auto p = real_path("/proc/self/exe");
    if (!p) throw_errno("cannot resolve /proc/self/exe");
    return *p;
}

void install_shims(const std::string& dir, const std::vector<std::string>& names, const std::string& target)
{
    for (auto& name : names) {
        // A name starting with "hostexec" would be hostexec itself, not a shim.
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
            name.starts_with("hostexec"))
            throw std::runtime_error(fmt::format("'{}' is not a usable shim name", name));
        std::string link = dir + "/" + name;
        struct stat st {};
        if (::lstat(link.c_str(), &st) == 0) {
            if (S_ISLNK(st.st_mode) && real_path(link) == target) continue;
            throw std::runtime_error(fmt::format("'{}' exists and is not a shim of '{}'", link, target));
        }
        if (::symlink(target.c_str(), link.c_str()) < 0) throw_errno(fmt::format("cannot create '{}'", link));
    }
}

std::optional<std::string> find_real_program(const std::string& name, const std::string& path, const std::string& self)
{
    std::size_t start = 0;
    for (;;) {
        auto colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
            // Skip this hostexec and any other copy of it (a container's and
            // the host's shims may point at different ones).
            auto real = real_path(candidate).value_or(candidate);
            auto base = real.substr(real.rfind('/') + 1);
            if (real != self && !base.starts_with("hostexec")) return candidate;
        }
        if (colon == std::string::npos) return std::nullopt;
        start = colon + 1;
    }
}

} // namespace pfd
