#include "config.hpp"

#include "pfd/discovery.hpp"
#include "signals.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>

#include <fmt/format.h>
// Header-only, so the static hostexec needs no libtomlplusplus.a.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace pfd {

namespace {

/// One file being applied: knows its name for messages.
struct applier {
    const std::string& file;
    config& cfg;

    [[noreturn]] void fail(const toml::source_region& where, const std::string& what) const
    {
        throw config_error(fmt::format("{}:{}: {}", file, where.begin.line, what));
    }

    template <typename T>
    T integer(const toml::node& n, const std::string& key, T lo, T hi) const
    {
        auto v = n.value<std::int64_t>();
        if (!n.is_integer() || !v) fail(n.source(), fmt::format("'{}' must be an integer", key));
        if (*v < static_cast<std::int64_t>(lo) || *v > static_cast<std::int64_t>(hi))
            fail(n.source(), fmt::format("'{}' must be between {} and {}", key, lo, hi));
        return static_cast<T>(*v);
    }

    std::vector<std::string> strings(const toml::node& n, const std::string& key) const
    {
        const auto* arr = n.as_array();
        if (!arr) fail(n.source(), fmt::format("'{}' must be an array of strings", key));
        std::vector<std::string> out;
        for (auto& e : *arr) {
            if (!e.is_string()) fail(e.source(), fmt::format("'{}' must be an array of strings", key));
            out.push_back(*e.value<std::string>());
        }
        return out;
    }

    using setter = std::function<void(const toml::node&, const std::string&)>;

    std::map<std::string, std::map<std::string, setter>> schema()
    {
        using ms = std::chrono::milliseconds;
        return {
            {"daemon",
             {{"threads", [this](auto& n, auto& k) { cfg.threads = integer<unsigned>(n, k, 0, 1024); }},
              {"log_level",
               [this](auto& n, auto& k) {
                   auto v = n.template value<std::string>();
                   auto level = v ? log_level_from_name(*v) : std::nullopt;
                   if (!n.is_string() || !level)
                       fail(n.source(), fmt::format("'{}' must be \"error\", \"warn\", \"info\" or \"debug\"", k));
                   cfg.log_level = *level;
               }},
              {"pidfile",
               [this](auto& n, auto& k) {
                   auto v = n.template value<std::string>();
                   if (!n.is_string() || !v || (!v->empty() && (*v)[0] != '/'))
                       fail(n.source(), fmt::format("'{}' must be an absolute path or \"\"", k));
                   cfg.pidfile = *v;
               }}}},
            {"discovery",
             {{"order",
               [this](auto& n, auto& k) {
                   auto modes = strings(n, k);
                   for (auto& m : modes)
                       if (m != "local" && m != "project" && m != "runtime")
                           fail(n.source(), fmt::format("'{}': unknown mode '{}' (local, project, runtime)", k, m));
                   cfg.discovery_order = modes;
               }},
              {"project",
               [this](auto& n, auto& k) {
                   auto v = n.template value<std::string>();
                   if (!n.is_string() || !v || (!v->empty() && !is_valid_project_name(*v)))
                       fail(n.source(), fmt::format("'{}' must be a project name ([A-Za-z0-9._-], 1-64) or \"\"", k));
                   cfg.discovery_project = *v;
               }},
              {"trust_daemon_uids",
               [this](auto& n, auto& k) {
                   const auto* arr = n.as_array();
                   if (!arr) fail(n.source(), fmt::format("'{}' must be an array of uids", k));
                   cfg.trust_daemon_uids.clear();
                   for (auto& e : *arr) cfg.trust_daemon_uids.push_back(integer<uid_t>(e, k, 0, 4294967294u));
               }},
              {"autostart_command", [this](auto& n, auto& k) { cfg.autostart_command = strings(n, k); }},
              {"fallback",
               [this](auto& n, auto& k) {
                   auto v = n.template value<std::string>();
                   if (!n.is_string() || !v || (*v != "error" && *v != "local"))
                       fail(n.source(), fmt::format("'{}' must be \"error\" or \"local\"", k));
                   cfg.fallback_local = *v == "local";
               }},
              {"autostart",
               [this](auto& n, auto& k) {
                   if (!n.is_boolean()) fail(n.source(), fmt::format("'{}' must be true or false", k));
                   cfg.autostart = *n.template value<bool>();
               }}}},
            {"limits",
             {{"sessions", [this](auto& n, auto& k) { cfg.sessions = integer<std::size_t>(n, k, 0, 1 << 20); }},
              {"sessions_per_peer",
               [this](auto& n, auto& k) { cfg.sessions_per_peer = integer<std::size_t>(n, k, 0, 1 << 20); }},
              {"watchers", [this](auto& n, auto& k) { cfg.watchers = integer<std::size_t>(n, k, 0, 1 << 16); }},
              {"request_bytes",
               [this](auto& n, auto& k) { cfg.request_bytes = integer<std::size_t>(n, k, 256, 64 << 20); }},
              {"fds", [this](auto& n, auto& k) { cfg.fds = integer<std::size_t>(n, k, 0, 253); }},
              {"request_timeout_ms",
               [this](auto& n, auto& k) { cfg.request_timeout = ms(integer<long>(n, k, 1, 3600000)); }},
              {"cancel_grace_ms", [this](auto& n, auto& k) { cfg.cancel_grace = ms(integer<long>(n, k, 0, 3600000)); }},
              {"stop_grace_ms", [this](auto& n, auto& k) { cfg.stop_grace = ms(integer<long>(n, k, 0, 3600000)); }}}},
            {"exec",
             {{"no_tty", [this](auto& n, auto& k) { cfg.no_tty = strings(n, k); }},
              {"hangup_signal",
               [this](auto& n, auto& k) {
                   auto s = n.template value<std::string>();
                   if (!n.is_string() || !s) fail(n.source(), fmt::format("'{}' must be a signal name or \"none\"", k));
                   if (*s == "none") {
                       cfg.hangup_signal = 0;
                       return;
                   }
                   auto signo = signal_from_name(*s);
                   if (!signo) fail(n.source(), fmt::format("'{}': '{}' is not a signal", k, *s));
                   cfg.hangup_signal = *signo;
               }}}},
            {"policy",
             {{"allow_commands", [this](auto& n, auto& k) { cfg.allow_commands = strings(n, k); }},
              {"deny_commands", [this](auto& n, auto& k) { cfg.deny_commands = strings(n, k); }},
              {"env_forward", [this](auto& n, auto& k) { cfg.env_forward = strings(n, k); }},
              {"env_clean", [this](auto& n, auto& k) { cfg.env_clean = strings(n, k); }},
              {"env_deny", [this](auto& n, auto& k) { cfg.env_deny = strings(n, k); }},
              {"env_set",
               [this](auto& n, auto& k) {
                   cfg.env_set = strings(n, k);
                   for (auto& e : cfg.env_set)
                       if (e.find('=') == std::string::npos || e[0] == '=')
                           fail(n.source(), fmt::format("'{}': '{}' is not NAME=VALUE", k, e));
               }},
              {"allow_uids",
               [this](auto& n, auto& k) {
                   const auto* arr = n.as_array();
                   if (!arr) fail(n.source(), fmt::format("'{}' must be an array of uids", k));
                   cfg.allow_uids.clear();
                   for (auto& e : *arr) cfg.allow_uids.push_back(integer<uid_t>(e, k, 0, 4294967294u));
               }}}},
        };
    }

