#include "environment_policy.hpp"
#include "env_entry.hpp"
#include "pfd/error.hpp"
#include "quote.hpp"

#include <fnmatch.h>

#include <algorithm>

#include <fmt/format.h>

namespace pfd {

namespace {

/// fnmatch patterns. Left out on purpose: TMPDIR (in glibc's secure-mode
/// list for setuid programs' temporary files; it loads nothing, and every
/// flatpak sets it), and EDITOR, VISUAL, PAGER, BROWSER, SSH_ASKPASS (they
/// name programs that an allowed program may run, but they are in nearly
/// every user's environment: refusing them would refuse every command).
constexpr const char* code_loading[] = {
    // ld.so(8) and glibc's unsecvars.h
    "LD_*", "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE",
    "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR",
    // shells
    "BASH_ENV", "ENV", "BASH_FUNC_*", "SHELLOPTS", "BASHOPTS", "PS4",
    // interpreters
    "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB",
    "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    "LUA_INIT*", "LUA_PATH*", "LUA_CPATH*",
    // git: configuration (hooks, core.fsmonitor, aliases), the programs it runs
    "GIT_CONFIG*", "GIT_DIR", "GIT_COMMON_DIR", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_SSH", "GIT_SSH_COMMAND",
    "GIT_PROXY_COMMAND", "GIT_ASKPASS", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_PAGER", "GIT_EXTERNAL_DIFF"};

bool any_match(const std::vector<std::string>& patterns, const std::string& name)
{
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return ::fnmatch(p.c_str(), name.c_str(), 0) == 0; });
}

} // namespace

bool loads_code(std::string_view name)
{
    std::string n(name);
    return std::any_of(std::begin(code_loading), std::end(code_loading),
                       [&](const char* p) { return ::fnmatch(p, n.c_str(), 0) == 0; });
}

std::vector<std::string> command_environment(const server_options& o, std::vector<std::string> env,
                                             std::size_t first_client, bool guard_code)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < env.size(); ++i) {
        std::string name(env_name(env[i]));
        bool from_client = i >= first_client;
        if (any_match(o.policy.env_deny, name))
            throw protocol_error(errc::denied,
                                 fmt::format("environment variable {} is refused here ([policy])", quote(name)));
        // The daemon's own activation protocol never reaches commands.
        if (name == "LISTEN_PID" || name == "LISTEN_FDS" || name == "LISTEN_FDNAMES" || name == "NOTIFY_SOCKET")
            continue;
        if (!o.policy.env_forward.empty() && !any_match(o.policy.env_forward, name)) continue;
        if (any_match(o.policy.env_clean, name)) continue;
        if (guard_code && from_client && loads_code(name) && !any_match(o.policy.env_allow, name))
            throw protocol_error(errc::denied,
                                 fmt::format("environment variable {} would make the command load code of the "
                                             "client's; refused here ([policy] env_allow)",
                                             quote(name)));
        out.push_back(std::move(env[i]));
    }
    for (auto& set : o.policy.env_set) {
        std::string name = set.substr(0, set.find('='));
        std::erase_if(out, [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; });
        out.push_back(set);
    }
    return out;
}

} // namespace pfd
