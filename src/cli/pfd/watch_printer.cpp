#include "watch_printer.hpp"

#include "pfd/protocol.hpp"
#include "quote.hpp"
#include "signals.hpp"

#include <ctime>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace pfd {

namespace {

std::string command_line(const session_event& s)
{
    std::string out;
    for (auto& a : s.argv) out += (out.empty() ? "" : " ") + shell_word(a);
    if (s.truncated) out += " \u2026"; // the daemon kept only part of it
    if (s.origin != "host") out += " (from " + printable(s.origin) + ")";
    return out;
}

/// "08:49:14.304", local time.
std::string clock_time(std::chrono::system_clock::time_point when)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    return fmt::format("{:02}:{:02}:{:02}.{:03}", local.tm_hour, local.tm_min, local.tm_sec, ms % 1000);
}

std::string how_it_ended(const exited_event& e)
{
    if (e.code) return fmt::format("code {} after {} ms", *e.code, e.duration_ms);
    return fmt::format("killed by SIG{}{} after {} ms", signal_name(e.signo), e.core ? " (core dumped)" : "",
                       e.duration_ms);
}

} // namespace

std::string watch_printer::row(std::chrono::system_clock::time_point when, std::optional<std::uint64_t> id,
                               std::string_view event, std::string_view detail) const
{
    std::string who = "-", uid = "-";
    if (id) {
        who = std::to_string(*id);
        if (auto it = sessions_.find(*id); it != sessions_.end()) uid = std::to_string(it->second.uid);
    }
    std::string out = fmt::format("{} {:>6} {:>6} {:<9} {}", clock_time(when), who, uid, event, detail);
    while (out.ends_with(' ')) out.pop_back();
    return out + "\n";
}

std::string watch_printer::format(std::string_view line, std::chrono::system_clock::time_point when)
{
    while (line.ends_with('\n')) line.remove_suffix(1);
    event ev;
    try {
        ev = parse_event(line);
    } catch (const protocol_error&) {
        return row(when, std::nullopt, "?", printable(line));
    }
    auto after_accepted = std::exchange(just_accepted_, std::nullopt);
    return std::visit(
        [&](const auto& e) -> std::string {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, watching_event>) {
                return fmt::format("{:<12} {:>6} {:>6} {:<9} {}\n", "TIME", "ID", "UID", "EVENT", "DETAIL");
            } else if constexpr (std::is_same_v<E, session_event>) {
                sessions_[e.id] = described{e.peer_uid, command_line(e)};
                // Sessions whose end we never see (detached, hung up) are
                // forgotten oldest first: ids only grow.
                if (sessions_.size() > max_remembered) sessions_.erase(sessions_.begin());
                return {};
            } else if constexpr (std::is_same_v<E, accepted_event>) {
                just_accepted_ = e.id;
                auto it = sessions_.find(e.id);
                return row(when, e.id, "accepted", it == sessions_.end() ? "" : it->second.command);
            } else if constexpr (std::is_same_v<E, terminal_event>) {
                just_accepted_ = after_accepted; // still starting
                return row(when, e.id, "terminal", printable(e.path));
            } else if constexpr (std::is_same_v<E, started_event>) {
                return row(when, e.id, "started", fmt::format("pid {}", e.pid));
            } else if constexpr (std::is_same_v<E, progress_event>) {
                std::string percent = e.percent ? fmt::format("{}% ", *e.percent) : "";
                return row(when, e.id, "progress", percent + printable(e.message));
            } else if constexpr (std::is_same_v<E, stopped_event>) {
                return row(when, e.id, "stopped", "by SIG" + signal_name(e.signo));
            } else if constexpr (std::is_same_v<E, continued_event>) {
                return row(when, e.id, "continued", "");
            } else if constexpr (std::is_same_v<E, exited_event>) {
                auto out = row(when, e.id, "exited", how_it_ended(e));
                sessions_.erase(e.id);
                return out;
            } else if constexpr (std::is_same_v<E, error_event>) {
                // The daemon's message quotes what came from outside
                // escaped already (quote()): escaped again only if it did not.
                std::string message = needs_escaping(e.message) ? printable(e.message) : e.message;
                auto out = row(when, after_accepted, "error", fmt::format("{}: {}", to_string(e.code), message));
                if (after_accepted) sessions_.erase(*after_accepted);
                return out;
            } else if constexpr (std::is_same_v<E, other_event>) {
                return row(when, std::nullopt, printable(e.name), printable(line));
            } else {
                return row(when, std::nullopt, "?", printable(line)); // not a watch event
            }
        },
        ev);
}

} // namespace pfd
