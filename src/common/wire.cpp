#include "wire.hpp"

#include "pfd/error.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace pfd {

std::size_t send_some_with_fds(int sock, std::string_view data, std::span<const int> fds)
{
    if (fds.size() > max_fds_per_message) throw_errno("sendmsg", EINVAL);
    std::vector<char> control(fds.empty() ? 0 : CMSG_SPACE(fds.size() * sizeof(int)));
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
    }
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        throw_errno("sendmsg");
    }
}

void send_with_fds(int sock, std::string_view data, std::span<const int> fds)
{
    // The descriptors ride with the first byte that goes out.
    bool attached = fds.empty();
    while (!data.empty()) {
        std::size_t n = send_some_with_fds(sock, data, attached ? std::span<const int>{} : fds);
        if (n == 0) {
            pollfd p{sock, POLLOUT, 0};
            if (::poll(&p, 1, -1) < 0 && errno != EINTR) throw_errno("poll");
            continue;
        }
        attached = true;
        data.remove_prefix(n);
    }
}

received recv_with_fds(int sock, std::span<char> buf, std::vector<unique_fd>& fds, std::size_t max_fds,
                       bool nonblocking)
{
    // One byte of slack beyond max_fds would be pointless: the kernel sets
    // MSG_CTRUNC as soon as the sender attached more than fits.
    std::size_t room = CMSG_SPACE(max_fds * sizeof(int));
    alignas(cmsghdr) char small[CMSG_SPACE(8 * sizeof(int))];
    std::unique_ptr<char[]> large;
    char* control = small;
    if (room > sizeof small) {
        large = std::make_unique<char[]>(room);
        control = large.get();
    }
    for (;;) {
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = max_fds ? control : nullptr;
        // CMSG_LEN, not the padded CMSG_SPACE: padding would fit one
        // more descriptor when max_fds is odd.
        msg.msg_controllen = max_fds ? CMSG_LEN(max_fds * sizeof(int)) : 0;
        ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (nonblocking ? MSG_DONTWAIT : 0));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return received{0, false, true, false};
            throw_errno("recvmsg");
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.emplace_back(fd);
            }
        }
        received r;
        r.bytes = static_cast<std::size_t>(n);
        r.eof = n == 0;
        r.truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
        return r;
    }
}

std::optional<std::string> line_buffer::next_line()
{
    auto nl = data_.find('\n', start_);
    if (nl == std::string::npos) {
        if (start_ > 0 && start_ == data_.size()) {
            data_.clear();
            start_ = 0;
        }
        return std::nullopt;
    }
    std::string line = data_.substr(start_, nl - start_);
    start_ = nl + 1;
    if (start_ == data_.size()) {
        data_.clear();
        start_ = 0;
    } else if (start_ > data_.size() / 2) {
        // Drop consumed lines so a peer that always leaves a partial line
        // behind cannot make the buffer grow.
        data_.erase(0, start_);
        start_ = 0;
    }
    return line;
}

void line_buffer::shrink()
{
    // Empty (the usual case: the request was all there was): nothing to
    // keep, and the request's few KiB would stay for the command's run.
    if (start_ == data_.size()) {
        std::string().swap(data_);
        start_ = 0;
        return;
    }
    // Only a long line's memory is worth a copy: this runs on every request.
    if (data_.capacity() <= 64 * 1024) return;
    data_.erase(0, start_);
    start_ = 0;
    data_.shrink_to_fit();
}

bool line_buffer::overflowed() const noexcept
{
    auto nl = data_.find('\n', start_);
    std::size_t line_len = nl == std::string::npos ? data_.size() - start_ : nl - start_;
    return line_len > max_line_;
}

} // namespace pfd
