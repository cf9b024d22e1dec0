#include "config.hpp"

#include "did_you_mean.hpp"
#include "log.hpp"
#include "project_trust.hpp"
#include "pfd/discovery.hpp"
#include "signals.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
// Header-only, so the static hostexec needs no libtomlplusplus.a.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
// toml++ 3.3.0 (Debian 12) asserts a precondition of parse_key() that its
// callers do not check: a table header such as "[\n", "[=" or "[[[1]]]"
// aborted pfd (SIGABRT) wherever assertions are on, our default build
// included (fuzz/regressions/config/). The code after the assertion reports
// that very case as a parse error ("expected bare key starting character"),
// which is what we want, so its assertions are off here, as with NDEBUG.
// Fixed upstream: marzer/tomlplusplus#301.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace pfd {

/// One value of one file: typed reads that fail with "<file>:<line>: '<key>' ...".
class value_reader {
public:
    value_reader(const std::string& file, const toml::node& node, std::string key)
        : file_(file), node_(node), key_(std::move(key))
    {
    }

    /// `what` follows the quoted key: " must be ..." or ": ...".
    [[noreturn]] void fail(const std::string& what, const toml::node* at = nullptr) const
    {
        throw config_error(fmt::format("{}:{}: '{}'{}", file_, (at ? at : &node_)->source().begin.line, key_, what));
    }

    template <typename T>
    T integer(std::int64_t lo, std::int64_t hi, const toml::node* n = nullptr) const
    {
        const toml::node& node = n ? *n : node_;
        // Only an integer node is read: toml++'s value<int64_t>() of a float
        // casts it, undefined beyond the range (found by fuzz/config).
        if (!node.is_integer()) fail(" must be an integer", &node);
        auto v = node.value<std::int64_t>();
        if (!v) fail(" must be an integer", &node);
        if (*v < lo || *v > hi) fail(fmt::format(" must be between {} and {}", lo, hi), &node);
        return static_cast<T>(*v);
    }

    std::chrono::milliseconds milliseconds(std::int64_t lo) const
    {
        return std::chrono::milliseconds(integer<long>(lo, 3600000));
    }

    bool boolean() const
    {
        if (!node_.is_boolean()) fail(" must be true or false");
        return *node_.value<bool>();
    }

    /// A string that `valid` accepts, else fails with `expected`.
    template <typename Valid>
    std::string string(std::string_view expected, Valid valid) const
    {
        auto v = node_.value<std::string>();
        if (!node_.is_string() || !v || !valid(*v)) fail(std::string(expected));
        return *v;
    }

    std::vector<std::string> strings() const
    {
        const auto* arr = node_.as_array();
        if (!arr) fail(" must be an array of strings");
        std::vector<std::string> out;
        for (auto& e : *arr) {
            if (!e.is_string()) fail(" must be an array of strings", &e);
            out.push_back(*e.value<std::string>());
        }
        return out;
    }

    std::vector<uid_t> uids() const
    {
        const auto* arr = node_.as_array();
        if (!arr) fail(" must be an array of uids");
        std::vector<uid_t> out;
        for (auto& e : *arr) out.push_back(integer<uid_t>(0, 4294967294u, &e));
        return out;
    }

private:
    const std::string& file_;
    const toml::node& node_;
    std::string key_;
};

