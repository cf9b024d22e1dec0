#include "pfd/protocol.hpp"

#include "pfd/byte_string.hpp"
#include "pfd/signals.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace pfd {

using json = nlohmann::json;
// Encoding keeps insertion order so lines read as the spec writes them ("event" first).
using ordered_json = nlohmann::ordered_json;

namespace {

[[noreturn]] void bad(const std::string& message)
{
    throw protocol_error(errc::bad_request, message);
}

/// Parses one JSON object, rejecting duplicate keys at any depth (nlohmann
/// would silently keep the last one, and a request must mean one thing).
json parse_object(std::string_view line)
{
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    auto check = [&](int, json::parse_event_t ev, json& parsed) {
        switch (ev) {
        case json::parse_event_t::object_start:
            keys.emplace_back();
            break;
        case json::parse_event_t::object_end:
            keys.pop_back();
            break;
        case json::parse_event_t::key:
            if (!keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
            break;
        default:
            break;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(line.begin(), line.end(), check);
    } catch (const json::parse_error& e) {
        bad(fmt::format("malformed JSON: {}", e.what()));
    }
    if (!duplicate.empty()) bad(fmt::format("duplicate key '{}'", duplicate));
    if (!j.is_object()) bad("a message must be a JSON object");
    return j;
}

/// Names a field for an error message: "argv" or "argv[3]". Built only when
/// an error is reported, never on the success path.
struct field_name {
    std::string_view name;
    std::optional<std::size_t> index;
    std::string str() const { return index ? fmt::format("{}[{}]", name, *index) : std::string(name); }
};

std::string decode_bytes(const json& v, field_name field)
{
    std::string out;
    if (v.is_string()) {
        out = v.get<std::string>();
    } else if (v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string()) {
        auto decoded = base64_decode(v["b64"].get<std::string>());
        if (!decoded) bad(fmt::format("'{}' holds invalid base64", field.str()));
        out = std::move(*decoded);
    } else {
        bad(fmt::format("'{}' must be a string or {{\"b64\":...}}", field.str()));
    }
    if (out.find('\0') != std::string::npos) bad(fmt::format("'{}' contains a NUL byte", field.str()));
    return out;
}

ordered_json encode_bytes(std::string_view bytes)
{
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return ordered_json{{"b64", base64_encode(bytes)}};
}

std::vector<std::string> decode_byte_array(const json& v, std::string_view field)
{
    if (!v.is_array()) bad(fmt::format("'{}' must be an array", field));
    std::vector<std::string> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(decode_bytes(v[i], field_name{field, i}));
    return out;
}

bool get_bool(const json& v, std::string_view field)
{
    if (!v.is_boolean()) bad(fmt::format("'{}' must be a boolean", field));
    return v.get<bool>();
}

std::int64_t get_int(const json& v, std::string_view field, std::int64_t lo, std::int64_t hi)
{
    if (!v.is_number_integer()) bad(fmt::format("'{}' must be an integer", field));
    bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
    if (too_big || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
        bad(fmt::format("'{}' must be between {} and {}", field, lo, hi));
    return v.get<std::int64_t>();
}

void check_version(const json& j, bool required)
{
    auto it = j.find("pfd");
    if (it == j.end()) {
        if (required) bad("missing \"pfd\": the protocol version");
        return;
    }
    if (!it->is_number_integer()) bad("'pfd' must be an integer");
    if (it->get<std::int64_t>() != protocol_version)
        throw protocol_error(
            errc::version_mismatch,
            fmt::format("protocol version {} is not supported (this daemon speaks {})", it->dump(), protocol_version));
}

void check_fields(const json& j, std::initializer_list<std::string_view> allowed)
{
    for (auto& [key, value] : j.items()) {
        bool ok = false;
        for (auto a : allowed) ok = ok || key == a;
        if (!ok) bad(fmt::format("unknown field '{}'", key));
    }
}

exec_request parse_exec(const json& j)
{
    check_fields(j, {"pfd", "op", "argv", "env", "cwd", "umask", "fds", "tty", "detach", "client"});
    exec_request req;
    if (!j.contains("argv")) bad("missing 'argv'");
    req.argv = decode_byte_array(j["argv"], "argv");
    if (req.argv.empty()) bad("'argv' must not be empty");
    if (req.argv[0].empty()) bad("'argv[0]' must not be empty");
    if (j.contains("env")) {
        req.env = decode_byte_array(j["env"], "env");
        std::set<std::string_view> names;
        for (auto& entry : req.env) {
            auto eq = entry.find('=');
            if (eq == std::string::npos) bad(fmt::format("env entry '{}' has no '='", entry));
            if (eq == 0) bad(fmt::format("env entry '{}' has an empty name", entry));
            if (!names.insert(std::string_view(entry).substr(0, eq)).second)
                bad(fmt::format("env variable '{}' is given twice", entry.substr(0, eq)));
        }
    }
    if (!j.contains("cwd")) bad("missing 'cwd'");
    req.cwd = decode_bytes(j["cwd"], field_name{"cwd", std::nullopt});
    if (req.cwd.empty() || req.cwd[0] != '/') bad(fmt::format("'cwd' must be an absolute path, not '{}'", req.cwd));
    if (j.contains("umask")) req.umask = static_cast<mode_t>(get_int(j["umask"], "umask", 0, 0777));
    if (j.contains("fds")) {
        const json& fds = j["fds"];
        if (!fds.is_array()) bad("'fds' must be an array");
        std::set<int> seen;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            int fd = static_cast<int>(get_int(fds[i], fmt::format("fds[{}]", i), 0, 1 << 20));
            if (!seen.insert(fd).second) bad(fmt::format("descriptor {} appears twice in 'fds'", fd));
            req.fds.push_back(fd);
        }
    }
    if (j.contains("tty")) req.tty = get_bool(j["tty"], "tty");
    if (j.contains("detach")) req.detach = get_bool(j["detach"], "detach");
    if (j.contains("client")) {
        if (!j["client"].is_string()) bad("'client' must be a string");
        req.client = j["client"].get<std::string>();
    }
    return req;
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
    if (!signo) bad(fmt::format("'{}' is not a signal", s.is_string() ? s.get<std::string>() : s.dump()));
    return signal_request{*signo};
}

std::string op_of(const json& j)
{
    auto it = j.find("op");
    if (it == j.end()) bad("missing 'op'");
    if (!it->is_string()) bad("'op' must be a string");
    return it->get<std::string>();
}

std::string line_of(const ordered_json& j)
{
    return j.dump() + '\n';
}

} // namespace

request parse_request(std::string_view line)
{
    json j = parse_object(line);
    check_version(j, true);
    std::string op = op_of(j);
    if (op == "exec") return parse_exec(j);
    if (op == "signal") return parse_signal(j);
    if (op == "cancel") {
        check_fields(j, {"pfd", "op", "id"});
        if (!j.contains("id")) bad("missing 'id'");
        return cancel_request{static_cast<std::uint64_t>(get_int(j["id"], "id", 0, INT64_MAX))};
    }
    for (auto simple : {"ps", "watch", "status", "ping", "stop", "reload", "restart"}) {
        if (op == simple) {
            check_fields(j, {"pfd", "op"});
            return simple_request{op};
        }
    }
    bad(fmt::format("unknown op '{}'", op));
}

signal_request parse_control(std::string_view line)
{
    json j = parse_object(line);
    check_version(j, false);
    std::string op = op_of(j);
    if (op != "signal") bad(fmt::format("op '{}' is not allowed while a command runs", op));
    return parse_signal(j);
}

std::string encode_request(const exec_request& req)
{
    ordered_json argv = ordered_json::array(), env = ordered_json::array();
    for (auto& a : req.argv) argv.push_back(encode_bytes(a));
    for (auto& e : req.env) env.push_back(encode_bytes(e));
    ordered_json j{
        {"pfd", protocol_version},      {"op", "exec"},       {"argv", std::move(argv)}, {"env", std::move(env)},
        {"cwd", encode_bytes(req.cwd)}, {"umask", req.umask}, {"fds", req.fds}};
    if (req.tty) j["tty"] = true;
    if (req.detach) j["detach"] = true;
    if (!req.client.empty()) j["client"] = req.client;
    return line_of(j);
}

std::string encode_request(const signal_request& req)
{
    return line_of(ordered_json{{"op", "signal"}, {"signal", signal_name(req.signo)}});
}

std::string encode_event(const event& ev)
{
    struct visitor {
        ordered_json operator()(const accepted_event& e) const { return {{"event", "accepted"}, {"id", e.id}}; }
        ordered_json operator()(const started_event& e) const
        {
            return {{"event", "started"}, {"id", e.id}, {"pid", e.pid}};
        }
        ordered_json operator()(const exited_event& e) const
        {
            ordered_json j{{"event", "exited"}, {"id", e.id}};
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
            return {{"event", "stopped"}, {"id", e.id}, {"signal", signal_name(e.signo)}, {"signo", e.signo}};
        }
        ordered_json operator()(const continued_event& e) const { return {{"event", "continued"}, {"id", e.id}}; }
        ordered_json operator()(const progress_event& e) const
        {
            ordered_json j{{"event", "progress"}, {"id", e.id}, {"message", e.message}};
            if (e.percent) j["percent"] = *e.percent;
            return j;
        }
        ordered_json operator()(const error_event& e) const
        {
            return {{"event", "error"}, {"code", to_string(e.code)}, {"message", e.message}};
        }
        ordered_json operator()(const other_event& e) const { return {{"event", e.name}}; }
    };
    // Messages may quote client bytes; never let an invalid byte abort the answer.
    return std::visit(visitor{}, ev).dump(-1, ' ', false, ordered_json::error_handler_t::replace) + '\n';
}

event parse_event(std::string_view line)
{
    json j;
    try {
        j = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
        throw protocol_error(errc::bad_request, fmt::format("malformed event: {}", e.what()));
    }
    if (!j.is_object() || !j.contains("event") || !j["event"].is_string())
        throw protocol_error(errc::bad_request, "not an event");
    auto name = j["event"].get<std::string>();
    try {
        if (name == "accepted") return accepted_event{j.at("id").get<std::uint64_t>()};
        if (name == "started") return started_event{j.at("id").get<std::uint64_t>(), j.at("pid").get<pid_t>()};
        if (name == "exited") {
            exited_event e;
            e.id = j.at("id").get<std::uint64_t>();
            if (j.contains("code")) {
                e.code = j["code"].get<int>();
            } else {
                e.signo = j.at("signo").get<int>();
                e.core = j.value("core", false);
            }
            e.duration_ms = j.value("duration_ms", std::uint64_t{0});
            return e;
        }
        if (name == "stopped") return stopped_event{j.at("id").get<std::uint64_t>(), j.at("signo").get<int>()};
        if (name == "continued") return continued_event{j.at("id").get<std::uint64_t>()};
        if (name == "progress") {
            progress_event e{j.at("id").get<std::uint64_t>(), j.value("message", std::string{}), {}};
            if (j.contains("percent")) e.percent = j["percent"].get<int>();
            return e;
        }
        if (name == "error") {
            auto code = errc_from_string(j.value("code", std::string{}));
            return error_event{code.value_or(errc::spawn_failed), j.value("message", std::string{})};
        }
    } catch (const json::exception& e) {
        throw protocol_error(errc::bad_request, fmt::format("malformed '{}' event: {}", name, e.what()));
    }
    return other_event{name};
}

std::string encode_ps(const std::vector<ps_entry>& sessions)
{
    ordered_json list = ordered_json::array();
    for (auto& e : sessions) {
        ordered_json argv = ordered_json::array();
        for (auto& a : e.argv) argv.push_back(encode_bytes(a));
        list.push_back({{"id", e.id},
                        {"pid", e.pid},
                        {"peer_uid", e.peer_uid},
                        {"peer_pid", e.peer_pid},
                        {"argv", std::move(argv)},
                        {"age_ms", e.age_ms}});
    }
    return line_of(ordered_json{{"event", "ps"}, {"sessions", std::move(list)}});
}

std::vector<ps_entry> parse_ps(std::string_view line)
{
    std::vector<ps_entry> out;
    try {
        json j = json::parse(line.begin(), line.end());
        for (auto& e : j.at("sessions")) {
            ps_entry p;
            p.id = e.at("id").get<std::uint64_t>();
            p.pid = e.at("pid").get<pid_t>();
            p.peer_uid = e.at("peer_uid").get<uid_t>();
            p.peer_pid = e.at("peer_pid").get<pid_t>();
            for (std::size_t i = 0; i < e.at("argv").size(); ++i)
                p.argv.push_back(decode_bytes(e["argv"][i], field_name{"argv", i}));
            p.age_ms = e.at("age_ms").get<std::uint64_t>();
            out.push_back(std::move(p));
        }
    } catch (const json::exception& e) {
        throw protocol_error(errc::bad_request, fmt::format("malformed 'ps' answer: {}", e.what()));
    }
    return out;
}

int shell_status(const exited_event& ev) noexcept
{
    return ev.code ? *ev.code : 128 + ev.signo;
}

} // namespace pfd
