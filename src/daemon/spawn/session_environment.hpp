#pragma once
// The user's host session environment, which a container client's command
// starts from ([container] environment = "host"): the systemd user manager's
// environment block (what `systemctl --user show-environment` prints), read
// over the user bus with sd-bus and followed as it changes (a graphical or
// ssh login imports DISPLAY, WAYLAND_DISPLAY, SSH_AUTH_SOCK after the daemon
// may already run); when no user manager answers, a login environment
// (login_environment.hpp). Never the daemon's own environment: a daemon
// started from a terminal would hand every later container that terminal's
// venv PATH, its variables and its OLDPWD for the daemon's whole life.
//
// Nothing is loaded until the first container client: libsystemd is
// dlopen()ed then (linked, its mapped pages would cost every idle daemon),
// and a thread of its own holds the bus connection and follows the manager's
// PropertiesChanged signal, so a command's request never waits on the bus
// once the first read is done; it takes the last value seen.

#include "pfd/server.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pfd {

class session_environment {
public:
    /// `login` builds the fallback; `retry`: how long after a failed
    /// connection (no user bus, libsystemd absent, the connection lost) the
    /// next container client tries again.
    explicit session_environment(std::function<std::vector<std::string>()> login,
                                 std::chrono::milliseconds retry = std::chrono::seconds(10));
    /// Stops following (wakes the bus thread and joins it).
    ~session_environment();
    session_environment(const session_environment&) = delete;
    session_environment& operator=(const session_environment&) = delete;

    /// The environment now and its source. `load`: for a command, which
    /// starts following the bus (and waits, the first time only, at most a
    /// second for its first answer); false, for `pfd status`, reads nothing.
    host_environment_snapshot current(bool load);

private:
    /// What the bus thread shares with the requests, under the mutex.
    struct follower;

    void start(std::unique_lock<std::mutex>& lock);
    std::shared_ptr<const std::vector<std::string>> login_env();

    std::function<std::vector<std::string>()> login_;
    std::chrono::milliseconds retry_;
    std::mutex mutex_;
    std::condition_variable settled_cv_;
    std::unique_ptr<follower> state_;
    std::thread thread_;
};

/// The entries of a session's environment block that may pass: "NAME=value"
/// with a name, not a shell's bookkeeping; a name given twice keeps its
/// last value.
std::vector<std::string> session_entries(const std::vector<std::string>& block);

} // namespace pfd
