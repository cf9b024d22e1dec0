#include "pfd/client_connection.hpp"

#include "pfd/error.hpp"
#include "pfd/unix_socket.hpp"

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace pfd {

client_connection::client_connection(const std::string& path) : sock_(connect_unix(path)) {}

void client_connection::send_exec(const exec_request& req, std::span<const int> fds)
{
    send_with_fds(sock_.get(), encode_request(req), fds);
}

std::string client_connection::request(std::string_view op)
{
    send_with_fds(sock_.get(), fmt::format("{{\"pfd\":1,\"op\":\"{}\"}}\n", op));
    for (;;) {
        if (auto line = lines_.next_line()) return *line;
        if (!read_some()) return {};
    }
}

bool client_connection::send_signal(int signo) noexcept
{
    try {
        send_with_fds(sock_.get(), encode_request(signal_request{signo}));
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

bool client_connection::read_some()
{
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(sock_.get(), buf, sizeof buf);
        if (n > 0) {
            lines_.append({buf, static_cast<std::size_t>(n)});
            return true;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        // A daemon that refused us may reset the connection right after its
        // error line; what was already delivered has been read by then.
        if (errno == ECONNRESET) return false;
        throw_errno("read from daemon");
    }
}

} // namespace pfd
