#include "watch_hub.hpp"

#include <unistd.h>

#include <utility>

#include <fmt/format.h>

namespace pfd {

std::shared_ptr<watch_hub::watcher> watch_hub::subscribe(std::function<void()> wake, std::function<void()> drop,
                                                         uid_t uid, bool owner, const place_limits& places,
                                                         std::size_t backlog_bytes, std::string& why)
{
    std::lock_guard lock(mutex_);
    places_held held{watchers_.size(), 0, 0};
    for (auto& other : watchers_) {
        held.of_uid += other->uid_ == uid;
        held.others += !other->owner_;
    }
    switch (refusal(places, held, owner)) {
    case place_refusal::none:
        break;
    case place_refusal::total:
        why = fmt::format("{} watchers already ([limits] watchers)", held.total);
        return nullptr;
    case place_refusal::per_uid:
        why = fmt::format("uid {} has {} watchers already", uid, held.of_uid);
        return nullptr;
    case place_refusal::reserved:
        why = fmt::format("other uids have {} watchers, all but the {} kept for uid {} and root ([limits] watchers, "
                          "owner_reserve)",
                          held.others, places.reserve(), ::getuid());
        return nullptr;
    }
    auto w = std::make_shared<watcher>();
    w->wake_ = std::move(wake);
    w->drop_ = std::move(drop);
    w->uid_ = uid;
    w->owner_ = owner;
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
            if (!w->owner_ && w->uid_ != peer_uid) continue;
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
