#include "working_directory.hpp"
#include "quote.hpp"

#include "pfd/error.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pfd {

namespace {

bool same_directory(const std::string& path, const struct stat& dir)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && st.st_dev == dir.st_dev && st.st_ino == dir.st_ino;
}

/// The directory's path in this mount namespace, if it has one.
std::string path_here(int fd, const struct stat& dir)
{
    std::string link = fmt::format("/proc/self/fd/{}", fd);
    std::string target(4096, '\0');
    ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<std::size_t>(n) == target.size()) return {};
    target.resize(static_cast<std::size_t>(n));
    // A directory out of our reach reads back as a path of its own mount
    // namespace, or "... (deleted)": only a name that leads back to it counts.
    return target.starts_with('/') && same_directory(target, dir) ? target : std::string();
}

} // namespace

std::string working_directory::here() const
{
    return fd ? fmt::format("/proc/self/fd/{}", fd.get()) : path;
}

working_directory take_working_directory(std::string path, bool sent_as_descriptor, std::vector<unique_fd>& attached)
{
    working_directory dir{std::move(path), unique_fd()};
    if (!sent_as_descriptor) return dir;
    dir.fd = std::move(attached.front());
    attached.erase(attached.begin());
    struct stat st {};
    if (::fstat(dir.fd.get(), &st) < 0 || !S_ISDIR(st.st_mode))
        throw protocol_error(errc::bad_cwd,
                             fmt::format("the directory descriptor sent for {} is not a directory", quote(dir.path)));
    return dir;
}

void set_pwd(std::vector<std::string>& env, const working_directory& dir)
{
    auto pwd = std::find_if(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("PWD="); });
    if (!dir.fd || pwd == env.end()) return;
    struct stat st {};
    if (::fstat(dir.fd.get(), &st) < 0) return;
    if (same_directory(pwd->substr(4), st)) return; // the client's name is right here too
    if (std::string here = path_here(dir.fd.get(), st); !here.empty())
        *pwd = "PWD=" + here;
    else
        env.erase(pwd);
}

} // namespace pfd
