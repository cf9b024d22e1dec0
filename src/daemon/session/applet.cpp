#include "applet_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <deque>
#include <mutex>

#include <pthread.h>
#include <unistd.h>

namespace pfd {

namespace {

/// Reports kept for a client that reads slower than the applet writes them.
constexpr std::size_t progress_backlog = 256;

bool write_all(int fd, std::string_view text) noexcept
{
    if (fd < 0) return false;
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Signals whose default action is not to terminate the process.
bool asks_to_stop(int signo) noexcept
{
    switch (signo) {
    case SIGCHLD:
    case SIGCONT:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGURG:
    case SIGWINCH:
        return false;
    default:
        return signo > 0;
    }
}

} // namespace

struct applet_context::state {
    explicit state(applet_call c) : call(std::move(c)) {}
    applet_call call;
    std::stop_source stop;
    std::atomic<int> stop_signal{0};
    std::function<void()> wake;

    std::mutex mutex;
    std::deque<progress_event> progress;
    std::optional<int> result;
};

applet_context::applet_context(std::shared_ptr<state> s) : state_(std::move(s)) {}
applet_context::~applet_context() = default;

std::uint64_t applet_context::id() const noexcept
{
    return state_->call.id;
}
const std::vector<std::string>& applet_context::argv() const noexcept
{
    return state_->call.argv;
}
const std::vector<std::string>& applet_context::env() const noexcept
{
    return state_->call.env;
}
const std::string& applet_context::cwd() const noexcept
{
    return state_->call.cwd;
}
uid_t applet_context::peer_uid() const noexcept
{
    return state_->call.peer_uid;
}
pid_t applet_context::peer_pid() const noexcept
{
    return state_->call.peer_pid;
}
std::stop_token applet_context::stop_token() const noexcept
{
    return state_->stop.get_token();
}
int applet_context::stop_signal() const noexcept
{
    return state_->stop_signal.load();
}

std::optional<std::string_view> applet_context::getenv(std::string_view name) const noexcept
{
    for (auto& e : state_->call.env)
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
            return std::string_view(e).substr(name.size() + 1);
    return std::nullopt;
}

int applet_context::fd(int target) const noexcept
{
    for (auto& [number, descriptor] : state_->call.fds)
        if (number == target) return descriptor.get();
    return -1;
}

bool applet_context::out(std::string_view text) const noexcept
{
    return write_all(fd(1), text);
}
bool applet_context::err(std::string_view text) const noexcept
{
    return write_all(fd(2), text);
}

void applet_context::progress(std::string message, std::optional<int> percent) const
{
    if (percent) percent = std::clamp(*percent, 0, 100);
    {
        std::lock_guard lock(state_->mutex);
        if (state_->progress.size() == progress_backlog) state_->progress.pop_front();
        state_->progress.push_back(progress_event{state_->call.id, std::move(message), percent});
    }
    if (state_->wake) state_->wake(); // none for a quick applet: nobody waits
}

namespace {

/// The call itself, on whichever thread runs it: the applet's return (or
/// 70 for what it threw) becomes the result, its descriptors close.
void run_call(const applet& fn, applet_context::state& s, applet_context& ctx)
{
    int code;
    try {
        code = std::clamp(fn(ctx), 0, 255);
    } catch (const std::exception& e) {
        ctx.err(fmt::format("{}: {}\n", s.call.argv[0], e.what()));
        code = 70;
    } catch (...) {
        ctx.err(fmt::format("{}: unknown exception\n", s.call.argv[0]));
        code = 70;
    }
    s.call.fds.clear(); // as a process's descriptors close when it exits
    std::lock_guard lock(s.mutex);
    s.result = code;
}

} // namespace

applet_runner::applet_runner(const applet& fn, applet_call call, std::function<void()> wake, applet_thread where)
    : state_(std::make_shared<applet_context::state>(std::move(call)))
{
    if (where == applet_thread::caller) {
        applet_context ctx(state_);
        run_call(fn, *state_, ctx);
        return;
    }
    state_->wake = std::move(wake);
    thread_ = std::thread([fn, s = state_] {
        // The daemon's signals are handled elsewhere; here they would only
        // interrupt the applet's system calls.
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
        applet_context ctx(s);
        run_call(fn, *s, ctx);
        s->wake();
    });
}

applet_runner::~applet_runner()
{
    deliver(SIGTERM);
    if (thread_.joinable()) thread_.join();
}

bool applet_runner::deliver(int signo)
{
    if (!asks_to_stop(signo) || result()) return false;
    int none = 0;
    state_->stop_signal.compare_exchange_strong(none, signo);
    state_->stop.request_stop();
    return signo != SIGKILL;
}

std::vector<progress_event> applet_runner::take_progress()
{
    std::lock_guard lock(state_->mutex);
    std::vector<progress_event> out(std::make_move_iterator(state_->progress.begin()),
                                    std::make_move_iterator(state_->progress.end()));
    state_->progress.clear();
    return out;
}

std::optional<int> applet_runner::result() const
{
    std::lock_guard lock(state_->mutex);
    return state_->result;
}

} // namespace pfd
