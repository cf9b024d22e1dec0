#include "starter_handoff.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace pfd {

std::optional<int> ready_fd_from_environment()
{
    const char* value = std::getenv("PFD_READY_FD");
    if (!value) return std::nullopt;
    std::string text = value;
    ::unsetenv("PFD_READY_FD");
    char* end = nullptr;
    long fd = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end || fd < 3 || fd > 1 << 20 || ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) < 0)
        return std::nullopt;
    return static_cast<int>(fd);
}

unique_fd predecessor_from_environment(bool handed_over)
{
    const char* value = std::getenv("PFD_PREDECESSOR");
    if (!value) return {};
    std::string text = value;
    ::unsetenv("PFD_PREDECESSOR");
    char* end = nullptr;
    long pid = std::strtol(text.c_str(), &end, 10);
    if (!handed_over || end == text.c_str() || *end || pid <= 1 || ::getppid() != pid) return {};
    unique_fd fd(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
    if (::getppid() != pid) return {}; // it ended between the two looks
    return fd;
}

} // namespace pfd
