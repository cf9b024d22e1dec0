#pragma once
// `pfd watch` for people: each event line of the daemon's stream becomes a
// line with the time it arrived, the session's id and peer uid, the event,
// and what it says (the command, its pid, how it ended, why it failed).
// `pfd watch --json` prints the stream itself instead.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pfd {

class watch_printer {
public:
    /// What to print for one line of the stream ('\n' included; "" for a
    /// line shown through the others, a `session`), received at `when`.
    /// Control bytes of a client's strings come out as \xNN.
    std::string format(std::string_view line, std::chrono::system_clock::time_point when);

private:
    /// What a `session` event said, until the session ends.
    struct described {
        uid_t uid = 0;
        std::string command;
    };
    std::map<std::uint64_t, described> sessions_;
    static constexpr std::size_t max_remembered = 4096;
    /// The session whose `accepted` came last, not yet `started`: an
    /// `error` (which carries no id) that follows at once is its own, the
    /// daemon sending the two in one write.
    std::optional<std::uint64_t> just_accepted_;

    std::string row(std::chrono::system_clock::time_point when, std::optional<std::uint64_t> id, std::string_view event,
                    std::string_view detail) const;
};

} // namespace pfd
