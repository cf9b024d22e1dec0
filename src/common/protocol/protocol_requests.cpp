// Requests: the one place they are decoded (the daemon) and encoded (the
// clients).

#include "pfd/protocol.hpp"
#include "quote.hpp"

#include "byte_string.hpp"
#include "exec_fields.hpp"
#include "json_fields.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

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
        throw protocol_error(
            errc::version_mismatch,
            fmt::format("protocol version {} is not supported (this daemon speaks {})", clipped(it->dump(), 32), protocol_version));
}

void check_fields(const json& j, std::initializer_list<std::string_view> allowed)
{
    for (auto& [key, value] : j.items()) {
        bool ok = false;
        for (auto a : allowed) ok = ok || key == a;
        if (!ok) bad(fmt::format("unknown field {}", quote(key)));
    }
}

terminal_modes parse_modes(const json& t)
{
    if (!t.is_object()) bad("'termios' must be an object");
    check_fields(t, {"iflag", "oflag", "cflag", "lflag", "cc"});
    terminal_modes m;
    auto flag = [&](const char* name) {
        if (!t.contains(name)) bad(fmt::format("'termios' lacks '{}'", name));
        return static_cast<std::uint32_t>(get_int(t[name], fmt::format("termios.{}", name), 0, 0xffffffffLL));
    };
    m.iflag = flag("iflag");
    m.oflag = flag("oflag");
    m.cflag = flag("cflag");
    m.lflag = flag("lflag");
    if (!t.contains("cc") || !t["cc"].is_array() || t["cc"].size() > 64)
        bad("'termios.cc' must be an array of at most 64 bytes");
    for (std::size_t i = 0; i < t["cc"].size(); ++i)
        m.cc.push_back(static_cast<std::uint8_t>(get_int(t["cc"][i], fmt::format("termios.cc[{}]", i), 0, 255)));
    return m;
}

exec_fields decode_exec(const json& j)
{
    check_fields(j, {"pfd", "op", "argv", "env", "cwd", "cwd_fd", "umask", "fds", "tty", "ctty", "winsize", "termios",
                     "detach", "client", "program", "container", "env_forward", "login_shell", "clear_env",
                     "unset_env"});
    exec_fields f;
    exec_request& req = f.req;
    if (j.contains("login_shell")) req.login_shell = get_bool(j["login_shell"], "login_shell");
    f.has_argv = j.contains("argv");
    if (f.has_argv) req.argv = decode_byte_array(j["argv"], "argv");
    if (j.contains("env")) req.env = decode_byte_array(j["env"], "env");
    f.has_cwd = j.contains("cwd");
    if (f.has_cwd) req.cwd = decode_bytes(j["cwd"], field_name{"cwd", std::nullopt});
    if (j.contains("cwd_fd")) req.cwd_fd = get_bool(j["cwd_fd"], "cwd_fd");
    if (j.contains("umask")) req.umask = static_cast<mode_t>(get_int(j["umask"], "umask", 0, 0777));
    if (j.contains("fds")) {
        const json& fds = j["fds"];
        if (!fds.is_array()) bad("'fds' must be an array");
        for (std::size_t i = 0; i < fds.size(); ++i)
            req.fds.push_back(static_cast<int>(get_int(fds[i], fmt::format("fds[{}]", i), 0, 1 << 20)));
    }
    if (j.contains("tty")) req.tty = get_bool(j["tty"], "tty");
    if (j.contains("ctty")) req.ctty = get_bool(j["ctty"], "ctty");
    f.has_winsize = j.contains("winsize");
    if (f.has_winsize) {
        const json& w = j["winsize"];
        if (!w.is_array() || w.size() != 2) bad("'winsize' must be [rows, columns]");
        req.rows = static_cast<std::uint16_t>(get_int(w[0], "winsize[0]", 0, 65535));
        req.cols = static_cast<std::uint16_t>(get_int(w[1], "winsize[1]", 0, 65535));
    }
    f.has_termios = j.contains("termios");
    if (f.has_termios) req.modes = parse_modes(j["termios"]);
    if (j.contains("detach")) req.detach = get_bool(j["detach"], "detach");
    if (j.contains("client")) {
        if (!j["client"].is_string()) bad("'client' must be a string");
        req.client = j["client"].get<std::string>();
    }
    f.has_program = j.contains("program");
    if (f.has_program) req.program = decode_bytes(j["program"], field_name{"program", std::nullopt});
    f.has_container = j.contains("container");
    if (f.has_container) {
        if (!j["container"].is_string()) bad("'container' must be a non-empty string");
        req.container = j["container"].get<std::string>();
    }
    if (j.contains("env_forward")) req.env_forward = decode_byte_array(j["env_forward"], "env_forward");
    if (j.contains("clear_env")) req.clear_env = get_bool(j["clear_env"], "clear_env");
    if (j.contains("unset_env")) req.unset_env = decode_byte_array(j["unset_env"], "unset_env");
    return f;
}

