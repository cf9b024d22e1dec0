#pragma once
// Places of one kind that the daemon hands out (connections, watchers,
// running commands): at most a total, at most a share per uid, and a
// reserve out of the total that only the daemon's owner (its own uid and
// root) may take. Other allowed uids together hold at most the total minus
// the reserve, so that they can never take what the owner needs to see
// (`pfd ps`, `pfd watch`) and stop (`pfd cancel`, `pfd stop`) them.

#include <sys/types.h>

#include <cstddef>

namespace pfd {

/// The limits of one kind of place; 0 is no limit.
struct place_limits {
    std::size_t total = 0;
    std::size_t per_uid = 0;
    /// [limits] owner_reserve: kept out of `total` for the owner; never more
    /// than half of `total`, so that a small limit still serves other uids.
    std::size_t owner_reserve = 0;

    /// The places other uids may hold together; `total` when it is 0.
    std::size_t for_others() const noexcept;
    /// The reserve in effect (owner_reserve, at most half of `total`).
    std::size_t reserve() const noexcept;
};

/// What is held when one more place is asked for.
struct places_held {
    std::size_t total = 0;
    std::size_t of_uid = 0; ///< by the asking uid
    std::size_t others = 0; ///< by uids that are not the owner's
};

enum class place_refusal { none, total, per_uid, reserved };

/// Whether one more place may be taken by `owner` (the daemon's uid or
/// root) or another uid, and which limit says no.
place_refusal refusal(const place_limits& limits, const places_held& held, bool owner) noexcept;

/// Whether `uid` is the daemon's owner: its own uid, or root.
bool is_owner_uid(uid_t uid) noexcept;

} // namespace pfd
