#include "unix_socket.hpp"

#include "directories.hpp"
#include "pfd/error.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

sockaddr_un address_of(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        throw std::runtime_error(fmt::format("socket path '{}' is {} bytes; it must be 1 to {}", path, path.size(),
                                             sizeof addr.sun_path - 1));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

unique_fd new_socket()
{
    unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw_errno("socket");
    return s;
}

/// Restores the umask on scope exit.
class scoped_umask {
public:
    explicit scoped_umask(mode_t mask) : old_(::umask(mask)) {}
    ~scoped_umask() { ::umask(old_); }
    scoped_umask(const scoped_umask&) = delete;
    scoped_umask& operator=(const scoped_umask&) = delete;

private:
    mode_t old_;
};

} // namespace

std::pair<unique_fd, int> try_connect_unix(const std::string& path)
{
    auto addr = address_of(path);
    unique_fd s = new_socket();
    int r;
    do r = ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    while (r < 0 && errno == EINTR);
    if (r < 0) return {unique_fd(), errno};
    return {std::move(s), 0};
}

unique_fd connect_unix(const std::string& path)
{
    auto [s, error] = try_connect_unix(path);
    if (error) throw_errno(connect_failure(path), error);
    return std::move(s);
}

std::string connect_failure(const std::string& path)
{
    return fmt::format("cannot connect to '{}'", path);
}

namespace {

/// Where `dir` came from, when the user set it without knowing: a stale
/// $XDG_RUNTIME_DIR (su, sudo, a container) names a directory that is gone.
std::string named_by(const std::string& dir)
{
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (!xdg || dir != xdg) return {};
    return fmt::format("; $XDG_RUNTIME_DIR names it: log in anew to get one, or unset it to use /run/user/{0} "
                       "or /tmp/pfd-{0}",
                       ::getuid());
}

} // namespace

void check_socket_directory(const std::string& path)
{
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    // A missing last directory is made, ours and private (a socket in a
    // directory of its own can be shared with a container alone).
    if (::stat(dir.c_str(), &st) < 0 && errno == ENOENT && ::mkdir(dir.c_str(), 0700) < 0)
        throw std::runtime_error(fmt::format("cannot listen on '{}': its directory '{}' does not exist and cannot be "
                                             "made ({}){}",
                                             path, dir, std::strerror(errno), named_by(dir)));
    if (::stat(dir.c_str(), &st) < 0)
        throw std::runtime_error(fmt::format("cannot listen on '{}': its directory '{}' is not usable ({})", path, dir,
                                             std::strerror(errno)));
    if (auto why = open_to_others(st))
        throw std::runtime_error(fmt::format(
            "refusing to listen on '{}': its directory '{}' is {}; others could replace the socket or what lies "
            "beside it",
            path, dir, *why));
}

unique_fd listen_unix(const std::string& path, int backlog)
{
    auto addr = address_of(path);
    check_socket_directory(path);
    unique_fd s = new_socket();
    for (int attempt = 0;; ++attempt) {
        int r;
        {
            scoped_umask mask(077);
            r = ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        }
        if (r == 0) break;
        if (errno != EADDRINUSE || attempt > 0) throw_errno(fmt::format("unable to bind '{}'", path));
        // Something is there: a live daemon is left alone, a stale socket
        // (nobody listening) is replaced.
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
            throw std::runtime_error(
                fmt::format("unable to bind '{}': a file that is not a socket is in the way", path));
        try {
            connect_unix(path);
            throw std::runtime_error(fmt::format("a daemon is already listening on '{}'", path));
        } catch (const std::system_error& e) {
            if (e.code().value() != ECONNREFUSED) throw;
        }
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            throw_errno(fmt::format("cannot remove stale socket '{}'", path));
    }
    if (::listen(s.get(), backlog) < 0) throw_errno(fmt::format("listen on '{}'", path));
    return s;
}

peer_credentials peer_of(int sock)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) throw_errno("getsockopt(SO_PEERCRED)");
    return peer_credentials{cred.pid, cred.uid, cred.gid};
}

} // namespace pfd