request parse_exec(const json& j)
{
    exec_fields f = decode_exec(j);
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

struct request_encoder {
    const request& whole;

    ordered_json operator()(const exec_request& req) const
    {
        ordered_json j = head(whole);
        if (req.login_shell)
            j["login_shell"] = true;
        else
            j["argv"] = encode_byte_array(req.argv);
        j["env"] = encode_byte_array(req.env);
        j["cwd"] = encode_bytes(req.cwd);
        if (req.cwd_fd) j["cwd_fd"] = true;
        j["umask"] = req.umask;
        j["fds"] = req.fds;
        if (req.tty) j["tty"] = true;
        if (req.ctty) j["ctty"] = true;
        if (req.rows || req.cols) j["winsize"] = {req.rows, req.cols};
        if (req.modes)
            j["termios"] = {{"iflag", req.modes->iflag},
                            {"oflag", req.modes->oflag},
                            {"cflag", req.modes->cflag},
                            {"lflag", req.modes->lflag},
                            {"cc", req.modes->cc}};
        if (req.detach) j["detach"] = true;
        if (!req.client.empty()) j["client"] = req.client;
        if (!req.program.empty()) j["program"] = encode_bytes(req.program);
        if (!req.container.empty()) j["container"] = req.container;
        if (!req.env_forward.empty()) j["env_forward"] = encode_byte_array(req.env_forward);
        if (req.clear_env) j["clear_env"] = true;
        if (!req.unset_env.empty()) j["unset_env"] = encode_byte_array(req.unset_env);
        return j;
    }
    /// Sent while a command runs, where the version was said already.
    ordered_json operator()(const signal_request& req) const
    {
        return {{"op", "signal"}, {"signal", signal_name(req.signo)}};
    }
    ordered_json operator()(const cancel_request& req) const
    {
        ordered_json j = head(whole);
        j["id"] = req.id;
        return j;
    }
    ordered_json operator()(const stop_request& req) const
    {
        ordered_json j = head(whole);
        if (req.grace) j["grace_ms"] = req.grace->count();
        return j;
    }
    template <typename Bare>
    ordered_json operator()(const Bare&) const
    {
        return head(whole);
    }
};

} // namespace

