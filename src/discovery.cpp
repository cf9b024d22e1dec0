#include "pfd/discovery.hpp"

#include "pfd/error.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

bool is_ours_and_private(const struct stat& st)
{
    return S_ISDIR(st.st_mode) && st.st_uid == ::getuid() && (st.st_mode & 077) == 0;
}

} // namespace

std::string runtime_dir()
{
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return xdg;
    uid_t uid = ::getuid();
    std::string run_user = fmt::format("/run/user/{}", uid);
    struct stat st{};
    if (::lstat(run_user.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid) return run_user;

    std::string tmp = fmt::format("/tmp/pfd-{}", uid);
    if (::mkdir(tmp.c_str(), 0700) < 0 && errno != EEXIST) throw_errno(fmt::format("cannot create '{}'", tmp));
    if (::lstat(tmp.c_str(), &st) < 0) throw_errno(fmt::format("cannot stat '{}'", tmp));
    if (!is_ours_and_private(st))
        throw std::runtime_error(fmt::format("'{}' is not a private directory owned by uid {} (mode {:o}, owner {}{})",
                                             tmp, uid, st.st_mode & 07777, st.st_uid,
                                             S_ISLNK(st.st_mode) ? ", a symlink" : ""));
    return tmp;
}

std::string find_socket(const std::string& flag)
{
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("PFD_SOCKET"); env && *env) return env;
    return runtime_dir() + "/pfd.sock";
}

} // namespace pfd