namespace {

bool any(const std::string&)
{
    return true;
}

int hangup_signal(const value_reader& v)
{
    auto name = v.string(" must be a signal name or \"none\"", any);
    if (name == "none") return 0;
    auto signo = signal_from_name(name);
    if (!signo) v.fail(fmt::format(": '{}' is not a signal", name));
    return *signo;
}

std::vector<std::string> discovery_modes(const value_reader& v)
{
    auto modes = v.strings();
    for (auto& m : modes)
        if (m != "local" && m != "project" && m != "runtime")
            v.fail(fmt::format(": unknown mode '{}' (local, project, runtime)", m));
    return modes;
}

std::vector<std::string> assignments(const value_reader& v)
{
    auto entries = v.strings();
    for (auto& e : entries)
        if (e.find('=') == std::string::npos || e[0] == '=') v.fail(fmt::format(": '{}' is not NAME=VALUE", e));
    return entries;
}

using cfg = config;
using vr = value_reader;

/// Every key: its section, its name, and how its value is read (the default
/// is the member's own, in settings.hpp).
constexpr config_key keys[] = {
    {"daemon", "threads", [](const vr& v, cfg& c) { c.daemon.threads = v.integer<unsigned>(0, 1024); }},
    {"daemon", "log_level",
     [](const vr& v, cfg& c) {
         auto name = v.string(" must be \"error\", \"warn\", \"info\" or \"debug\"",
                              [](auto& s) { return log_level_from_name(s).has_value(); });
         c.daemon.log_level = *log_level_from_name(name);
     }},
    {"daemon", "pidfile",
     [](const vr& v, cfg& c) {
         c.daemon.pidfile =
             v.string(" must be an absolute path or \"\"", [](auto& s) { return s.empty() || s[0] == '/'; });
     },
     false},
    {"discovery", "order", [](const vr& v, cfg& c) { c.discovery.order = discovery_modes(v); }, false},
    {"discovery", "project",
     [](const vr& v, cfg& c) {
         c.discovery.project = v.string(" must be a project name ([A-Za-z0-9._-], 1-64) or \"\"",
                                        [](auto& s) { return s.empty() || is_valid_project_name(s); });
     }},
    {"discovery", "autostart", [](const vr& v, cfg& c) { c.discovery.autostart = v.boolean(); }},
    {"discovery", "trust_daemon_uids", [](const vr& v, cfg& c) { c.discovery.trust_daemon_uids = v.uids(); }, false},
    {"discovery", "autostart_command", [](const vr& v, cfg& c) { c.discovery.autostart_command = v.strings(); }, false},
    {"discovery", "fallback",
     [](const vr& v, cfg& c) {
         c.discovery.fallback_local = v.string(" must be \"error\" or \"local\"",
                                               [](auto& s) { return s == "error" || s == "local"; }) == "local";
     },
     false},
    {"limits", "sessions", [](const vr& v, cfg& c) { c.limits.sessions = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "sessions_per_peer",
     [](const vr& v, cfg& c) { c.limits.sessions_per_peer = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "watchers", [](const vr& v, cfg& c) { c.limits.watchers = v.integer<std::size_t>(0, 1 << 16); }},
    {"limits", "watch_backlog",
     [](const vr& v, cfg& c) { c.limits.watch_backlog = v.integer<std::size_t>(4096, 1 << 30); }},
    {"limits", "connections", [](const vr& v, cfg& c) { c.limits.connections = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "connections_per_uid",
     [](const vr& v, cfg& c) { c.limits.connections_per_uid = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "owner_reserve",
     [](const vr& v, cfg& c) { c.limits.owner_reserve = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "buffered_bytes",
     [](const vr& v, cfg& c) { c.limits.buffered_bytes = v.integer<std::size_t>(0, std::size_t(1) << 34); }},
    {"limits", "buffered_fds", [](const vr& v, cfg& c) { c.limits.buffered_fds = v.integer<std::size_t>(0, 1 << 20); }},
    {"limits", "request_bytes",
     [](const vr& v, cfg& c) { c.limits.request_bytes = v.integer<std::size_t>(256, 64 << 20); }},
    {"limits", "fds", [](const vr& v, cfg& c) { c.limits.fds = v.integer<std::size_t>(0, 253); }},
    {"limits", "request_timeout_ms", [](const vr& v, cfg& c) { c.limits.request_timeout = v.milliseconds(1); }},
    {"limits", "cancel_grace_ms", [](const vr& v, cfg& c) { c.limits.cancel_grace = v.milliseconds(0); }},
    {"limits", "stop_grace_ms", [](const vr& v, cfg& c) { c.limits.stop_grace = v.milliseconds(0); }},
    {"exec", "no_tty", [](const vr& v, cfg& c) { c.exec.no_tty = v.strings(); }},
    {"exec", "hangup_signal", [](const vr& v, cfg& c) { c.exec.hangup_signal = hangup_signal(v); }},
    {"policy", "allow_uids", [](const vr& v, cfg& c) { c.policy.allow_uids = v.uids(); }, false},
    {"policy", "allow_commands", [](const vr& v, cfg& c) { c.policy.allow_commands = v.strings(); }},
    {"policy", "deny_commands", [](const vr& v, cfg& c) { c.policy.deny_commands = v.strings(); }},
    {"policy", "env_forward", [](const vr& v, cfg& c) { c.policy.env_forward = v.strings(); }},
    {"policy", "env_clean", [](const vr& v, cfg& c) { c.policy.env_clean = v.strings(); }},
    {"policy", "env_deny", [](const vr& v, cfg& c) { c.policy.env_deny = v.strings(); }},
    {"policy", "env_allow", [](const vr& v, cfg& c) { c.policy.env_allow = v.strings(); }},
    {"policy", "env_set", [](const vr& v, cfg& c) { c.policy.env_set = assignments(v); }},
    {"container", "environment",
     [](const vr& v, cfg& c) {
         c.container.host_environment = v.string(" must be \"host\" or \"client\"",
                                                 [](auto& s) { return s == "host" || s == "client"; }) == "host";
     }},
    {"container", "env_forward", [](const vr& v, cfg& c) { c.container.env_forward = v.strings(); }},
};

const config_key* find_key(std::string_view section, std::string_view name)
{
    for (auto& k : keys)
        if (k.section == section && k.name == name) return &k;
    return nullptr;
}

bool known_section(std::string_view section)
{
    for (auto& k : keys)
        if (k.section == section) return true;
    return false;
}

[[noreturn]] void fail_at(const std::string& file, const toml::source_region& where, const std::string& what)
{
    throw config_error(fmt::format("{}:{}: {}", file, where.begin.line, what));
}

/// What to say about `name` in [section], which has no such key: the
/// section it belongs in, or the nearest key of this one.
std::string unknown_key(std::string_view section, std::string_view name)
{
    std::string what = fmt::format("unknown key '{}' in [{}]", name, section);
    closest_word close(name);
    for (auto& k : keys)
        if (k.section == section) close.consider(k.name);
    if (!close.best().empty()) return what + fmt::format("; did you mean '{}'?", close.best());
    for (auto& k : keys)
        if (k.name == name) return what + fmt::format("; it belongs in [{}]", k.section);
    return what;
}

std::string unknown_section(std::string_view section)
{
    std::string what = fmt::format("unknown section '{}'", section);
    closest_word close(section);
    for (auto& k : keys) close.consider(k.section);
    if (!close.best().empty()) return what + fmt::format("; did you mean '{}'?", close.best());
    return what;
}

std::string key_outside_sections(std::string_view name)
{
    std::string what = fmt::format("unknown key '{}' outside any [section]", name);
    for (auto& k : keys)
        if (k.name == name) return what + fmt::format("; it belongs in [{}]", k.section);
    return what;
}

void apply(const std::string& file, const toml::table& root, config& cfg, bool project = false)
{
    for (auto&& [section_key, value] : root) {
        std::string section(section_key.str());
        // A project's .pfd.toml names its project at the top.
        if (section == "project" && project) {
            auto v = value.value<std::string>();
            if (!value.is_string() || !v || !is_valid_project_name(*v))
                fail_at(file, section_key.source(),
                        "'project' must be a project name ([A-Za-z0-9._-], 1-64, not starting with '.')");
            continue;
        }
        if (!known_section(section) && !value.is_table())
            fail_at(file, section_key.source(), key_outside_sections(section));
        if (!known_section(section)) fail_at(file, section_key.source(), unknown_section(section));
        const auto* table = value.as_table();
        if (!table) fail_at(file, value.source(), fmt::format("'{}' must be a table ([{}])", section, section));
        for (auto&& [name, node] : *table) {
            std::string full = section + "." + std::string(name.str());
            const config_key* key = find_key(section, name.str());
            if (!key) fail_at(file, name.source(), unknown_key(section, name.str()));
            if (project && !key->in_project)
                fail_at(file, name.source(),
                        fmt::format("'{}' may be set only in /etc/pfd/config.toml or your own config file, not in a "
                                    "project's",
                                    full));
            key->read(value_reader(file, node, full), cfg);
        }
    }
}

toml::table parse(const std::string& file, const std::string* content = nullptr)
{
    try {
        return content ? toml::parse(*content, file) : toml::parse_file(file);
    } catch (const toml::parse_error& e) {
        throw config_error(fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
    }
}

bool exists(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

} // namespace

std::span<const config_key> config_keys() noexcept
{
    return keys;
}

config load_config_text(std::string_view text, const std::string& name)
{
    config cfg;
    std::string content(text);
    apply(name, parse(name, &content), cfg);
    return cfg;
}

std::string project_name(const project_file& file)
{
    toml::table root = parse(file.path, &file.content);
    if (auto name = root["project"].value<std::string>()) return *name;
    auto dir = file.path.substr(0, file.path.rfind('/'));
    return dir.substr(dir.rfind('/') + 1);
}

std::vector<std::string> default_config_files(const std::string& etc)
{
    std::vector<std::string> files{etc + "/config.toml"};
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
        files.push_back(std::string(xdg) + "/pfd/config.toml");
    else if (const char* home = std::getenv("HOME"); home && *home)
        files.push_back(std::string(home) + "/.config/pfd/config.toml");
    return files;
}

config load_config(const std::vector<std::string>& files, const std::string& required, const project_file* project,
                   std::vector<std::string>* left_out)
{
    config cfg;
    // A file is applied whole or not at all: to a copy, kept if it worked.
    auto layer = [&](auto&& apply_file) {
        if (!left_out) return apply_file(cfg);
        config next = cfg;
        try {
            apply_file(next);
            cfg = std::move(next);
        } catch (const config_error& e) {
            left_out->emplace_back(e.what());
        }
    };
    for (auto& f : files)
        if (exists(f)) layer([&](config& c) { apply(f, parse(f), c); });
    if (project) layer([&](config& c) { apply(project->path, parse(project->path, &project->content), c, true); });
    if (!required.empty()) {
        layer([&](config& c) {
            if (!exists(required)) throw config_error(fmt::format("{}: no such file", required));
            apply(required, parse(required), c);
        });
    }
    return cfg;
}

} // namespace pfd
