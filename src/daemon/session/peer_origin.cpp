#include "peer_origin.hpp"

#include "unique_fd.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 // Linux 6.5; older kernels: the pid alone
#endif

// pidfs (Linux 6.11): the namespace of the process behind a pidfd, asked of
// the pidfd itself; older kernels answer ENOTTY or EINVAL.
#ifndef PIDFD_GET_MNT_NAMESPACE
#define PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)
#endif

namespace pfd {

namespace {

std::optional<ino_t> mount_namespace(const std::string& proc)
{
    struct stat st {};
    if (::stat((proc + "/ns/mnt").c_str(), &st) < 0) return std::nullopt;
    return st.st_ino;
}

/// Whether the kernel says the peer of `sock` (pid `pid`, SO_PEERCRED's)
/// lives in another mount or pid namespace; nothing when it cannot tell (its
/// /proc entry is not ours to read, or it has gone).
std::optional<bool> elsewhere(int sock, pid_t pid)
{
    if (pid == 0) return true; // a pid namespace that is not ours or below it
    static const auto ours = mount_namespace("/proc/self");
    // A pidfd of the peer itself (Linux 6.5) proves, once /proc is read,
    // that the pid still was the peer's and not a reused number.
    int fd = -1;
    socklen_t len = sizeof fd;
    unique_fd peer(::getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 ? fd : -1);
    // Asked of the pidfd, the answer is the peer's with no pid to recheck,
    // and costs no walk of /proc (that stat was ~20 us of every command).
    if (peer && ours) {
        unique_fd ns(::ioctl(peer.get(), PIDFD_GET_MNT_NAMESPACE, 0));
        struct stat st {};
        if (ns && ::fstat(ns.get(), &st) == 0) return st.st_ino != *ours;
    }
    auto theirs = mount_namespace(fmt::format("/proc/{}", pid));
    if (!theirs || !ours) return std::nullopt;
    if (peer && ::syscall(SYS_pidfd_send_signal, peer.get(), 0, nullptr, 0) < 0) return std::nullopt;
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
