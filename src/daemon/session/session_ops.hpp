#pragma once
// What a session does with its request, one short coroutine per op; each
// owns the rest of the connection. session.cpp dispatches to them.

#include "pfd/applet.hpp"
#include "pfd/protocol.hpp"
#include "program_launch.hpp"
#include "session.hpp"
#include "spawner.hpp"
#include "unique_fd.hpp"
#include "working_directory.hpp"

#include <asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pfd {

/// The op of `req`, with the descriptors that came with it.
asio::awaitable<void> dispatch(session& s, request req, std::vector<unique_fd> fds);

// admission.cpp: [policy] and [limits] before anything runs.

/// Whether `uid` may use the daemon at all, known before a byte is read:
/// the daemon's own uid, root and [policy] allow_uids.
bool peer_allowed(const policy_section& policy, uid_t uid);

/// An exec the daemon agreed to run: its id (its place in the registry is
/// reserved) and the applet it names, or else the file it runs (or why
/// there is none).
struct admission {
    std::uint64_t id = 0;
    const applet* applet_fn = nullptr;
    bool applet_quick = false; ///< server_options::quick_applets names it
    working_directory directory;
    std::optional<program_launch> launch;
    std::optional<error_event> not_started;
    std::string origin; ///< "host" or the client's kind of container
    /// False while what touches the client's file systems is still to do
    /// (judge_off_loop): its directory may hang (working_directory.hpp).
    bool judged = true;
};
/// Checks the descriptors (takes the directory's off `attached`), finds the program, checks [policy] (commands,
/// environment: `req.env` is rewritten) and [limits]. Throws protocol_error
/// (fd_mismatch, denied, not_found, busy, limit). When the directory may
/// hang, it returns with its registry place taken but not `judged`: the
/// rest is judge_off_loop()'s, before anything is told to the client.
admission admit(session& s, exec_request& req, std::vector<unique_fd>& attached);
/// The rest of admit() for a directory that may hang, on the daemon's
/// slow-starts thread (slow_starts.hpp); the registry place is given back
/// when it throws (protocol_error: denied, busy).
asio::awaitable<void> judge_off_loop(session& s, admission& a, exec_request& req);

// exec_op.cpp, applet_op.cpp

asio::awaitable<void> run_exec(session& s, exec_request req, std::vector<unique_fd> fds);
/// The `exited` event of session `id`, started at `started`.
exited_event make_exited(std::uint64_t id, session::clock::time_point started, const exit_status& status);
/// `head`: the `accepted` line, sent with `started`. `quick`: run on this
/// thread (server_options::quick_applets), the whole answer in one write.
asio::awaitable<void> run_applet(session& s, const applet& fn, bool quick, exec_request req, std::vector<unique_fd> fds,
                                 std::uint64_t id, std::string head);

// control_ops.cpp

asio::awaitable<void> run_ps(session& s);
asio::awaitable<void> run_cancel(session& s, std::uint64_t id);
asio::awaitable<void> run_watch(session& s);
asio::awaitable<void> run_status(session& s);
asio::awaitable<void> run_ping(session& s);
asio::awaitable<void> run_stop(session& s, std::optional<std::chrono::milliseconds> grace);
asio::awaitable<void> run_reload(session& s);
asio::awaitable<void> run_restart(session& s);

} // namespace pfd
