#include "directories.hpp"

#include "pfd/error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace pfd {

void make_directories(const std::string& dir, mode_t mode)
{
    // mkdir(2) takes the umask off what it is given; `mode` takes off more.
    mode_t umask = ::umask(0);
    ::umask(umask | (~mode & 0777));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ::umask(umask);
    // A file of another kind already there is not always an error to it.
    bool made = !ec && std::filesystem::is_directory(dir, ec);
    if (!made && !ec) ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) throw std::runtime_error(fmt::format("cannot create directory '{}': {}", dir, ec.message()));
}

std::optional<std::string> open_to_others(const struct stat& st)
{
    if (st.st_uid != ::getuid()) return fmt::format("owned by uid {}, not by uid {}", st.st_uid, ::getuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return fmt::format("writable by group or others (mode {:o})", st.st_mode & 07777);
    return std::nullopt;
}

void replace_file(int dir_fd, std::string_view shown, const std::string& name, std::string_view text, mode_t mode)
{
    std::string temp = "." + name + ".new";
    auto fail = [&] {
        int error = errno;
        ::unlinkat(dir_fd, temp.c_str(), 0);
        throw_errno(fmt::format("cannot write '{}/{}'", shown, name), error);
    };
    // A temporary file left by an earlier run is ours (the directory is
    // nobody else's): removed, then made anew, never opened as it is.
    if (::unlinkat(dir_fd, temp.c_str(), 0) < 0 && errno != ENOENT) fail();
    unique_fd fd(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) throw_errno(fmt::format("cannot write '{}/{}'", shown, temp));
    if (::fchmod(fd.get(), mode) < 0) fail(); // whatever the umask
    for (std::string_view rest = text; !rest.empty();) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail();
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) < 0) fail();
    // rename(2) replaces the name itself: a symlink planted there is gone,
    // and what it pointed at is untouched.
    if (::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) < 0) fail();
}

} // namespace pfd
