#include "session_environment.hpp"

#include "env_entry.hpp"
#include "manager_bus.hpp"
#include "unique_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pfd {

std::vector<std::string> session_entries(const std::vector<std::string>& block)
{
    std::vector<std::string> out;
    for (auto& entry : block) {
        auto eq = entry.find('=');
        if (eq == 0 || eq == std::string::npos || shell_bookkeeping(env_name(entry))) continue;
        std::string_view name = env_name(entry);
        std::erase_if(out, [&](const std::string& e) { return env_name(e) == name; });
        out.push_back(entry);
    }
    return out;
}

/// What the bus thread shares with the requests, under the mutex.
struct session_environment::follower {
    bool running = false;  ///< a bus thread runs
    bool started = false;  ///< one was ever started
    bool settled = false;  ///< the first one's first read is over
    bool stopping = false; ///< the daemon goes: the bus thread ends
    std::chrono::steady_clock::time_point attempted;
    /// The manager's environment while it is followed; null otherwise.
    std::shared_ptr<const std::vector<std::string>> manager;
    std::string why_not = "the user bus is read at the first container client";
    std::shared_ptr<const std::vector<std::string>> login;
    /// Wakes the bus thread to end; made with the first thread (a daemon
    /// without container clients holds no descriptor for this).
    unique_fd wake;
};

namespace {

using std::chrono::steady_clock;

} // namespace

session_environment::session_environment(std::function<std::vector<std::string>()> login,
                                         std::chrono::milliseconds retry)
    : login_(std::move(login)), retry_(retry), state_(std::make_unique<follower>())
{
}

session_environment::~session_environment()
{
    {
        std::lock_guard lock(mutex_);
        state_->stopping = true;
        std::uint64_t one = 1;
        if (state_->wake) [[maybe_unused]]
            auto n = ::write(state_->wake.get(), &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const std::vector<std::string>> session_environment::login_env()
{
    if (!state_->login) state_->login = std::make_shared<const std::vector<std::string>>(session_entries(login_()));
    return state_->login;
}

void session_environment::start(std::unique_lock<std::mutex>&)
{
    // The last thread has published its end: joining waits only for its return.
    if (thread_.joinable()) thread_.join();
    follower& f = *state_;
    f.started = true;
    f.attempted = steady_clock::now();
    // Plainly no bus: no thread either (nor its memory).
    if (std::string why = no_user_bus(); !why.empty()) {
        f.why_not = why;
        f.settled = true;
        return;
    }
    if (!f.wake) f.wake = unique_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!f.wake) {
        f.why_not = fmt::format("eventfd: {}", std::strerror(errno));
        f.settled = true;
        return;
    }
    f.running = true;
    thread_ = std::thread([this] {
        follow_manager(state_->wake.get(), [this](std::shared_ptr<const std::vector<std::string>> manager,
                                                  const std::string& why, bool ended) {
            std::lock_guard lock(mutex_);
            follower& f = *state_;
            f.manager = std::move(manager);
            if (!f.manager) f.why_not = why;
            if (ended) f.running = false;
            f.settled = true;
            settled_cv_.notify_all();
            return !f.stopping;
        });
    });
}

host_environment_snapshot session_environment::current(bool load)
{
    std::unique_lock lock(mutex_);
    follower& f = *state_;
    if (load && !f.running && !f.stopping && (!f.started || steady_clock::now() - f.attempted >= retry_)) {
        bool first = !f.started;
        start(lock);
        // Only the very first command waits (a bounded while) for the bus:
        // later ones take what is known while a retry runs.
        if (first) settled_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return f.settled; });
    }
    if (f.manager) return {f.manager, fmt::format("systemd user manager ({} variables, followed)", f.manager->size())};
    return {login_env(), fmt::format("login environment ({})", f.why_not)};
}

} // namespace pfd
