// Only `pfd` links this (through server_options::host_environment): getpwuid_r
// in a static binary needs glibc's NSS modules at run time.

#include "login_environment.hpp"

#include "env_entry.hpp"
#include "login_shell.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>

namespace pfd {

namespace {

/// " \t" off both ends.
std::string_view trimmed(std::string_view s)
{
    auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool valid_name(std::string_view name)
{
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
}

/// login.defs' value of KEY ("KEY value" lines), or "".
std::string login_defs_value(const std::string& path, std::string_view key)
{
    std::ifstream in(path);
    std::string line, value;
    while (std::getline(in, line)) {
        std::string_view l = trimmed(line);
        if (l.empty() || l[0] == '#' || !l.starts_with(key)) continue;
        l.remove_prefix(key.size());
        if (l.empty() || (l[0] != ' ' && l[0] != '\t')) continue;
        value = std::string(trimmed(l)); // the last one wins, as login.defs readers do
    }
    return value;
}

/// `entry` set in `env`, replacing an earlier value of its name.
void set(std::vector<std::string>& env, std::string entry)
{
    std::string_view name = env_name(entry);
    std::erase_if(env, [&](const std::string& e) { return env_name(e) == name; });
    env.push_back(std::move(entry));
}

bool is_directory(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

bool session_variable(std::string_view name)
{
    static constexpr std::array<std::string_view, 8> names = {"DISPLAY",       "WAYLAND_DISPLAY",          "XAUTHORITY",
                                                              "SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "XDG_SEAT",
                                                              "XDG_VTNR",      "DESKTOP_SESSION"};
    return name.starts_with("XDG_SESSION_") || name == "XDG_CURRENT_DESKTOP" ||
           std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> read_env_file(const std::string& path)
{
    std::vector<std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::string_view l = trimmed(line);
        if (l.empty() || l[0] == '#') continue;
        if (l.starts_with("export ") || l.starts_with("export\t")) l = trimmed(l.substr(7));
        auto eq = l.find('=');
        if (eq == std::string_view::npos || !valid_name(l.substr(0, eq))) continue;
        std::string_view value = trimmed(l.substr(eq + 1));
        if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'') && value.back() == value[0])
            value = value.substr(1, value.size() - 2);
        set(out, std::string(l.substr(0, eq)) + "=" + std::string(value));
    }
    return out;
}

login_sources system_login_sources()
{
    login_sources from;
    from.uid = ::getuid();
    for (char** e = environ; e && *e; ++e) from.daemon_env.emplace_back(*e);
    return from;
}

std::vector<std::string> login_environment(const login_sources& from)
{
    std::vector<std::string> env;
    passwd_entry pw = passwd_of(from.uid);
    if (!pw.home.empty()) env.push_back("HOME=" + pw.home);
    env.push_back("SHELL=" + (pw.shell.empty() ? std::string("/bin/sh") : pw.shell));
    if (!pw.name.empty()) {
        env.push_back("USER=" + pw.name);
        env.push_back("LOGNAME=" + pw.name);
        std::string mail_dir = login_defs_value(from.login_defs, "MAIL_DIR");
        env.push_back("MAIL=" + (mail_dir.empty() ? std::string("/var/mail") : mail_dir) + "/" + pw.name);
    }
    // su -l and login: root's PATH is ENV_SUPATH, everyone else's ENV_PATH,
    // each written "PATH=..." or bare; Debian's values when absent.
    bool root = from.uid == 0;
    std::string path = login_defs_value(from.login_defs, root ? "ENV_SUPATH" : "ENV_PATH");
    if (path.starts_with("PATH=")) path.erase(0, 5);
    if (path.empty())
        path = root ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                    : "/usr/local/bin:/usr/bin:/bin:/usr/games";
    env.push_back("PATH=" + path);
    // pam_env's order on Debian: /etc/environment, then the locale.
    for (auto& entry : read_env_file(from.environment)) set(env, entry);
    auto locale = read_env_file(from.default_locale);
    if (locale.empty()) locale = read_env_file(from.locale_conf);
    for (auto& entry : locale) set(env, entry);
    // pam_systemd's, which the daemon inherited when a session started it.
    std::string runtime = from.run_user + "/" + std::to_string(from.uid);
    for (auto& entry : from.daemon_env)
        if (env_name(entry) == "XDG_RUNTIME_DIR") runtime = entry.substr(entry.find('=') + 1);
    if (is_directory(runtime)) set(env, "XDG_RUNTIME_DIR=" + runtime);
    // The session the user is in (its display, its agent), not the shell's.
    for (auto& entry : from.daemon_env)
        if (entry.find('=') != std::string::npos && session_variable(env_name(entry))) set(env, entry);
    std::erase_if(env, [](const std::string& e) { return shell_bookkeeping(env_name(e)); });
    return env;
}

} // namespace pfd
