#include "listening_socket.hpp"

#include "socket_activation.hpp"
#include "unix_socket.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace pfd {

listening_socket::listening_socket(std::string path) : path_(std::move(path))
{
    struct stat st {};
    if (auto activated = activated_socket(path_)) {
        // systemd owns this socket (and its file): we only serve it.
        // Unless a predecessor handed it over: then it is ours now.
        owns_file_ = from_predecessor_ = std::getenv("PFD_HANDOFF") != nullptr;
        ::unsetenv("PFD_HANDOFF");
        if (owns_file_ && ::stat(path_.c_str(), &st) == 0) inode_ = st.st_ino;
        fd_.reset(*activated);
        return;
    }
    fd_ = listen_unix(path_);
    if (::stat(path_.c_str(), &st) == 0) inode_ = st.st_ino;
}

void listening_socket::remove_file() noexcept
{
    if (!owns_file_) return;
    owns_file_ = false;
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(path_.c_str());
}

} // namespace pfd
