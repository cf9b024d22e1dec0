#pragma once
// How many connections the daemon holds open, in total and per client uid
// ([limits] connections, connections_per_uid), with the owner's reserve kept
// from other uids ([limits] owner_reserve, owner_places.hpp). A connection
// beyond any is answered `limit` and closed as soon as it is accepted: the
// accept queue is never left to fill up with clients that wait for nothing.
//
// The last connection of a burst also gives the burst's memory back
// (malloc_trim): by then every session object and coroutine frame of it is
// freed, which is not yet so when the last command ends.

#include "owner_places.hpp"

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace pfd {

class connection_slots {
public:
    /// One open connection's place; given back when destroyed.
    class slot {
    public:
        slot() = default;
        slot(slot&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)), uid_(other.uid_), by_owner_(other.by_owner_)
        {
        }
        slot& operator=(slot&&) = delete;
        ~slot();

    private:
        friend class connection_slots;
        slot(connection_slots* owner, uid_t uid, bool by_owner) : owner_(owner), uid_(uid), by_owner_(by_owner) {}
        connection_slots* owner_ = nullptr;
        uid_t uid_ = 0;
        bool by_owner_ = false; ///< of the daemon's owner (its uid, root)
    };

    /// A place for a connection of `uid`, the daemon's `owner` or not
    /// (limits: connections, connections_per_uid, owner_reserve), or why
    /// there is none, naming the [limits] keys.
    std::optional<slot> take(uid_t uid, bool owner, const place_limits& limits, std::string& why);

    std::size_t open() const;

private:
    void give_back(uid_t uid, bool by_owner) noexcept;

    mutable std::mutex mutex_;
    std::size_t total_ = 0;
    std::size_t others_ = 0; ///< open connections of uids that are not the owner
    std::size_t peak_ = 0;   ///< the most open at once since the last trim
    std::map<uid_t, std::size_t> per_uid_;
};

} // namespace pfd
