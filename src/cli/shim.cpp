#include "shim.hpp"

#include "directories.hpp"
#include "program_lookup.hpp"

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
    for (auto& name : names)
        // A name starting with "hostexec" would be hostexec itself, not a shim.
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
            name.starts_with("hostexec"))
            throw std::runtime_error(fmt::format("'{}' is not a usable shim name", name));
    make_directories(dir); // a fresh account's ~/.local/bin, as `install -D` would
    for (auto& name : names) {
        std::string link = dir + "/" + name;
        struct stat st {};
        if (::lstat(link.c_str(), &st) == 0) {
            if (S_ISLNK(st.st_mode) && real_path(link) == target) continue;
            throw std::runtime_error(fmt::format("'{}' exists and is not a shim of '{}'", link, target));
        }
        if (::symlink(target.c_str(), link.c_str()) < 0) throw_errno(fmt::format("cannot create '{}'", link));
    }
}

namespace {

/// Whether `candidate` is this hostexec or another copy of it (a container's
/// and the host's shims may point at different ones).
bool is_hostexec(const std::string& candidate, const std::string& self)
{
    auto real = real_path(candidate).value_or(candidate);
    return real == self || real.substr(real.rfind('/') + 1).starts_with("hostexec");
}

bool runnable(const std::string& candidate)
{
    struct stat st {};
    return ::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0;
}

std::string in_dir(const std::string& dir, const std::string& name)
{
    return (dir.empty() ? "." : dir) + "/" + name;
}

} // namespace

std::optional<std::string> find_real_program(const std::string& name, const std::string& path, const std::string& self)
{
    for (auto& dir : path_entries(path)) {
        std::string candidate = in_dir(dir, name);
        if (runnable(candidate) && !is_hostexec(candidate, self)) return candidate;
    }
    return std::nullopt;
}

std::string path_without_shims(const std::string& path, const std::string& name, const std::string& self)
{
    std::string kept;
    bool first = true;
    for (auto& dir : path_entries(path)) {
        std::string candidate = in_dir(dir, name);
        if (runnable(candidate) && is_hostexec(candidate, self)) continue;
        kept += (first ? "" : ":") + dir;
        first = false;
    }
    return kept;
}

} // namespace pfd
