#include "program_lookup.hpp"
#include "quote.hpp"
#include "spawn_error.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace pfd {

namespace {

enum class probe_result { runs, absent, refused, proc };

/// What execve would make of the file, asked of the open file without
/// running it: a missing file or directory is skipped by a PATH search,
/// anything else that cannot run (a directory, no x bit, a noexec mount) is
/// remembered as EACCES. A file of /proc (reached without a magic link, as
/// /proc/self/fd/N cannot be) is never taken: its meaning depends on who
/// asks.
probe_result probe(int dir, const std::string& path, found_program& found, int& error)
{
    error = EACCES;
    found.file = open_path(dir, path);
    if (!found.file) {
        error = errno;
        if (errno == ELOOP && path.starts_with("/proc/")) return probe_result::proc;
        return errno == EACCES || errno == ELOOP ? probe_result::refused : probe_result::absent;
    }
    struct stat st {};
    if (::fstat(found.file.get(), &st) < 0 || !S_ISREG(st.st_mode)) return probe_result::refused;
    struct statfs fs {};
    if (::fstatfs(found.file.get(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) return probe_result::proc;
    if (::faccessat(found.file.get(), "", X_OK, AT_EMPTY_PATH | AT_EACCESS) < 0) return probe_result::refused;
    found.identity = {st.st_dev, st.st_ino};
    return probe_result::runs;
}

std::string join(const std::string& dir, const std::string& name)
{
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

/// Where a path is resolved from: the root here, or the command's directory.
int base_of(const std::string& path, int dir)
{
    return path.starts_with('/') ? AT_FDCWD : dir;
}

[[noreturn]] void throw_refused(const std::string& name, int error)
{
    throw spawn_error(errc::not_executable, error, fmt::format("{}: {}", quote(name), std::strerror(error)));
}

[[noreturn]] void throw_proc(const std::string& name)
{
    throw spawn_error(errc::not_executable, EACCES,
                      fmt::format("{}: a program reached through /proc is not run", quote(name)));
}

} // namespace

unique_fd open_path(int dir, const std::string& path, int extra_flags)
{
    if (dir < 0 && dir != AT_FDCWD && !path.starts_with('/')) {
        errno = EBADF;
        return {};
    }
    open_how how{};
    how.flags = static_cast<std::uint64_t>(O_PATH | O_CLOEXEC | extra_flags);
    how.resolve = RESOLVE_NO_MAGICLINKS;
    return unique_fd(static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how)));
}

std::string path_here(const found_program& file)
{
    std::string path(4096, '\0');
    ssize_t n = ::readlink(fmt::format("/proc/self/fd/{}", file.file.get()).c_str(), path.data(), path.size());
    if (n <= 0 || static_cast<std::size_t>(n) == path.size()) return {};
    path.resize(static_cast<std::size_t>(n));
    struct stat st {};
    if (!path.starts_with('/') || ::stat(path.c_str(), &st) < 0 || file_identity{st.st_dev, st.st_ino} != file.identity)
        return {};
    return path;
}

std::vector<std::string> path_entries(const std::string& path)
{
    std::vector<std::string> dirs;
    for (std::size_t start = 0;;) {
        auto colon = path.find(':', start);
        dirs.push_back(path.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos) return dirs;
        start = colon + 1;
    }
}

std::string search_path_of(const std::vector<std::string>& env)
{
    std::string path = "/bin:/usr/bin"; // glibc's default when PATH is unset
    for (auto& e : env)
        if (e.starts_with("PATH=")) path = e.substr(5);
    return path;
}

found_program open_program(const std::string& path, int dir, const std::string& dir_name)
{
    found_program found{path, {}, {}};
    int error = 0;
    switch (probe(base_of(path, dir), path, found, error)) {
    case probe_result::runs:
        return found;
    case probe_result::proc:
        throw_proc(path);
    case probe_result::refused:
        throw_refused(path, EACCES);
    case probe_result::absent:
        break;
    }
    if (!path.starts_with('/') && dir < 0)
        throw spawn_error(errc::bad_cwd, ENOENT,
                          fmt::format("cannot change directory to {}: {}", quote(dir_name), std::strerror(ENOENT)));
    throw spawn_error(errc::not_found, error, fmt::format("{}: {}", quote(path), std::strerror(error)));
}

found_program find_program(const std::string& name, const std::vector<std::string>& env, int dir,
                           const std::string& dir_name)
{
    if (name.find('/') != std::string::npos) return open_program(name, dir, dir_name);
    bool refused = false;
    for (auto& entry : path_entries(search_path_of(env))) {
        found_program found{join(entry, name), {}, {}};
        int error = 0;
        switch (probe(base_of(found.name, dir), found.name, found, error)) {
        case probe_result::runs:
            return found;
        case probe_result::proc:
            throw_proc(found.name);
        case probe_result::refused:
            refused = true;
            break;
        case probe_result::absent:
            break;
        }
    }
    if (refused) throw_refused(name, EACCES);
    throw spawn_error(errc::not_found, ENOENT, fmt::format("{}: command not found", quote(name)));
}

std::string resolved_path(const std::string& path)
{
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    return real ? std::string(real.get()) : std::string();
}

bool root_controlled_directory(const std::string& dir)
{
    std::string at = resolved_path(dir);
    if (at.empty()) return false;
    for (;;) {
        struct stat st {};
        if (::lstat(at.c_str(), &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
            (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
            return false;
        if (at == "/") return true;
        auto slash = at.rfind('/');
        at = slash == 0 ? "/" : at.substr(0, slash);
    }
}

} // namespace pfd
