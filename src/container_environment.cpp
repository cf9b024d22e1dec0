#include "container_environment.hpp"

#include "env_entry.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>

namespace pfd {

namespace {

/// The daemon's environment as it started: the host session's (systemd's
/// user manager, or the shell that ran `pfd start`). Read once, before any
/// thread could change it; the daemon's own hand-over variables left out.
const std::vector<std::string>& daemon_environment()
{
    static const std::vector<std::string> env = [] {
        std::vector<std::string> out;
        for (char** e = environ; e && *e; ++e) {
            std::string_view name = env_name(*e);
            if (!name.starts_with("PFD_READY") && name != "PFD_PREDECESSOR") out.emplace_back(*e);
        }
        return out;
    }();
    return env;
}

} // namespace

std::vector<std::string> environment_for(const container_section& rules, const peer_origin& origin,
                                         std::vector<std::string> client_env, const std::vector<std::string>& asked)
{
    if (!origin.container || !rules.host_environment) return client_env;
    auto forwarded = [&](std::string_view name) {
        if (name == "PWD" || std::find(asked.begin(), asked.end(), name) != asked.end()) return true;
        std::string n(name);
        return std::any_of(rules.env_forward.begin(), rules.env_forward.end(),
                           [&](const std::string& p) { return ::fnmatch(p.c_str(), n.c_str(), 0) == 0; });
    };
    std::vector<std::string> env = daemon_environment();
    for (auto& entry : client_env) {
        std::string_view name = env_name(entry);
        if (!forwarded(name)) continue;
        std::erase_if(env, [&](const std::string& e) { return env_name(e) == name; });
        env.push_back(std::move(entry));
    }
    return env;
}

} // namespace pfd
