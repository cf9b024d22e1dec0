#include "session_registry.hpp"

#include <csignal>

namespace pfd {

void session_registry::add(session_info info)
{
    std::lock_guard lock(mutex_);
    running_.emplace(info.id, std::move(info));
}

void session_registry::remove(std::uint64_t id)
{
    std::function<void()> callback;
    {
        std::lock_guard lock(mutex_);
        if (running_.erase(id) && running_.empty()) callback = on_empty_;
    }
    if (callback) callback();
}

std::size_t session_registry::size() const
{
    std::lock_guard lock(mutex_);
    return running_.size();
}

void session_registry::signal_all(int signo) const
{
    std::lock_guard lock(mutex_);
    for (auto& [id, info] : running_) ::kill(-info.pid, signo);
}

void session_registry::poke_all() const
{
    std::lock_guard lock(mutex_);
    for (auto& [id, info] : running_)
        if (info.poke) info.poke();
}

void session_registry::on_empty(std::function<void()> callback)
{
    std::lock_guard lock(mutex_);
    on_empty_ = std::move(callback);
}

} // namespace pfd
