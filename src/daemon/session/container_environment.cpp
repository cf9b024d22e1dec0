#include "container_environment.hpp"

#include "env_entry.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>

namespace pfd {

const std::vector<std::string>& daemon_environment()
{
    // Read once, before any thread could change it.
    static const std::vector<std::string> env = [] {
        std::vector<std::string> out;
        for (char** e = environ; e && *e; ++e) {
            std::string_view name = env_name(*e);
            if (!name.starts_with("PFD_READY") && name != "PFD_PREDECESSOR" && !shell_bookkeeping(name))
                out.emplace_back(*e);
        }
        return out;
    }();
    return env;
}

command_env environment_for(const server_options& o, const peer_origin& origin, bool own_uid, exec_request& req)
{
    const container_section& rules = o.container;
    if (!origin.container || !rules.host_environment || req.clear_env || !own_uid) return {std::move(req.env), 0};
    auto forwarded = [&](std::string_view name) {
        if (name == "PWD" || std::find(req.env_forward.begin(), req.env_forward.end(), name) != req.env_forward.end())
            return true;
        std::string n(name);
        return std::any_of(rules.env_forward.begin(), rules.env_forward.end(),
                           [&](const std::string& p) { return ::fnmatch(p.c_str(), n.c_str(), 0) == 0; });
    };
    // The snapshot is shared with the session-environment follower: copied here.
    host_environment_snapshot host;
    if (o.host_environment) host = o.host_environment(true);
    std::vector<std::string> env = host.env ? *host.env : daemon_environment();
    for (auto& name : req.unset_env) std::erase_if(env, [&](const std::string& e) { return env_name(e) == name; });
    for (auto& entry : req.env)
        if (forwarded(env_name(entry)))
            std::erase_if(env, [&](const std::string& e) { return env_name(e) == env_name(entry); });
    std::size_t first_client = env.size();
    for (auto& entry : req.env)
        if (forwarded(env_name(entry))) env.push_back(std::move(entry));
    return {std::move(env), first_client};
}

} // namespace pfd
