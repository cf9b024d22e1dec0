#include "watch_hub.hpp"

#include <utility>

namespace pfd {

std::shared_ptr<watch_hub::watcher> watch_hub::subscribe(std::function<void()> wake, std::function<void()> drop,
                                                         std::size_t max_watchers, std::size_t backlog_bytes,
                                                         std::optional<uid_t> only_uid)
{
    std::lock_guard lock(mutex_);
    if (max_watchers && watchers_.size() >= max_watchers) return nullptr;
    auto w = std::make_shared<watcher>();
    w->wake_ = std::move(wake);
    w->drop_ = std::move(drop);
    w->only_uid_ = only_uid;
    w->max_bytes_ = backlog_bytes;
    w->dropped_ = dropped_; // the daemon is stopping: its first take() ends it
    watchers_.push_back(w);
    watcher_count_ = watchers_.size();
    return w;
}

void watch_hub::unsubscribe(const std::shared_ptr<watcher>& w)
{
    std::lock_guard lock(mutex_);
    std::erase(watchers_, w);
    watcher_count_ = watchers_.size();
}

void watch_hub::drop_all()
{
    std::vector<std::function<void()>> calls;
    {
        std::lock_guard lock(mutex_);
        dropped_ = true;
        for (auto& w : watchers_) {
            std::lock_guard wl(w->mutex_);
            if (w->dropped_) continue;
            w->dropped_ = true;
            w->lines_.clear();
            calls.push_back(w->drop_);
        }
    }
    for (auto& call : calls) call();
}

std::optional<std::deque<std::string>> watch_hub::watcher::take()
{
    std::lock_guard lock(mutex_);
    if (dropped_) return std::nullopt;
    bytes_ = 0;
    return std::exchange(lines_, {});
}

void watch_hub::publish(const std::string& line, uid_t peer_uid)
{
    if (watcher_count_.load() == 0) return;
    std::vector<std::function<void()>> calls;
    {
        std::lock_guard lock(mutex_);
        for (auto& w : watchers_) {
            if (w->only_uid_ && *w->only_uid_ != peer_uid) continue;
            std::lock_guard wl(w->mutex_);
            if (w->dropped_) continue;
            if (w->bytes_ + line.size() > w->max_bytes_) {
                w->dropped_ = true;
                w->lines_.clear();
                calls.push_back(w->drop_);
            } else {
                w->bytes_ += line.size();
                w->lines_.push_back(line);
                calls.push_back(w->wake_);
            }
        }
    }
    for (auto& call : calls) call();
}

} // namespace pfd
