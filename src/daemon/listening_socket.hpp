#pragma once
// The daemon's listening socket and the file it is bound to: the owner
// removes the file when done with it, unless another daemon owns it by then.

#include "unique_fd.hpp"

#include <sys/types.h>

#include <string>

namespace pfd {

class listening_socket {
public:
    /// Binds and listens on `path`, or takes the socket systemd (or a
    /// predecessor handing over, $PFD_HANDOFF) passed as descriptor 3, once
    /// checked (socket_activation.hpp; throws std::runtime_error).
    /// systemd's socket file stays systemd's; a predecessor's becomes ours.
    explicit listening_socket(std::string path);
    /// Removes the file if it is still ours.
    ~listening_socket() { remove_file(); }
    listening_socket(const listening_socket&) = delete;
    listening_socket& operator=(const listening_socket&) = delete;

    /// The listening descriptor, for the acceptor to own.
    unique_fd take_fd() noexcept { return std::move(fd_); }

    /// Removes the socket file now, unless another daemon has replaced it
    /// since (the inode is compared) or it is not ours to remove.
    void remove_file() noexcept;
    /// A successor serves the file now: never remove it.
    void leave_file() noexcept { owns_file_ = false; }
    /// The socket came from a predecessor handing it over.
    bool from_predecessor() const noexcept { return from_predecessor_; }

private:
    std::string path_;
    unique_fd fd_;
    ino_t inode_ = 0;
    bool owns_file_ = true;
    bool from_predecessor_ = false;
};

} // namespace pfd
