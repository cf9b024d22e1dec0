#pragma once
// NDJSON framing and descriptor passing over AF_UNIX stream sockets.
// POSIX only: both the blocking client and the Asio daemon build on this.

#include "unique_fd.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// Most descriptors one message may carry (the kernel's SCM_MAX_FD).
inline constexpr std::size_t max_fds_per_message = 253;

/// Writes all of `data`, the descriptors riding with its first byte as
/// SCM_RIGHTS. Blocks (retrying EINTR and short writes); never raises SIGPIPE.
/// Throws std::system_error.
void send_with_fds(int sock, std::string_view data, std::span<const int> fds = {});

/// One sendmsg of `data` (MSG_DONTWAIT) with `fds` attached: the bytes sent,
/// 0 if the socket's buffer is full. Throws std::system_error.
std::size_t send_some_with_fds(int sock, std::string_view data, std::span<const int> fds);

/// Result of one recv_with_fds call.
struct received {
    std::size_t bytes = 0; ///< 0 with eof = true at end of stream
    bool eof = false;
    bool would_block = false; ///< nothing to read yet (non-blocking use)
    bool truncated = false;   ///< the kernel dropped descriptors (MSG_CTRUNC)
};

/// One recvmsg(MSG_CMSG_CLOEXEC): bytes go to `buf`, descriptors are appended
/// to `fds` (owned, close-on-exec). Room for `max_fds` descriptors is made;
/// more than that sets `truncated` and the kernel closes the surplus.
/// Throws std::system_error on errors other than EAGAIN/EINTR.
received recv_with_fds(int sock, std::span<char> buf, std::vector<unique_fd>& fds, std::size_t max_fds,
                       bool nonblocking);

/// Splits a byte stream into lines, refusing to buffer a line longer than
/// `max_line` bytes.
class line_buffer {
public:
    explicit line_buffer(std::size_t max_line) : max_line_(max_line) {}

    /// Appends received bytes.
    void append(std::string_view bytes) { data_.append(bytes); }

    /// The next complete line without its '\n', if one is buffered.
    std::optional<std::string> next_line();

    /// True when the unterminated tail already exceeds the limit.
    bool overflowed() const noexcept;

    /// Bytes buffered after the last complete line.
    std::size_t pending() const noexcept { return data_.size() - start_; }

    /// Bytes of memory the buffer holds (what a budget counts).
    std::size_t capacity() const noexcept { return data_.capacity(); }

    /// Gives back the memory a long line took (over 64 KiB), keeping what is pending.
    void shrink();

private:
    std::string data_;
    std::size_t start_ = 0;
    std::size_t max_line_;
};

} // namespace pfd
