#include "connection_slots.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace pfd {

namespace {

/// How many connections at once make their end worth a malloc_trim().
constexpr std::size_t trim_after_connections = 16;

} // namespace

connection_slots::slot::~slot()
{
    if (owner_) owner_->give_back(uid_, by_owner_);
}

std::optional<connection_slots::slot> connection_slots::take(uid_t uid, bool owner, const place_limits& limits,
                                                             std::string& why)
{
    std::lock_guard lock(mutex_);
    auto& mine = per_uid_[uid];
    auto refused = refusal(limits, {total_, mine, others_}, owner);
    switch (refused) {
    case place_refusal::none:
        break;
    case place_refusal::total:
        why = fmt::format("the daemon holds {} connections already ([limits] connections); try again later", total_);
        break;
    case place_refusal::per_uid:
        why = fmt::format("uid {} holds {} connections already ([limits] connections_per_uid); try again later", uid,
                          mine);
        break;
    case place_refusal::reserved:
        why = fmt::format("other uids hold {} connections, all but the {} kept for uid {} and root ([limits] "
                          "connections, owner_reserve); try again later",
                          others_, limits.reserve(), ::getuid());
        break;
    }
    if (refused != place_refusal::none) {
        if (mine == 0) per_uid_.erase(uid);
        return std::nullopt;
    }
    ++mine;
    others_ += !owner;
    peak_ = std::max(peak_, ++total_);
    return slot(this, uid, owner);
}

std::size_t connection_slots::open() const
{
    std::lock_guard lock(mutex_);
    return total_;
}

void connection_slots::give_back(uid_t uid, bool by_owner) noexcept
{
    bool trim = false;
    {
        std::lock_guard lock(mutex_);
        --total_;
        others_ -= !by_owner;
        if (auto it = per_uid_.find(uid); it != per_uid_.end() && --it->second == 0) per_uid_.erase(it);
        // malloc keeps a burst's freed pages (the heap is fragmented, its
        // top cannot shrink), and an idle daemon would hold its peak for
        // good. Not after every connection: a trim costs more than one.
        if (total_ == 0 && peak_ >= trim_after_connections) {
            peak_ = 0;
            trim = true;
        }
    }
    if (trim) ::malloc_trim(0);
}

} // namespace pfd
