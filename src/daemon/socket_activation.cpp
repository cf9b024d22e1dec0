#include "socket_activation.hpp"

#include "unix_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

constexpr int first_fd = 3; // SD_LISTEN_FDS_START

/// Whether $LISTEN_PID names this very process: digits only, our pid.
bool listen_pid_is_ours(const char* value)
{
    if (!value || !*value || std::strlen(value) > 10) return false;
    long pid = 0;
    for (const char* c = value; *c; ++c) {
        if (*c < '0' || *c > '9') return false;
        pid = pid * 10 + (*c - '0');
    }
    return pid == ::getpid();
}

void forget_activation() noexcept
{
    for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "PFD_HANDOFF", "PFD_PREDECESSOR"})
        ::unsetenv(name);
}

[[noreturn]] void refuse(const std::string& why)
{
    throw std::runtime_error(fmt::format("refusing the socket passed as descriptor 3 ($LISTEN_FDS): {}", why));
}

int socket_option(int option)
{
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(first_fd, SOL_SOCKET, option, &value, &len) < 0) return -1;
    return value;
}

/// The socket is bound to the file `path` names, a socket of ours.
void check_bound_to(const std::string& path)
{
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(first_fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
        refuse(fmt::format("getsockname: {}", std::strerror(errno)));
    std::size_t name_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (name_len == 0 || addr.sun_path[0] == '\0') refuse("it is not bound to a file");
    std::string bound(addr.sun_path, ::strnlen(addr.sun_path, name_len));
    struct stat named {
    }, at_bound{};
    bool found = ::lstat(path.c_str(), &named) == 0;
    int look_error = found ? 0 : errno;
    // The same name, or another name of the same file (systemd's %t/pfd.sock
    // and a --socket spelled otherwise).
    if (bound != path && (!found || ::lstat(bound.c_str(), &at_bound) < 0 || at_bound.st_dev != named.st_dev ||
                          at_bound.st_ino != named.st_ino))
        refuse(fmt::format("it is bound to '{}', not to '{}' (--socket)", bound, path));
    if (!found) refuse(fmt::format("its file '{}' is gone: {}", path, std::strerror(look_error)));
    if (!S_ISSOCK(named.st_mode)) refuse(fmt::format("'{}' is not a socket", path));
    if (named.st_uid != ::getuid())
        refuse(fmt::format("its file '{}' belongs to uid {}, not to uid {}", path, named.st_uid, ::getuid()));
}

} // namespace

void check_activation(const std::string& path)
{
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (!pid && !fds) {
        forget_activation(); // a hand-over without a socket is none
        return;
    }
    if (!listen_pid_is_ours(pid)) {
        // Meant for another process (an environment inherited from a
        // socket-activated parent): systemd's rule is to ignore them.
        forget_activation();
        return;
    }
    if (!fds || std::string_view(fds) != "1")
        refuse(fmt::format("LISTEN_FDS is '{}'; pfd serves exactly one socket", fds ? fds : ""));
    struct stat st {};
    if (::fstat(first_fd, &st) < 0) refuse("it is not open");
    if (!S_ISSOCK(st.st_mode)) refuse("it is not a socket");
    if (socket_option(SO_DOMAIN) != AF_UNIX) refuse("it is not a Unix socket (AF_UNIX)");
    if (socket_option(SO_TYPE) != SOCK_STREAM) refuse("it is not a stream socket (SOCK_STREAM)");
    if (socket_option(SO_ACCEPTCONN) != 1) refuse("it is not listening");
    check_bound_to(path);
    try {
        check_socket_directory(path);
    } catch (const std::runtime_error& e) {
        refuse(e.what());
    }
}

std::optional<int> activated_socket(const std::string& path)
{
    check_activation(path);
    if (!std::getenv("LISTEN_FDS")) return std::nullopt;
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    ::fcntl(first_fd, F_SETFD, FD_CLOEXEC);
    return first_fd;
}

} // namespace pfd
