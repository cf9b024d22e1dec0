#include "session_registry.hpp"

#include "quote.hpp"
#include "pfd/protocol.hpp"

#include <algorithm>
#include <csignal>
#include <sys/wait.h>
#include <cstdint>
#include <utility>

namespace pfd {

kept_argv keep_argv(const std::vector<std::string>& argv)
{
    kept_argv kept;
    std::size_t room = session_argv_bytes;
    for (auto& arg : argv) {
        if (kept.args.size() == session_argv_max || room == 0) {
            kept.truncated = true;
            break;
        }
        if (arg.size() > room) {
            kept.args.push_back(clipped(arg, room));
            kept.truncated = true;
            break;
        }
        kept.args.push_back(arg);
        room -= arg.size();
    }
    return kept;
}

admit_result session_registry::admit(session_info info, const place_limits& places, bool owner)
{
    std::lock_guard lock(mutex_);
    places_held held{running_.size(), 0, of_others_.size()};
    if (places.per_uid)
        for (auto& [id, other] : running_) held.of_uid += other.peer_uid == info.peer_uid;
    switch (refusal(places, held, owner)) {
    case place_refusal::none:
        break;
    case place_refusal::total:
        return admit_result::busy;
    case place_refusal::per_uid:
        return admit_result::peer_limit;
    case place_refusal::reserved:
        return admit_result::owner_reserve;
    }
    info.pid = -1; // not signalled before it runs
    if (!owner) of_others_.insert(info.id);
    running_.emplace(info.id, std::move(info));
    return admit_result::admitted;
}

void session_registry::started(std::uint64_t id, pid_t pid, int pidfd, std::function<void()> poke,
                               std::function<bool(int)> deliver)
{
    std::lock_guard lock(mutex_);
    auto it = running_.find(id);
    if (it == running_.end()) return;
    ++served_;
    it->second.pid = pid;
    it->second.pidfd = pidfd;
    it->second.poke = std::move(poke);
    it->second.deliver = std::move(deliver);
}

void session_registry::remove(std::uint64_t id)
{
    std::function<void()> callback;
    std::vector<std::function<void()>> watchers;
    {
        std::lock_guard lock(mutex_);
        of_others_.erase(id);
        if (running_.erase(id) && running_.empty()) callback = on_empty_;
        auto [first, last] = removal_watchers_.equal_range(id);
        for (auto it = first; it != last; ++it) watchers.push_back(std::move(it->second));
        removal_watchers_.erase(first, last);
    }
    for (auto& w : watchers) w();
    if (callback) callback();
}

bool session_registry::signal(std::uint64_t id, int signo) const
{
    std::lock_guard lock(mutex_);
    auto it = running_.find(id);
    if (it == running_.end() || it->second.pid <= 0) return false;
    if (it->second.deliver) return it->second.deliver(signo);
    ::kill(-it->second.pid, signo);
    return true;
}

bool session_registry::on_removed(std::uint64_t id, std::function<void()> callback)
{
    std::lock_guard lock(mutex_);
    if (!running_.count(id)) return false;
    removal_watchers_.emplace(id, std::move(callback));
    return true;
}

std::vector<session_info> session_registry::list() const
{
    std::lock_guard lock(mutex_);
    std::vector<session_info> out;
    for (auto& [id, info] : running_)
        if (info.pid > 0) out.push_back(info);
    return out;
}

std::optional<uid_t> session_registry::owner_of(std::uint64_t id) const
{
    std::lock_guard lock(mutex_);
    auto it = running_.find(id);
    if (it == running_.end()) return std::nullopt;
    return it->second.peer_uid;
}

std::size_t session_registry::size() const
{
    std::lock_guard lock(mutex_);
    return running_.size();
}

std::size_t session_registry::signal_all(int signo) const
{
    std::lock_guard lock(mutex_);
    std::size_t signalled = 0;
    for (auto& [id, info] : running_) {
        if (info.deliver)
            info.deliver(signo);
        else if (info.pid > 0)
            ::kill(-info.pid, signo);
        else
            continue;
        ++signalled;
    }
    return signalled;
}

// A poke wakes a session's coroutine on its strand (a post, a timer cancel,
// two waitid and a new wait): poking all of them on every SIGCHLD made each
// command's end cost O(running commands), most of a daemon's time under
// load. Asking each pidfd is one cheap system call, under the lock so that
// no pidfd is closed meanwhile; WNOWAIT leaves the news for the session.
void session_registry::poke_changed() const
{
    std::lock_guard lock(mutex_);
    for (auto& [id, info] : running_) {
        if (!info.poke) continue;
        if (info.pidfd >= 0) {
            siginfo_t changed{};
            if (::waitid(P_PIDFD, static_cast<id_t>(info.pidfd), &changed,
                         WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) == 0 &&
                changed.si_pid == 0)
                continue;
        }
        info.poke();
    }
}

void session_registry::on_empty(std::function<void()> callback)
{
    std::lock_guard lock(mutex_);
    on_empty_ = std::move(callback);
}

session_registry::figures session_registry::snapshot() const
{
    std::lock_guard lock(mutex_);
    return {running_.size(), served_};
}

} // namespace pfd
