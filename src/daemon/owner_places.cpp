#include "owner_places.hpp"

#include <unistd.h>

#include <algorithm>

namespace pfd {

std::size_t place_limits::reserve() const noexcept
{
    return std::min(owner_reserve, total / 2);
}

std::size_t place_limits::for_others() const noexcept
{
    return total - reserve();
}

place_refusal refusal(const place_limits& limits, const places_held& held, bool owner) noexcept
{
    if (limits.total && held.total >= limits.total) return place_refusal::total;
    if (limits.per_uid && held.of_uid >= limits.per_uid) return place_refusal::per_uid;
    if (!owner && limits.total && held.others >= limits.for_others()) return place_refusal::reserved;
    return place_refusal::none;
}

bool is_owner_uid(uid_t uid) noexcept
{
    static const uid_t self = ::getuid();
    return uid == self || uid == 0;
}

} // namespace pfd
