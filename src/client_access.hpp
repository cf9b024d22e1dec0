#pragma once
// What the blocking and the awaitable library clients share beyond the
// client engine: a pfd::command as an exec plan, capture pipes, and the
// client's trusted daemon uids.

#include "pfd/client.hpp"

#include "client_engine.hpp"
#include "unique_fd.hpp"

#include <map>
#include <vector>

namespace pfd {

class daemon_connection;

struct client_access {
    /// The request for `cmd` in this process, `fds` attached.
    static exec_plan plan(const command& cmd, const std::map<int, int>& fds);
    /// cmd.fds, or our 0, 1 and 2.
    static std::map<int, int> descriptors(const command& cmd);
    /// Pipes for descriptors 1 and 2 of `fds`: `out` and `err` get our read
    /// ends; the write ends are returned, to be closed once sent.
    static std::vector<unique_fd> capture_pipes(std::map<int, int>& fds, unique_fd& out, unique_fd& err);
    static const std::vector<uid_t>& trusted(const client& c) { return c.trusted_; }
    /// A connection for one request: the one connect_or_start kept, while
    /// it is fresh and the daemon has not closed it, else a new one.
    static daemon_connection connection(const client& c);
};

} // namespace pfd
