#include "pty_relay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace pfd {

scoped_raw_mode::scoped_raw_mode(int fd) : fd_(fd)
{
    is_tty_ = ::tcgetattr(fd_, &saved_) == 0;
    resume();
}

scoped_raw_mode::~scoped_raw_mode()
{
    suspend();
}

void scoped_raw_mode::suspend() noexcept
{
    if (!is_tty_ || !raw_) return;
    // TCSADRAIN: output already relayed reaches the screen before the modes change.
    while (::tcsetattr(fd_, TCSADRAIN, &saved_) < 0 && errno == EINTR) {
    }
    raw_ = false;
}

void scoped_raw_mode::resume() noexcept
{
    if (!is_tty_ || raw_) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    while (::tcsetattr(fd_, TCSADRAIN, &raw) < 0 && errno == EINTR) {
    }
    raw_ = true;
}

void write_pending(int fd, std::string& pending)
{
    while (!pending.empty()) {
        ssize_t n = ::write(fd, pending.data(), pending.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) pending.clear();
            return;
        }
        pending.erase(0, static_cast<std::size_t>(n));
    }
}

void write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t w = ::write(fd, data.data(), data.size());
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return;
            pollfd pf{fd, POLLOUT, 0};
            ::poll(&pf, 1, -1);
            continue;
        }
        data.remove_prefix(static_cast<std::size_t>(w));
    }
}

pty_relay::pty_relay(int in, int out, int master, cc_t eof_char)
    : in_(in), out_(out), master_(master), eof_char_(eof_char)
{
    in_open_ = in_ >= 0;
}

void pty_relay::add_poll(std::vector<pollfd>& fds) const
{
    // Read local input only when the previous chunk has gone to the master,
    // so a command that does not read cannot make us buffer without bound.
    fds.push_back({in_open_ && to_master_.empty() ? in_ : -1, POLLIN, 0});
    short master_events = static_cast<short>((master_closed_ ? 0 : POLLIN) | (to_master_.empty() ? 0 : POLLOUT));
    fds.push_back({master_events ? master_ : -1, master_events, 0});
}

void pty_relay::handle(const std::vector<pollfd>& fds, std::size_t first)
{
    if (fds[first].revents & (POLLIN | POLLHUP | POLLERR)) read_input();
    short m = fds[first + 1].revents;
    if (m & POLLOUT) flush_to_master();
    if (m & (POLLIN | POLLHUP | POLLERR)) read_master();
}

void pty_relay::read_input()
{
    char buf[65536];
    ssize_t n = ::read(in_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        in_open_ = false;
        // End of a piped stdin: the canonical-mode EOF character, twice if a
        // partial line must be flushed first.
        if (last_input_ != '\n') to_master_ += static_cast<char>(eof_char_);
        to_master_ += static_cast<char>(eof_char_);
    } else {
        to_master_.append(buf, static_cast<std::size_t>(n));
        last_input_ = buf[n - 1];
    }
    flush_to_master();
}

void pty_relay::flush_to_master()
{
    write_pending(master_, to_master_);
}

bool pty_relay::read_master()
{
    char buf[65536];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return false;
        master_closed_ = true; // EIO: every slave descriptor is closed
        return false;
    }
    if (n == 0) {
        master_closed_ = true;
        return false;
    }
    // When our stdout is gone, the master is still drained so that the
    // command does not block.
    write_all(out_, std::string_view(buf, static_cast<std::size_t>(n)));
    return true;
}

} // namespace pfd
