#include "program_lookup.hpp"
#include "quote.hpp"
#include "spawn_error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace pfd {

namespace {

enum class probe_result { runs, absent, refused };

/// What execve would make of `path`, asked without running it: a missing
/// file or directory is skipped by a PATH search, anything else that cannot
/// run (a directory, no x bit, a noexec mount) is remembered as EACCES.
probe_result probe(const std::string& path, int& error)
{
    struct stat st {};
    error = EACCES;
    if (::stat(path.c_str(), &st) < 0) {
        error = errno;
        return errno == EACCES ? probe_result::refused : probe_result::absent;
    }
    if (!S_ISREG(st.st_mode)) return probe_result::refused;
    if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) < 0) return probe_result::refused;
    return probe_result::runs;
}

std::string join(const std::string& dir, const std::string& name)
{
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string absolute_from(const std::string& path, const std::string& cwd)
{
    return path.starts_with('/') ? path : join(cwd, path);
}

std::string path_of(const std::vector<std::string>& env)
{
    std::string path = "/bin:/usr/bin"; // glibc's default when PATH is unset
    for (auto& e : env)
        if (e.starts_with("PATH=")) path = e.substr(5);
    return path;
}

} // namespace

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

found_program find_program(const std::string& name, const std::vector<std::string>& env, const std::string& cwd)
{
    if (name.find('/') != std::string::npos) {
        found_program found{name, absolute_from(name, cwd)};
        int error = 0;
        switch (probe(found.absolute, error)) {
        case probe_result::runs:
            return found;
        case probe_result::refused:
            throw spawn_error(errc::not_executable, EACCES, fmt::format("{}: {}", quote(name), std::strerror(EACCES)));
        case probe_result::absent:
            struct stat st {};
            if (!name.starts_with('/') && ::stat(cwd.c_str(), &st) < 0)
                throw spawn_error(errc::bad_cwd, errno,
                                  fmt::format("cannot change directory to {}: {}", quote(cwd), std::strerror(errno)));
            throw spawn_error(errc::not_found, error, fmt::format("{}: {}", quote(name), std::strerror(error)));
        }
    }
    bool refused = false;
    for (auto& dir : path_entries(path_of(env))) {
        found_program found{join(dir, name), absolute_from(join(dir, name), cwd)};
        int error = 0;
        switch (probe(found.absolute, error)) {
        case probe_result::runs:
            return found;
        case probe_result::refused:
            refused = true;
            break;
        case probe_result::absent:
            break;
        }
    }
    if (refused)
        throw spawn_error(errc::not_executable, EACCES, fmt::format("{}: {}", quote(name), std::strerror(EACCES)));
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
