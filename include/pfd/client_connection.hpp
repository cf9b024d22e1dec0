#pragma once
// The client half of the protocol, blocking and dependency-light so that
// hostexec starts in microseconds (no Asio, no threads).

#include "pfd/protocol.hpp"
#include "pfd/unique_fd.hpp"
#include "pfd/wire.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pfd {

/// A connection to a daemon: send one exec, then read its events and send
/// signals while it runs.
class client_connection {
public:
    /// Connects to the socket at `path`. Throws std::system_error naming it.
    explicit client_connection(const std::string& path);

    /// Sends the request line with `fds` attached (they land at req.fds).
    void send_exec(const exec_request& req, std::span<const int> fds);

    /// Sends a request without arguments (`{"pfd":1,"op":OP}`) and returns
    /// the first line answered without its '\n' ("" if the daemon closed).
    std::string request(std::string_view op);

    /// Asks the daemon to signal the command's process group. Returns false
    /// if the daemon is no longer there to hear it.
    bool send_signal(int signo) noexcept;

    /// The next event line if one is buffered, without reading.
    std::optional<std::string> buffered_line() { return lines_.next_line(); }

    /// One read from the socket into the buffer (blocks unless data is
    /// ready). Returns false at end of stream. Throws on read errors.
    bool read_some();

    int fd() const noexcept { return sock_.get(); }

private:
    unique_fd sock_;
    line_buffer lines_{1 << 20};
};

} // namespace pfd