    void apply(const toml::table& root)
    {
        auto known = schema();
        for (auto&& [section, value] : root) {
            std::string name(section.str());
            // A project's .pfd.toml names its project at the top.
            if (name == "project" && file.ends_with("/.pfd.toml")) {
                auto v = value.value<std::string>();
                if (!value.is_string() || !v || !is_valid_project_name(*v))
                    fail(section.source(),
                         "'project' must be a project name ([A-Za-z0-9._-], 1-64, not starting with '.')");
                continue;
            }
            auto it = known.find(name);
            if (it == known.end() && !value.is_table())
                fail(section.source(), fmt::format("unknown key '{}' outside any [section]", name));
            if (it == known.end()) fail(section.source(), fmt::format("unknown section '{}'", name));
            const auto* table = value.as_table();
            if (!table) fail(value.source(), fmt::format("'{}' must be a table ([{}])", name, name));
            for (auto&& [key, node] : *table) {
                std::string full = name + "." + std::string(key.str());
                auto k = it->second.find(std::string(key.str()));
                if (k == it->second.end()) fail(key.source(), fmt::format("unknown key '{}'", full));
                k->second(node, full);
            }
        }
    }
};

void apply_file(config& cfg, const std::string& file)
{
    toml::table root;
    try {
        root = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
        throw config_error(fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
    }
    applier{file, cfg}.apply(root);
}

bool exists(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

} // namespace

std::string project_of(const std::string& project_file)
{
    toml::table root;
    try {
        root = toml::parse_file(project_file);
    } catch (const toml::parse_error& e) {
        throw config_error(fmt::format("{}:{}: {}", project_file, e.source().begin.line, e.description()));
    }
    if (auto name = root["project"].value<std::string>()) return *name;
    auto dir = project_file.substr(0, project_file.rfind('/'));
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

config load_config(const std::vector<std::string>& files, const std::string& required)
{
    config cfg;
    for (auto& f : files)
        if (exists(f)) apply_file(cfg, f);
    if (!required.empty()) {
        if (!exists(required)) throw config_error(fmt::format("{}: no such file", required));
        apply_file(cfg, required);
    }
    return cfg;
}

} // namespace pfd
