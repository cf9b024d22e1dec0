#include "project_trust.hpp"

#include "pfd/discovery.hpp"
#include "pfd/error.hpp"
#include "quote.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

/// What makes a file not ours to obey, or nothing.
std::optional<std::string> unsafe(const struct stat& st)
{
    if (!S_ISREG(st.st_mode)) return std::string("not a regular file");
    if (st.st_uid != ::getuid() && st.st_uid != 0) return fmt::format("owned by uid {}, not by you", st.st_uid);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return fmt::format("writable by group or others (mode {:o})", st.st_mode & 07777);
    return std::nullopt;
}

/// mkdir -p for directories of ours, 0700.
void make_private_dirs(const std::string& dir)
{
    for (std::size_t slash = 1; slash != std::string::npos;) {
        slash = dir.find('/', slash + 1);
        std::string part = dir.substr(0, slash);
        if (::mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) throw_errno(fmt::format("cannot create '{}'", part));
    }
}

} // namespace

std::optional<project_file> read_project_file(const std::string& path, std::string& why)
{
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        why = errno == ELOOP ? "a symlink" : std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    if (auto reason = unsafe(st)) {
        why = *reason;
        return std::nullopt;
    }
    project_file file{path, {}};
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) return file;
        file.content.append(buf, static_cast<std::size_t>(n));
        if (file.content.size() > (1 << 20)) {
            why = "larger than 1 MiB";
            return std::nullopt;
        }
    }
}

std::string content_hash(std::string_view content)
{
    char hex[SHA256_DIGEST_STRING_LENGTH];
    SHA256Data(reinterpret_cast<const std::uint8_t*>(content.data()), content.size(), hex);
    return hex;
}

std::string trust_store::default_path()
{
    if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data == '/')
        return std::string(data) + "/pfd/trusted";
    const char* home = std::getenv("HOME");
    if (!home || *home != '/')
        throw std::runtime_error("neither XDG_DATA_HOME nor HOME is set: no place to trust files");
    return std::string(home) + "/.local/share/pfd/trusted";
}

std::vector<trust_store::entry> trust_store::entries() const
{
    std::vector<entry> out;
    // Our own file, not one planted in our place.
    unique_fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) < 0 || unsafe(st)) return out;
    std::string text;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    for (std::size_t at = 0; at < text.size();) {
        auto nl = text.find('\n', at);
        std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        at = nl == std::string::npos ? text.size() : nl + 1;
        auto space = line.find(' ');
        if (space == 64 && line.size() > 65 && line[65] == '/') out.push_back({line.substr(0, 64), line.substr(65)});
    }
    return out;
}

bool trust_store::trusts(const project_file& file) const
{
    auto all = entries();
    std::string hash = content_hash(file.content);
    return std::any_of(all.begin(), all.end(), [&](auto& e) { return e.path == file.path && e.hash == hash; });
}

void trust_store::trust(const project_file& file) const
{
    if (file.path.find('\n') != std::string::npos) throw std::runtime_error("a path with a newline cannot be trusted");
    auto all = entries();
    std::erase_if(all, [&](auto& e) { return e.path == file.path; });
    all.push_back({content_hash(file.content), file.path});
    write(all);
}

bool trust_store::revoke(const std::string& path) const
{
    auto all = entries();
    if (std::erase_if(all, [&](auto& e) { return e.path == path; }) == 0) return false;
    write(all);
    return true;
}

void trust_store::write(const std::vector<entry>& entries) const
{
    make_private_dirs(path_.substr(0, path_.rfind('/')));
    // A new file renamed over the old: readers see one or the other, whole.
    std::string temp = path_ + ".new";
    ::unlink(temp.c_str());
    unique_fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw_errno(fmt::format("cannot write '{}'", temp));
    std::string text;
    for (auto& e : entries) text += e.hash + " " + e.path + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) < 0 ||
        ::rename(temp.c_str(), path_.c_str()) < 0)
        throw_errno(fmt::format("cannot write '{}'", path_));
}

std::optional<project_file> honoured_project_file(const std::string& cwd, std::string& notice)
{
    auto path = find_project_file(cwd);
    if (!path) return std::nullopt;
    std::string why;
    auto file = read_project_file(*path, why);
    if (!file) {
        notice = fmt::format("ignoring {}: {}", printable(*path), why);
        return std::nullopt;
    }
    bool recorded = false;
    try {
        trust_store store;
        if (store.trusts(*file)) return file;
        for (auto& e : store.entries()) recorded = recorded || e.path == file->path;
    } catch (const std::exception&) {
    }
    // The path is a directory name anyone could choose (a cloned
    // repository's): printed escaped, and the command shell-quoted so that
    // pasting it trusts exactly that file and runs nothing else.
    notice = fmt::format("ignoring {}: {}; `pfd trust {}` trusts it", printable(*path),
                         recorded ? "changed since it was trusted" : "not trusted", shell_word(*path));
    return std::nullopt;
}

} // namespace pfd
