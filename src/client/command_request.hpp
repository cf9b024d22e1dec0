#pragma once
// A pfd::command as the daemon's exec request, and a client's connection
// to its daemon: what the blocking and the awaitable library clients share
// beyond the client engine.

#include "pfd/client.hpp"

#include "client_engine.hpp"
#include "unique_fd.hpp"

#include <map>
#include <vector>

namespace pfd {

class daemon_connection;

/// The request for `cmd` in this process, `fds` attached.
exec_plan plan_of(const command& cmd, const std::map<int, int>& fds);
/// cmd.fds, or our 0, 1 and 2.
std::map<int, int> descriptors_of(const command& cmd);
/// Pipes for descriptors 1 and 2 of `fds`: `out` and `err` get our read
/// ends; the write ends are returned, to be closed once sent.
std::vector<unique_fd> capture_pipes(std::map<int, int>& fds, unique_fd& out, unique_fd& err);

/// A client's way to its daemon: the uids it trusts to run it, and the
/// connection for a request.
struct client_connection {
    static const std::vector<uid_t>& trusted(const client& c) { return c.trusted_; }
    /// A connection for one request: the one connect_or_start kept, while
    /// it is fresh and the daemon has not closed it, else a new one.
    static daemon_connection connection(const client& c);
};

} // namespace pfd
