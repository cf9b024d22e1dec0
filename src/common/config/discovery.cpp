#include "pfd/discovery.hpp"

#include "pfd/error.hpp"
#include "quote.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
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

/// Whoever listens on a local socket gets the client's environment and
/// descriptors: only a socket of ours, in a directory of ours that nobody
/// else may write, is taken; `ignored` gets why another is not.
std::optional<std::string> local_socket(const std::string& cwd, std::vector<std::string>& ignored)
{
    for (const char* name : {"pfd.sock", ".pfd.sock"}) {
        std::string candidate = cwd + "/" + name;
        struct stat sock {
        }, dir{};
        if (::lstat(candidate.c_str(), &sock) < 0 || !S_ISSOCK(sock.st_mode)) continue;
        std::string why;
        if (sock.st_uid != ::getuid())
            why = fmt::format("owned by uid {}", sock.st_uid);
        else if (::stat(cwd.c_str(), &dir) < 0 || dir.st_uid != ::getuid())
            why = "in a directory that is not yours";
        else if (dir.st_mode & (S_IWGRP | S_IWOTH))
            why = "in a directory others may write";
        if (why.empty()) return candidate;
        ignored.push_back(fmt::format("ignoring {}: {}", printable(candidate), why));
    }
    return std::nullopt;
}

} // namespace

std::string runtime_dir(const std::string& run_user_base, const std::string& tmp_base)
{
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return xdg;
    uid_t uid = ::getuid();
    std::string run_user = fmt::format("{}/{}", run_user_base, uid);
    struct stat st {};
    if (::lstat(run_user.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid) return run_user;

    std::string tmp = fmt::format("{}/pfd-{}", tmp_base, uid);
    if (::mkdir(tmp.c_str(), 0700) < 0 && errno != EEXIST) throw_errno(fmt::format("cannot create '{}'", tmp));
    if (::lstat(tmp.c_str(), &st) < 0) throw_errno(fmt::format("cannot stat '{}'", tmp));
    if (!is_ours_and_private(st))
        throw std::runtime_error(fmt::format("'{}' is not a private directory owned by uid {} (mode {:o}, owner {}{})",
                                             tmp, uid, st.st_mode & 07777, st.st_uid,
                                             S_ISLNK(st.st_mode) ? ", a symlink" : ""));
    return tmp;
}

bool is_valid_project_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64 || name[0] == '.') return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

std::optional<std::string> find_project_file(const std::string& dir)
{
    std::string d = dir;
    for (;;) {
        std::string candidate = (d == "/" ? "" : d) + "/.pfd.toml";
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
        if (d == "/" || d.empty()) return std::nullopt;
        auto slash = d.rfind('/');
        d = slash == 0 ? "/" : d.substr(0, slash);
    }
}

std::string pidfile_for(const std::string& socket)
{
    std::string base = socket.ends_with(".sock") ? socket.substr(0, socket.size() - 5) : socket;
    return base + ".pid";
}

discovery_result discover(const discovery_request& r)
{
    if (!r.socket_flag.empty()) return {r.socket_flag, {}, "flag", {}};
    if (const char* env = std::getenv("PFD_SOCKET"); env && *env) return {env, {}, "env", {}};
    std::vector<std::string> ignored;
    for (auto& mode : r.order) {
        if (mode == "local") {
            if (auto local = local_socket(r.cwd, ignored)) return {*local, {}, "local", ignored};
        } else if (mode == "project") {
            std::string project = r.project_flag;
            std::string source = "--project";
            if (const char* env = std::getenv("PFD_PROJECT"); project.empty() && env && *env) {
                project = env;
                source = "PFD_PROJECT";
            }
            if (project.empty() && !r.config_project.empty()) {
                project = r.config_project;
                source = "[discovery] project";
            }
            if (project.empty()) {
                project = r.file_project;
                source = "the project's .pfd.toml";
            }
            if (project.empty()) continue;
            if (!is_valid_project_name(project))
                throw std::runtime_error(
                    fmt::format("project name '{}' (from {}) must be 1-64 of [A-Za-z0-9._-], not starting with '.'",
                                project, source));
            return {runtime_dir() + "/pfd." + project + ".sock", project, "project", ignored};
        } else if (mode == "runtime") {
            return {runtime_dir() + "/pfd.sock", {}, "runtime", ignored};
        }
    }
    return {runtime_dir() + "/pfd.sock", {}, "runtime", ignored};
}

} // namespace pfd
