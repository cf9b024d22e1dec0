// [policy] and [limits] for an exec, before anything runs.

#include "session_ops.hpp"

#include <fnmatch.h>

#include <fmt/format.h>

namespace pfd {

namespace {

bool any_match(const std::vector<std::string>& patterns, const std::string& text)
{
    for (auto& p : patterns)
        if (::fnmatch(p.c_str(), text.c_str(), 0) == 0) return true;
    return false;
}

bool command_allowed(const server_options& o, const std::string& argv0)
{
    std::string base = argv0.substr(argv0.rfind('/') + 1);
    auto matches = [&](const std::vector<std::string>& patterns) {
        return any_match(patterns, argv0) || any_match(patterns, base);
    };
    if (matches(o.policy.deny_commands)) return false;
    return o.policy.allow_commands.empty() || matches(o.policy.allow_commands);
}

/// [policy] env_*: the environment the command gets from the one the client
/// sent. Throws protocol_error(denied) for a variable the policy refuses.
std::vector<std::string> command_environment(const server_options& o, std::vector<std::string> env)
{
    std::vector<std::string> out;
    for (auto& e : env) {
        std::string name = e.substr(0, e.find('='));
        if (any_match(o.policy.env_deny, name))
            throw protocol_error(errc::denied,
                                 fmt::format("environment variable '{}' is refused here ([policy])", name));
        // The daemon's own activation protocol never reaches commands.
        if (name == "LISTEN_PID" || name == "LISTEN_FDS" || name == "LISTEN_FDNAMES" || name == "NOTIFY_SOCKET")
            continue;
        if (!o.policy.env_forward.empty() && !any_match(o.policy.env_forward, name)) continue;
        if (any_match(o.policy.env_clean, name)) continue;
        out.push_back(std::move(e));
    }
    for (auto& set : o.policy.env_set) {
        std::string name = set.substr(0, set.find('='));
        std::erase_if(out, [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; });
        out.push_back(set);
    }
    return out;
}

} // namespace

admission admit(session& s, exec_request& req, std::size_t attached)
{
    const server_options& o = s.options();
    if (req.fds.size() != attached)
        throw protocol_error(errc::fd_mismatch,
                             fmt::format("'fds' lists {} descriptors but {} were attached", req.fds.size(), attached));
    if (!command_allowed(o, req.argv[0]))
        throw protocol_error(errc::denied, fmt::format("'{}' is not allowed here ([policy])", req.argv[0]));
    admission a;
    if (auto it = o.applets.find(req.argv[0]); it != o.applets.end()) a.applet_fn = &it->second;
    if (!a.applet_fn && !o.run_commands)
        throw protocol_error(errc::not_found, fmt::format("no applet '{}' here", req.argv[0]));
    req.env = command_environment(o, std::move(req.env));
    a.id = s.registry().next_id();
    auto& peer = s.peer();
    if (auto full =
            s.registry().admit(session_info{a.id, -1, peer.uid, peer.pid, req.argv, session::clock::now(), {}, {}},
                               o.limits.sessions, o.limits.sessions_per_peer)) {
        if (*full == "busy")
            throw protocol_error(errc::busy,
                                 fmt::format("{} command(s) already running ([limits] sessions)", o.limits.sessions));
        throw protocol_error(errc::limit, fmt::format("uid {} already runs {} command(s) ([limits] sessions_per_peer)",
                                                      peer.uid, o.limits.sessions_per_peer));
    }
    // "hostexec/0.1.0 <build>": a newer client may mean a newer daemon is installed.
    if (auto space = req.client.rfind(' '); space != std::string::npos && s.hooks().client_build)
        s.hooks().client_build(std::string_view(req.client).substr(space + 1));
    return a;
}

} // namespace pfd
