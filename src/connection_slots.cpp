#include "connection_slots.hpp"

#include <fmt/format.h>

namespace pfd {

connection_slots::slot::~slot()
{
    if (owner_) owner_->give_back(uid_);
}

std::optional<connection_slots::slot> connection_slots::take(uid_t uid, std::size_t max_total,
                                                             std::size_t max_per_uid, std::string& why)
{
    std::lock_guard lock(mutex_);
    if (max_total && total_ >= max_total) {
        why = fmt::format("the daemon holds {} connections already ([limits] connections); try again later", total_);
        return std::nullopt;
    }
    auto& mine = per_uid_[uid];
    if (max_per_uid && mine >= max_per_uid) {
        why = fmt::format("uid {} holds {} connections already ([limits] connections_per_uid); try again later", uid,
                          mine);
        return std::nullopt;
    }
    ++mine;
    ++total_;
    return slot(this, uid);
}

std::size_t connection_slots::open() const
{
    std::lock_guard lock(mutex_);
    return total_;
}

void connection_slots::give_back(uid_t uid) noexcept
{
    std::lock_guard lock(mutex_);
    --total_;
    if (auto it = per_uid_.find(uid); it != per_uid_.end() && --it->second == 0) per_uid_.erase(it);
}

} // namespace pfd
