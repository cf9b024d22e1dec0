// The exec request's fields, one table that both of its readers and its
// writer go through (exec_wire.hpp). Every command starts with this request:
// it is read in one pass and written without a DOM for speed
// (docs/performance.md), and the table keeps the three from drifting apart.
//
// The one-pass reader reads the subset of JSON hostexec writes and refuses
// (gives nothing) at the first byte outside it, leaving the line to the DOM,
// which takes or refuses it as before: no error is worded there, so none
// can differ.

#include "exec_wire.hpp"

#include "byte_string.hpp"
#include "json_fields.hpp"
#include "json_text.hpp"
#include "quote.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <set>
#include <type_traits>

namespace pfd {

using namespace json_fields;
using json_text::scanner;

namespace {

/// When the writer writes a field: when it is set (not its default), always,
/// or unless the request asks for the login shell (argv).
enum class written { if_set, always, without_login_shell };

/// A field of the exec request: its key, and how its kind reads it in one
/// pass (false leaves the line to the DOM), decodes it from the DOM (wording
/// the errors), tells whether it is set, and writes its value.
struct field_row {
    std::string_view name;
    bool (*read)(scanner&, exec_request&);
    void (*decode)(const json&, const field_row&, exec_request&);
    bool (*is_set)(const exec_request&);
    void (*write)(std::string&, const exec_request&);
    written when = written::if_set;
    /// What a text field must be, for the DOM's error message.
    std::string_view expected = {};
};

template <typename Kind>
constexpr field_row row(std::string_view name, written when = written::if_set, std::string_view expected = {})
{
    return {name, Kind::read, Kind::decode, Kind::is_set, Kind::write, when, expected};
}

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> format, Args&&... args)
{
    fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

/// The kinds of field. Each is set when it differs from its default.
template <auto member>
struct member_kind {
    using type = std::remove_cvref_t<decltype(std::declval<exec_request&>().*member)>;
    static bool is_set(const exec_request& r) { return !(r.*member == type{}); }
};

template <auto member>
struct flag : member_kind<member> {
    static bool read(scanner& in, exec_request& r) { return in.boolean(r.*member); }
    static void decode(const json& v, const field_row& f, exec_request& r) { r.*member = get_bool(v, f.name); }
    static void write(std::string& out, const exec_request& r) { out += r.*member ? "true" : "false"; }
};

/// A byte string: a JSON string or {"b64": ...} (read in one pass: a string).
template <auto member>
struct bytes : member_kind<member> {
    static bool read(scanner& in, exec_request& r) { return in.string(r.*member); }
    static void decode(const json& v, const field_row& f, exec_request& r)
    {
        r.*member = decode_bytes(v, field_name{f.name, std::nullopt});
    }
    static void write(std::string& out, const exec_request& r) { json_text::append_bytes(out, r.*member); }
};

/// Text: a JSON string only. Bytes that are not UTF-8 are written replaced,
/// as nlohmann's dump() replaces them.
template <auto member>
struct text : bytes<member> {
    static void decode(const json& v, const field_row& f, exec_request& r)
    {
        if (!v.is_string()) bad(fmt::format("'{}' must be {}", f.name, f.expected));
        r.*member = v.get<std::string>();
    }
    static void write(std::string& out, const exec_request& r)
    {
        if (is_valid_utf8(r.*member)) return json_text::append_string(out, r.*member);
        out += json(r.*member).dump(-1, ' ', false, json::error_handler_t::replace);
    }
};

template <auto member>
struct byte_array : member_kind<member> {
    static bool read(scanner& in, exec_request& r) { return in.strings(r.*member); }
    static void decode(const json& v, const field_row& f, exec_request& r) { r.*member = decode_byte_array(v, f.name); }
    static void write(std::string& out, const exec_request& r) { json_text::append_byte_array(out, r.*member); }
};

/// An integer from 0 to `max`.
template <auto member, std::int64_t max>
struct integer : member_kind<member> {
    using type = typename member_kind<member>::type;
    static bool read(scanner& in, exec_request& r)
    {
        std::int64_t n;
        if (!in.integer(n, max)) return false;
        r.*member = static_cast<type>(n);
        return true;
    }
    static void decode(const json& v, const field_row& f, exec_request& r)
    {
        r.*member = static_cast<type>(get_int(v, f.name, 0, max));
    }
    static void write(std::string& out, const exec_request& r) { append(out, "{}", r.*member); }
};

/// An array of integers from 0 to `max`.
template <auto member, std::int64_t max>
struct integers : member_kind<member> {
    static bool read(scanner& in, exec_request& r) { return in.integers(r.*member, max); }
    static void decode(const json& v, const field_row& f, exec_request& r)
    {
        if (!v.is_array()) bad(fmt::format("'{}' must be an array", f.name));
        for (std::size_t i = 0; i < v.size(); ++i)
            (r.*member).push_back(static_cast<int>(get_int(v[i], fmt::format("{}[{}]", f.name, i), 0, max)));
    }
    static void write(std::string& out, const exec_request& r) { append(out, "[{}]", fmt::join(r.*member, ",")); }
};

/// [rows, columns].
struct terminal_size {
    static bool read(scanner& in, exec_request& r)
    {
        std::vector<int> size;
        if (!in.integers(size, 65535) || size.size() != 2) return false;
        r.rows = static_cast<std::uint16_t>(size[0]);
        r.cols = static_cast<std::uint16_t>(size[1]);
        return true;
    }
    static void decode(const json& v, const field_row& f, exec_request& r)
    {
        if (!v.is_array() || v.size() != 2) bad(fmt::format("'{}' must be [rows, columns]", f.name));
        r.rows = static_cast<std::uint16_t>(get_int(v[0], fmt::format("{}[0]", f.name), 0, 65535));
        r.cols = static_cast<std::uint16_t>(get_int(v[1], fmt::format("{}[1]", f.name), 0, 65535));
    }
    static bool is_set(const exec_request& r) { return r.rows || r.cols; }
    static void write(std::string& out, const exec_request& r) { append(out, "[{},{}]", r.rows, r.cols); }
};

/// The termios object: not in the one-pass subset, left to the DOM.
struct terminal_modes_field : member_kind<&exec_request::modes> {
    static bool read(scanner&, exec_request&) { return false; }
    static void decode(const json& t, const field_row&, exec_request& r)
    {
        if (!t.is_object()) bad("'termios' must be an object");
        check_fields(t, {"iflag", "oflag", "cflag", "lflag", "cc"});
        terminal_modes& m = r.modes.emplace();
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
    }
    static void write(std::string& out, const exec_request& r)
    {
        const terminal_modes& m = *r.modes;
        append(out, R"({{"iflag":{},"oflag":{},"cflag":{},"lflag":{},"cc":[{}]}})", m.iflag, m.oflag, m.cflag, m.lflag,
               fmt::join(m.cc, ","));
    }
};

/// "pfd" and "op", which every request has: the DOM's decoder checks them
/// before it knows the op.
struct version_field {
    static bool read(scanner& in, exec_request&)
    {
        std::int64_t v;
        return in.integer(v, protocol_version) && v == protocol_version;
    }
    static void decode(const json&, const field_row&, exec_request&) {}
    static bool is_set(const exec_request&) { return true; }
    static void write(std::string& out, const exec_request&) { append(out, "{}", protocol_version); }
};
struct op_field : version_field {
    static bool read(scanner& in, exec_request&)
    {
        std::string name;
        return in.string(name) && name == "exec";
    }
    static void write(std::string& out, const exec_request&) { out += R"("exec")"; }
};

/// Every field of the exec request, in the order the DOM's decoder takes them
/// (which of two bad fields its error names) and the writer writes them.
constexpr field_row fields[] = {
    row<version_field>("pfd", written::always),
    row<op_field>("op", written::always),
    row<flag<&exec_request::login_shell>>("login_shell"),
    row<byte_array<&exec_request::argv>>("argv", written::without_login_shell),
    row<byte_array<&exec_request::env>>("env", written::always),
    row<bytes<&exec_request::cwd>>("cwd", written::always),
    row<flag<&exec_request::cwd_fd>>("cwd_fd"),
    row<integer<&exec_request::umask, 0777>>("umask", written::always),
    row<integers<&exec_request::fds, 1 << 20>>("fds", written::always),
    row<flag<&exec_request::tty>>("tty"),
    row<flag<&exec_request::ctty>>("ctty"),
    row<terminal_size>("winsize"),
    row<terminal_modes_field>("termios"),
    row<flag<&exec_request::detach>>("detach"),
    row<text<&exec_request::client>>("client", written::if_set, "a string"),
    row<bytes<&exec_request::program>>("program"),
    row<text<&exec_request::container>>("container", written::if_set, "a non-empty string"),
    row<byte_array<&exec_request::env_forward>>("env_forward"),
    row<flag<&exec_request::clear_env>>("clear_env"),
    row<byte_array<&exec_request::unset_env>>("unset_env"),
};
static_assert(std::size(fields) <= 32, "unchecked_exec::named has a bit per field");

constexpr auto field_names = [] {
    std::array<std::string_view, std::size(fields)> names;
    std::ranges::transform(fields, names.begin(), &field_row::name);
    return names;
}();

/// The bit of `name` in unchecked_exec::named.
consteval std::uint32_t bit(std::string_view name)
{
    auto at = std::ranges::find(field_names, name);
    if (at == field_names.end()) throw "not a field of the exec request";
    return 1u << (at - field_names.begin());
}

bool written_in(const field_row& f, const exec_request& req)
{
    switch (f.when) {
    case written::always:
        return true;
    case written::without_login_shell:
        return !req.login_shell;
    case written::if_set:
        break;
    }
    return f.is_set(req);
}

} // namespace

std::optional<unchecked_exec> read_exec_line(std::string_view line)
{
    unchecked_exec f;
    scanner in(line);
    bool ok = in.whole_object([&](std::string_view name) {
        auto at = std::ranges::find(field_names, name);
        if (at == field_names.end()) return false;
        auto i = static_cast<std::size_t>(at - field_names.begin());
        // A repeated key is refused by the DOM's decoder; an unknown one too.
        if (f.named & (1u << i)) return false;
        f.named |= 1u << i;
        return fields[i].read(in, f.req);
    });
    constexpr std::uint32_t required = bit("pfd") | bit("op");
    if (!ok || (f.named & required) != required) return std::nullopt;
    return f;
}

unchecked_exec decode_exec(const json& j)
{
    check_fields(j, field_names);
    unchecked_exec f;
    for (std::size_t i = 0; i < std::size(fields); ++i) {
        auto it = j.find(fields[i].name);
        if (it == j.end()) continue;
        f.named |= 1u << i;
        fields[i].decode(*it, fields[i], f.req);
    }
    return f;
}

std::string exec_line(const exec_request& req)
{
    std::string out;
    std::size_t size = 256 + req.cwd.size() + req.program.size();
    for (auto& s : req.argv) size += s.size() + 8;
    for (auto& s : req.env) size += s.size() + 8;
    out.reserve(size);
    char separator = '{';
    for (auto& f : fields) {
        if (!written_in(f, req)) continue;
        out += separator;
        separator = ',';
        out += '"';
        out += f.name;
        out += "\":";
        f.write(out, req);
    }
    out += "}\n";
    return out;
}

void check_exec(const unchecked_exec& f)
{
    const exec_request& req = f.req;
    auto named = [&f](std::uint32_t bit) { return (f.named & bit) != 0; };
    if (req.login_shell) {
        // The daemon knows the shell; a client naming one would be ignored.
        if (named(bit("argv")) || named(bit("program"))) bad("'login_shell' takes no 'argv' or 'program'");
    } else {
        if (!named(bit("argv"))) bad("missing 'argv'");
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
    if (!named(bit("cwd"))) bad("missing 'cwd'");
    if (req.cwd.empty() || req.cwd[0] != '/')
        bad(fmt::format("'cwd' must be an absolute path, not {}", quote(req.cwd)));
    std::set<int> seen;
    for (int fd : req.fds)
        if (!seen.insert(fd).second) bad(fmt::format("descriptor {} appears twice in 'fds'", fd));
    if (req.tty && req.ctty) bad("'tty' and 'ctty' exclude each other");
    if (named(bit("winsize") | bit("termios")) && !req.tty && !req.ctty)
        bad("'winsize' and 'termios' need 'tty' or 'ctty'");
    if (req.tty)
        for (int fd : req.fds)
            if (fd <= 2) bad(fmt::format("descriptor {} is the terminal's with 'tty'", fd));
    if (named(bit("program")) && req.program.empty()) bad("'program' must not be empty");
    if (named(bit("container")) && req.container.empty()) bad("'container' must be a non-empty string");
    for (auto& name : req.env_forward)
        if (name.empty() || name.find('=') != std::string::npos)
            bad(fmt::format("'env_forward' needs variable names, not {}", quote(name)));
    for (auto& name : req.unset_env)
        if (name.empty() || name.find('=') != std::string::npos)
            bad(fmt::format("'unset_env' needs variable names, not {}", quote(name)));
}

} // namespace pfd
