#pragma once
// Runs one applet call on a thread of its own (or, for a quick applet, on
// the caller's) and hands what it reports (progress, its end) to the
// session that owns it.

#include "pfd/applet.hpp"
#include "pfd/protocol.hpp"
#include "unique_fd.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace pfd {

/// What the call is about, as the session received it.
struct applet_call {
    std::uint64_t id = 0;
    std::vector<std::string> argv, env;
    std::string cwd;
    uid_t peer_uid = 0;
    pid_t peer_pid = -1;
    std::vector<std::pair<int, unique_fd>> fds; ///< target number, descriptor
};

/// Where an applet call runs: a thread of its own, or the thread that
/// constructs its runner, which returns once the applet has
/// (server_options::quick_applets).
enum class applet_thread { own, caller };

/// Owns the applet's thread: the destructor asks it to stop and joins it.
class applet_runner {
public:
    /// Starts `fn` at once. `wake` is called from the applet's own thread
    /// whenever progress or the end is there to take (never on the caller's:
    /// both are there when the constructor returns).
    applet_runner(const applet& fn, applet_call call, std::function<void()> wake,
                  applet_thread where = applet_thread::own);
    ~applet_runner();
    applet_runner(const applet_runner&) = delete;
    applet_runner& operator=(const applet_runner&) = delete;

    /// A signal meant for the call. Those that would terminate a process
    /// ask the applet to stop; the others (CONT, WINCH, job control) mean
    /// nothing to a thread. False when it cannot act on it: KILL, which a
    /// thread cannot obey, or a call that already ended.
    bool deliver(int signo);

    /// The progress reported since the last call, oldest first.
    std::vector<progress_event> take_progress();

    /// The exit code once the applet returned (its descriptors are closed
    /// by then), else nothing.
    std::optional<int> result() const;

private:
    std::shared_ptr<applet_context::state> state_;
    std::thread thread_;
};

} // namespace pfd
