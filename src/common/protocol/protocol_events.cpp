// Events: the one place they are encoded (the daemon) and decoded (the
// clients). Decoding is lenient with what a newer daemon may add.

#include "pfd/protocol.hpp"
#include "quote.hpp"

#include "json_fields.hpp"
#include "json_text.hpp"
#include "signals.hpp"

#include <fmt/format.h>

#include <csignal>
#include <utility>

namespace pfd {

using namespace json_fields;

namespace {

/// {"event":NAME,"id":ID}, then the fields of `more` in their order.
ordered_json with_id(std::string_view name, std::uint64_t id, const ordered_json& more = ordered_json::object())
{
    ordered_json j{{"event", name}, {"id", id}};
    for (auto& [key, value] : more.items()) j[key] = value;
    return j;
}

constexpr std::string_view stop_step_names[] = {"ended", "term", "kill"};

std::string_view stop_step_name(stop_step step)
{
    return stop_step_names[static_cast<int>(step)];
}

struct event_encoder {
    ordered_json operator()(const accepted_event& e) const { return with_id("accepted", e.id); }
    ordered_json operator()(const started_event& e) const { return with_id("started", e.id, {{"pid", e.pid}}); }
    ordered_json operator()(const terminal_event& e) const
    {
        return with_id("terminal", e.id, {{"path", encode_bytes(e.path)}});
    }
    ordered_json operator()(const exited_event& e) const
    {
        ordered_json j = with_id("exited", e.id);
        if (e.code) {
            j["code"] = *e.code;
        } else {
            j["signal"] = signal_name(e.signo);
            j["signo"] = e.signo;
            j["core"] = e.core;
        }
        j["duration_ms"] = e.duration_ms;
        return j;
    }
    ordered_json operator()(const stopped_event& e) const
    {
        return with_id("stopped", e.id, {{"signal", signal_name(e.signo)}, {"signo", e.signo}});
    }
    ordered_json operator()(const continued_event& e) const { return with_id("continued", e.id); }
    ordered_json operator()(const progress_event& e) const
    {
        ordered_json j = with_id("progress", e.id);
        j["message"] = e.message;
        if (e.percent) j["percent"] = *e.percent;
        return j;
    }
    ordered_json operator()(const error_event& e) const
    {
        // A backstop: messages quote client strings through quote() already.
        return {{"event", "error"}, {"code", to_string(e.code)}, {"message", clipped(e.message, 16 * quoted_max)}};
    }
    ordered_json operator()(const pong_event&) const { return {{"event", "pong"}}; }
    ordered_json operator()(const reloaded_event&) const { return {{"event", "reloaded"}}; }
    ordered_json operator()(const restarted_event&) const { return {{"event", "restarted"}}; }
    ordered_json operator()(const stopping_event& e) const
    {
        ordered_json j{{"event", "stopping"}, {"pid", e.pid}};
        if (e.running) j["running"] = *e.running;
        if (e.grace_ms) j["grace_ms"] = *e.grace_ms;
        return j;
    }
    ordered_json operator()(const stop_step_event& e) const
    {
        ordered_json j{{"event", "stop_step"}, {"step", stop_step_name(e.step)}};
        if (e.step != stop_step::ended) j["commands"] = e.commands;
        return j;
    }
    ordered_json operator()(const session_event& e) const
    {
        ordered_json j = with_id(
            "session", e.id, {{"peer_uid", e.peer_uid}, {"peer_pid", e.peer_pid}, {"argv", encode_byte_array(e.argv)}});
        if (e.truncated) j["truncated"] = true;
        j["origin"] = e.origin;
        return j;
    }
    ordered_json operator()(const watching_event&) const { return {{"event", "watching"}}; }
    ordered_json operator()(const cancelling_event& e) const
    {
        return with_id("cancelling", e.id, {{"signal", signal_name(e.signo)}});
    }
    ordered_json operator()(const cancelled_event& e) const
    {
        return with_id("cancelled", e.id, {{"killed", e.killed}});
    }
    ordered_json operator()(const status_event& e) const
    {
        return {{"event", "status"},
                {"pid", e.pid},
                {"socket", e.socket},
                {"uptime_ms", e.uptime_ms},
                {"version", e.version},
                {"build", e.build},
                {"running", e.running},
                {"served", e.served},
                {"latency_mean_us", e.latency_mean_us},
                {"latency_p99_us", e.latency_p99_us},
                {"rss_kib", e.rss_kib},
                {"environment", e.environment}};
    }
    ordered_json operator()(const ps_event& e) const
    {
        ordered_json list = ordered_json::array();
        for (auto& s : e.sessions) {
            ordered_json entry{{"id", s.id},
                               {"pid", s.pid},
                               {"peer_uid", s.peer_uid},
                               {"peer_pid", s.peer_pid},
                               {"argv", encode_byte_array(s.argv)}};
            if (s.truncated) entry["truncated"] = true;
            entry["age_ms"] = s.age_ms;
            entry["origin"] = s.origin;
            list.push_back(std::move(entry));
        }
        return {{"event", "ps"}, {"sessions", std::move(list)}};
    }
    ordered_json operator()(const other_event& e) const { return {{"event", e.name}}; }
};

/// An integer of type T, whole and in range, or the event is malformed:
/// nlohmann's get<int>() of a float casts it, which is undefined
/// behaviour out of range (found by fuzz/event.cpp).
template <typename T>
T int_value(const json& v, std::string_view name)
{
    if (v.is_number_unsigned()) {
        if (auto u = v.get<std::uint64_t>(); std::in_range<T>(u)) return static_cast<T>(u);
    } else if (v.is_number_integer()) {
        if (auto i = v.get<std::int64_t>(); std::in_range<T>(i)) return static_cast<T>(i);
    }
    throw protocol_error(errc::bad_request, fmt::format("'{}' must be an integer in range", name));
}

template <typename T>
T int_field(const json& j, const char* name)
{
    return int_value<T>(j.at(name), name);
}

template <typename T>
T int_field(const json& j, const char* name, T fallback)
{
    auto it = j.find(name);
    return it == j.end() ? fallback : int_value<T>(*it, name);
}

std::uint64_t id_of(const json& j)
{
    return int_field<std::uint64_t>(j, "id");
}

event parse_exited(const json& j)
{
    exited_event e;
    e.id = id_of(j);
    if (j.contains("code")) {
        e.code = int_field<int>(j, "code");
    } else {
        e.signo = int_field<int>(j, "signo");
        e.core = j.value("core", false);
    }
    e.duration_ms = int_field<std::uint64_t>(j, "duration_ms", std::uint64_t{0});
    return e;
}

event parse_progress(const json& j)
{
    progress_event e{id_of(j), j.value("message", std::string{}), {}};
    if (j.contains("percent")) e.percent = int_field<int>(j, "percent");
    return e;
}

event parse_error(const json& j)
{
    auto code = errc_from_string(j.value("code", std::string{}));
    return error_event{code.value_or(errc::spawn_failed), j.value("message", std::string{})};
}

event parse_cancelling(const json& j)
{
    auto signo = signal_from_name(j.value("signal", std::string("TERM")));
    return cancelling_event{id_of(j), signo.value_or(SIGTERM)};
}

event parse_status(const json& j)
{
    status_event e;
    e.pid = int_field<pid_t>(j, "pid", pid_t{0});
    e.socket = j.value("socket", std::string{});
    e.uptime_ms = int_field<std::uint64_t>(j, "uptime_ms", std::uint64_t{0});
    e.version = j.value("version", std::string{});
    e.build = j.value("build", std::string{});
    e.running = int_field<std::uint64_t>(j, "running", std::uint64_t{0});
    e.served = int_field<std::uint64_t>(j, "served", std::uint64_t{0});
    e.latency_mean_us = int_field<std::uint64_t>(j, "latency_mean_us", std::uint64_t{0});
    e.latency_p99_us = int_field<std::uint64_t>(j, "latency_p99_us", std::uint64_t{0});
    e.rss_kib = int_field<std::uint64_t>(j, "rss_kib", std::uint64_t{0});
    if (j.contains("environment") && j["environment"].is_string()) e.environment = j["environment"].get<std::string>();
    return e;
}

event parse_ps(const json& j)
{
    ps_event out;
    for (auto& s : j.at("sessions")) {
        ps_entry p;
        p.id = id_of(s);
        p.pid = int_field<pid_t>(s, "pid");
        p.peer_uid = int_field<uid_t>(s, "peer_uid");
        p.peer_pid = int_field<pid_t>(s, "peer_pid");
        p.argv = decode_byte_array(s.at("argv"), "argv");
        p.truncated = s.value("truncated", false);
        p.age_ms = int_field<std::uint64_t>(s, "age_ms");
        if (auto o = s.find("origin"); o != s.end() && o->is_string()) p.origin = o->get<std::string>();
        out.sessions.push_back(std::move(p));
    }
    return out;
}

event parse_stopping(const json& j)
{
    stopping_event e{int_field<pid_t>(j, "pid", pid_t{0}), {}, {}};
    if (j.contains("running")) e.running = int_field<std::uint64_t>(j, "running");
    if (j.contains("grace_ms")) e.grace_ms = int_field<std::uint64_t>(j, "grace_ms");
    return e;
}

event parse_stop_step(const json& j)
{
    auto name = j.at("step").get<std::string>();
    for (std::size_t i = 0; i < std::size(stop_step_names); ++i)
        if (stop_step_names[i] == name)
            return stop_step_event{static_cast<stop_step>(i),
                                   int_field<std::uint64_t>(j, "commands", std::uint64_t{0})};
    // A step a newer daemon added: nothing to act on.
    return other_event{"stop_step"};
}

event parse_session(const json& j)
{
    session_event e;
    e.id = id_of(j);
    e.peer_uid = int_field<uid_t>(j, "peer_uid");
    e.peer_pid = int_field<pid_t>(j, "peer_pid");
    e.argv = decode_byte_array(j.at("argv"), "argv");
    e.truncated = j.value("truncated", false);
    if (auto o = j.find("origin"); o != j.end() && o->is_string()) e.origin = o->get<std::string>();
    return e;
}

/// Every event this build knows: its name, its decoder.
struct event_row {
    std::string_view name;
    event (*parse)(const json&);
};
constexpr event_row events[] = {
    {"accepted", [](const json& j) -> event { return accepted_event{id_of(j)}; }},
    {"started",
     [](const json& j) -> event {
         return started_event{id_of(j), int_field<pid_t>(j, "pid")};
     }},
    {"terminal",
     [](const json& j) -> event {
         return terminal_event{id_of(j), decode_bytes(j.at("path"), field_name{"path", std::nullopt})};
     }},
    {"exited", parse_exited},
    {"stopped",
     [](const json& j) -> event {
         return stopped_event{id_of(j), int_field<int>(j, "signo")};
     }},
    {"continued", [](const json& j) -> event { return continued_event{id_of(j)}; }},
    {"progress", parse_progress},
    {"error", parse_error},
    {"pong", [](const json&) -> event { return pong_event{}; }},
    {"reloaded", [](const json&) -> event { return reloaded_event{}; }},
    {"restarted", [](const json&) -> event { return restarted_event{}; }},
    {"stopping", parse_stopping},
    {"stop_step", parse_stop_step},
    {"session", parse_session},
    {"watching", [](const json&) -> event { return watching_event{}; }},
    {"cancelling", parse_cancelling},
    {"cancelled",
     [](const json& j) -> event {
         return cancelled_event{id_of(j), j.value("killed", false)};
     }},
    {"status", parse_status},
    {"ps", parse_ps},
};
static_assert(std::size(events) + 1 == std::variant_size_v<event>, "one row per known event type");

/// The events of every command written straight into their line, as
/// event_encoder's DOM would dump them (a DOM built and dumped was ~9 us of
/// the daemon's time for each, three times a command).
std::optional<std::string> command_event_line(const event& ev)
{
    if (auto* e = std::get_if<accepted_event>(&ev))
        return fmt::format(R"({{"event":"accepted","id":{}}})"
                           "\n",
                           e->id);
    if (auto* e = std::get_if<started_event>(&ev))
        return fmt::format(R"({{"event":"started","id":{},"pid":{}}})"
                           "\n",
                           e->id, e->pid);
    auto* e = std::get_if<exited_event>(&ev);
    if (!e) return std::nullopt;
    if (e->code)
        return fmt::format(R"({{"event":"exited","id":{},"code":{},"duration_ms":{}}})"
                           "\n",
                           e->id, *e->code, e->duration_ms);
    std::string name;
    json_text::append_string(name, signal_name(e->signo));
    return fmt::format(R"({{"event":"exited","id":{},"signal":{},"signo":{},"core":{},"duration_ms":{}}})"
                       "\n",
                       e->id, name, e->signo, e->core, e->duration_ms);
}

} // namespace

std::string encode_event(const event& ev)
{
    if (auto line = command_event_line(ev)) return std::move(*line);
    return line_of(std::visit(event_encoder{}, ev));
}

event parse_event(std::string_view line)
{
    if (line.find('\0') != std::string_view::npos) // nlohmann would stop there
        throw protocol_error(errc::bad_request, "an event must not contain a NUL byte");
    json j;
    try {
        j = json::parse(line.begin(), line.end());
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number beyond a double (1e400).
        throw protocol_error(errc::bad_request,
                             fmt::format("malformed event: {}", printable(clipped(e.what(), 2 * quoted_max))));
    }
    if (!j.is_object() || !j.contains("event") || !j["event"].is_string())
        throw protocol_error(errc::bad_request, "not an event");
    auto name = j["event"].get<std::string>();
    for (auto& row : events) {
        if (row.name != name) continue;
        try {
            return row.parse(j);
        } catch (const json::exception& e) {
            throw protocol_error(errc::bad_request, fmt::format("malformed {} event: {}", quote(name),
                                                                printable(clipped(e.what(), 2 * quoted_max))));
        }
    }
    return other_event{name};
}

int shell_status(const exited_event& ev) noexcept
{
    return ev.code ? *ev.code : 128 + ev.signo;
}

} // namespace pfd
