#include "peer_origin.hpp"

#include "unique_fd.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 // Linux 6.5
#endif

namespace pfd {

namespace {

/// A pidfd of the peer itself (SO_PEERPIDFD), or, on older kernels, of
/// whoever has its pid now.
unique_fd peer_pidfd(int sock, pid_t pid)
{
    int fd = -1;
    socklen_t len = sizeof fd;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) return unique_fd(fd);
    return unique_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

/// The pid a pidfd stands for in our pid namespace (0: not visible here).
std::optional<pid_t> pid_of(int pidfd)
{
    std::ifstream info(fmt::format("/proc/self/fdinfo/{}", pidfd));
    for (std::string line; std::getline(info, line);)
        if (line.starts_with("Pid:")) return static_cast<pid_t>(std::stol(line.substr(4)));
    return std::nullopt;
}

std::optional<ino_t> mount_namespace(const std::string& proc)
{
    struct stat st {};
    if (::stat((proc + "/ns/mnt").c_str(), &st) < 0) return std::nullopt;
    return st.st_ino;
}

/// Whether the kernel says the peer lives in another mount or pid
/// namespace; nothing when it cannot tell (the peer is gone, or its /proc
/// entry is not ours to read).
std::optional<bool> elsewhere(int sock, pid_t pid)
{
    if (pid == 0) return true; // a pid namespace that is not ours or below it
    unique_fd pidfd = peer_pidfd(sock, pid);
    if (!pidfd) return std::nullopt;
    auto seen = pid_of(pidfd.get());
    if (!seen || *seen < 0) return std::nullopt;
    if (*seen == 0) return true;
    auto theirs = mount_namespace(fmt::format("/proc/{}", *seen));
    static const auto ours = mount_namespace("/proc/self");
    // Still alive: the pid we read /proc under was the pidfd's process.
    if (!theirs || !ours || ::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) < 0) return std::nullopt;
    return *theirs != *ours;
}

} // namespace

peer_origin origin_of(int sock, pid_t pid, const std::string& stated)
{
    // The kernel's answer wins when it has one: a client that shares our
    // mount namespace shares our files and environment, whatever marks the
    // container it is in (so are we) left.
    if (auto kernel = elsewhere(sock, pid)) {
        if (!*kernel) return {};
        return {true, stated.empty() ? "container" : stated};
    }
    if (!stated.empty()) return {true, stated};
    return {};
}

} // namespace pfd
