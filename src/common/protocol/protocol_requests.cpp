// Requests: the one place they are decoded (the daemon) and encoded (the
// clients).

#include "pfd/protocol.hpp"
#include "quote.hpp"

#include "exec_wire.hpp"
#include "json_fields.hpp"
#include "signals.hpp"

#include <fmt/format.h>

namespace pfd {

using namespace json_fields;

namespace {

void check_version(const json& j, bool required)
{
    auto it = j.find("pfd");
    if (it == j.end()) {
        if (required) bad("missing \"pfd\": the protocol version");
        return;
    }
    if (!it->is_number_integer()) bad("'pfd' must be an integer");
    if (it->get<std::int64_t>() != protocol_version)
        throw protocol_error(errc::version_mismatch,
                             fmt::format("protocol version {} is not supported (this daemon speaks {})",
                                         clipped(it->dump(), 32), protocol_version));
}

request parse_exec(const json& j)
{
    unchecked_exec f = decode_exec(j);
    check_exec(f);
    return std::move(f.req);
}

signal_request parse_signal(const json& j)
{
    check_fields(j, {"pfd", "op", "signal"});
    if (!j.contains("signal")) bad("missing 'signal'");
    const json& s = j["signal"];
    std::optional<int> signo;
    if (s.is_string())
        signo = signal_from_name(s.get<std::string>());
    else if (s.is_number_integer())
        signo = signal_from_name(std::to_string(s.get<std::int64_t>()));
    else
        bad("'signal' must be a name or a number");
    if (!signo) bad(fmt::format("{} is not a signal", quote(s.is_string() ? s.get<std::string>() : s.dump())));
    return signal_request{*signo};
}

request parse_cancel(const json& j)
{
    check_fields(j, {"pfd", "op", "id"});
    if (!j.contains("id")) bad("missing 'id'");
    return cancel_request{static_cast<std::uint64_t>(get_int(j["id"], "id", 0, INT64_MAX))};
}

request parse_stop(const json& j)
{
    check_fields(j, {"pfd", "op", "grace_ms"});
    stop_request req;
    if (j.contains("grace_ms"))
        req.grace = std::chrono::milliseconds(get_int(j["grace_ms"], "grace_ms", 0, max_stop_grace.count()));
    return req;
}

/// An op without arguments: only "pfd" and "op" may be there.
template <typename Request>
request parse_bare(const json& j)
{
    check_fields(j, {"pfd", "op"});
    return Request{};
}

/// Every op: its name on the wire, its decoder.
struct op_row {
    std::string_view name;
    request (*parse)(const json&);
};
constexpr op_row ops[] = {
    {"exec", parse_exec},
    {"signal", [](const json& j) -> request { return parse_signal(j); }},
    {"cancel", parse_cancel},
    {"ps", parse_bare<ps_request>},
    {"watch", parse_bare<watch_request>},
    {"status", parse_bare<status_request>},
    {"ping", parse_bare<ping_request>},
    {"stop", parse_stop},
    {"reload", parse_bare<reload_request>},
    {"restart", parse_bare<restart_request>},
};
static_assert(std::size(ops) == std::variant_size_v<request>, "one row per request type, in the variant's order");

std::string op_of(const json& j)
{
    auto it = j.find("op");
    if (it == j.end()) bad("missing 'op'");
    if (!it->is_string()) bad("'op' must be a string");
    return it->get<std::string>();
}

/// `{"pfd":1,"op":NAME}`, the start of every first line.
ordered_json head(const request& req)
{
    return ordered_json{{"pfd", protocol_version}, {"op", op_name(req)}};
}

/// Each request's line, '\n' included.
struct request_encoder {
    const request& whole;

    std::string operator()(const exec_request& req) const { return exec_line(req); }
    /// Sent while a command runs, where the version was said already.
    std::string operator()(const signal_request& req) const
    {
        return line_of({{"op", "signal"}, {"signal", signal_name(req.signo)}});
    }
    std::string operator()(const cancel_request& req) const
    {
        ordered_json j = head(whole);
        j["id"] = req.id;
        return line_of(j);
    }
    std::string operator()(const stop_request& req) const
    {
        ordered_json j = head(whole);
        if (req.grace) j["grace_ms"] = req.grace->count();
        return line_of(j);
    }
    template <typename Bare>
    std::string operator()(const Bare&) const
    {
        return line_of(head(whole));
    }
};

} // namespace

std::string_view op_name(const request& req) noexcept
{
    return ops[req.index()].name;
}

request parse_request(std::string_view line)
{
    if (auto fields = read_exec_line(line)) {
        check_exec(*fields);
        return std::move(fields->req);
    }
    return parse_request_with_dom(line);
}

request parse_request_with_dom(std::string_view line)
{
    json j = parse_object(line);
    check_version(j, true);
    std::string op = op_of(j);
    for (auto& row : ops)
        if (row.name == op) return row.parse(j);
    bad(fmt::format("unknown op {}", quote(op)));
}

signal_request parse_control(std::string_view line)
{
    json j = parse_object(line);
    check_version(j, false);
    std::string op = op_of(j);
    if (op != "signal") bad(fmt::format("op {} is not allowed while a command runs", quote(op)));
    return parse_signal(j);
}

std::string encode_request(const request& req)
{
    return std::visit(request_encoder{req}, req);
}

} // namespace pfd