void check_exec(const exec_fields& f)
{
    const exec_request& req = f.req;
    if (req.login_shell) {
        // The daemon knows the shell; a client naming one would be ignored.
        if (f.has_argv || f.has_program) bad("'login_shell' takes no 'argv' or 'program'");
    } else {
        if (!f.has_argv) bad("missing 'argv'");
        if (req.argv.empty()) bad("'argv' must not be empty");
        if (req.argv[0].empty()) bad("'argv[0]' must not be empty");
    }
    // Names sorted in one vector rather than a set: a node allocated per
    // variable was most of this check.
    std::vector<std::string_view> names;
    names.reserve(req.env.size());
    for (auto& entry : req.env) {
        auto eq = entry.find('=');
        if (eq == std::string::npos) bad(fmt::format("env entry {} has no '='", quote(entry)));
        if (eq == 0) bad(fmt::format("env entry {} has an empty name", quote(entry)));
        names.push_back(std::string_view(entry).substr(0, eq));
    }
    std::sort(names.begin(), names.end());
    if (auto twice = std::adjacent_find(names.begin(), names.end()); twice != names.end())
        bad(fmt::format("env variable {} is given twice", quote(*twice)));
    if (!f.has_cwd) bad("missing 'cwd'");
    if (req.cwd.empty() || req.cwd[0] != '/') bad(fmt::format("'cwd' must be an absolute path, not {}", quote(req.cwd)));
    std::set<int> seen;
    for (int fd : req.fds)
        if (!seen.insert(fd).second) bad(fmt::format("descriptor {} appears twice in 'fds'", fd));
    if (req.tty && req.ctty) bad("'tty' and 'ctty' exclude each other");
    if ((f.has_winsize || f.has_termios) && !req.tty && !req.ctty) bad("'winsize' and 'termios' need 'tty' or 'ctty'");
    if (req.tty)
        for (int fd : req.fds)
            if (fd <= 2) bad(fmt::format("descriptor {} is the terminal's with 'tty'", fd));
    if (f.has_program && req.program.empty()) bad("'program' must not be empty");
    if (f.has_container && req.container.empty()) bad("'container' must be a non-empty string");
    for (auto& name : req.env_forward)
        if (name.empty() || name.find('=') != std::string::npos)
            bad(fmt::format("'env_forward' needs variable names, not {}", quote(name)));
    for (auto& name : req.unset_env)
        if (name.empty() || name.find('=') != std::string::npos)
            bad(fmt::format("'unset_env' needs variable names, not {}", quote(name)));
}

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

/// The exec request written straight into its line, fields in the order
/// request_encoder has them. Nothing when a text field is not UTF-8 (then
/// the DOM's encoder replaces the bad bytes, as for every other line).
std::optional<std::string> exec_line(const exec_request& req)
{
    if (!is_valid_utf8(req.client) || !is_valid_utf8(req.container)) return std::nullopt;
    std::string out;
    std::size_t size = 256 + req.cwd.size() + req.program.size();
    for (auto& s : req.argv) size += s.size() + 8;
    for (auto& s : req.env) size += s.size() + 8;
    out.reserve(size);
    // ,"KEY":VALUE, the value written by `append`; left out when empty
    // unless `always`.
    auto field = [&out](std::string_view key, const auto& value, auto append, bool always = false) {
        if (value.empty() && !always) return;
        out += fmt::format(R"(,"{}":)", key);
        append(out, value);
    };
    out += fmt::format(R"({{"pfd":{},"op":"exec")", protocol_version);
    if (req.login_shell)
        out += R"(,"login_shell":true)";
    else
        field("argv", req.argv, append_byte_array, true);
    field("env", req.env, append_byte_array, true);
    field("cwd", req.cwd, append_bytes, true);
    if (req.cwd_fd) out += R"(,"cwd_fd":true)";
    out += fmt::format(R"(,"umask":{},"fds":[{}])", req.umask, fmt::join(req.fds, ","));
    if (req.tty) out += R"(,"tty":true)";
    if (req.ctty) out += R"(,"ctty":true)";
    if (req.rows || req.cols) out += fmt::format(R"(,"winsize":[{},{}])", req.rows, req.cols);
    if (req.modes)
        out += fmt::format(R"(,"termios":{{"iflag":{},"oflag":{},"cflag":{},"lflag":{},"cc":[{}]}})",
                           req.modes->iflag, req.modes->oflag, req.modes->cflag, req.modes->lflag,
                           fmt::join(req.modes->cc, ","));
    if (req.detach) out += R"(,"detach":true)";
    field("client", req.client, append_string);
    field("program", req.program, append_bytes);
    field("container", req.container, append_string);
    field("env_forward", req.env_forward, append_byte_array);
    if (req.clear_env) out += R"(,"clear_env":true)";
    field("unset_env", req.unset_env, append_byte_array);
    out += "}\n";
    return out;
}

std::string encode_request(const request& req)
{
    if (auto* exec = std::get_if<exec_request>(&req))
        if (auto line = exec_line(*exec)) return std::move(*line);
    return line_of(std::visit(request_encoder{req}, req));
}

} // namespace pfd
