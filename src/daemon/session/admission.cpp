// [policy] and [limits] for a connection and an exec, before anything runs.

#include "container_environment.hpp"
#include "login_shell.hpp"
#include "quote.hpp"
#include "program_lookup.hpp"
#include "session_ops.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace pfd {

namespace {

bool any_match(const std::vector<std::string>& patterns, const std::string& text)
{
    for (auto& p : patterns)
        if (::fnmatch(p.c_str(), text.c_str(), FNM_PATHNAME) == 0) return true;
    return false;
}

/// A path [policy] may know a program by, and whether only root could have
/// put that name there.
struct program_name {
    std::string path;
    bool root_controlled = false;

    std::string base() const { return path.substr(path.rfind('/') + 1); }
    /// A pattern with a '/' matches the whole path ('*' never crosses a
    /// '/'), one without the file name.
    bool matches(const std::string& pattern) const
    {
        bool whole = pattern.find('/') != std::string::npos;
        return ::fnmatch(pattern.c_str(), (whole ? path : base()).c_str(), FNM_PATHNAME) == 0;
    }
};

/// The program's resolved file, and the name the lookup found it under (the
/// symlink /usr/bin/vi of /usr/bin/vim.basic) with its directory resolved.
struct program_names {
    program_name resolved, found;
};

std::optional<program_names> names_of(const found_program& program)
{
    std::string real = resolved_path(program.absolute);
    auto slash = program.absolute.rfind('/');
    std::string dir = resolved_path(program.absolute.substr(0, slash + 1));
    if (real.empty() || dir.empty()) return std::nullopt;
    return program_names{{real, root_controlled_directory(real.substr(0, real.rfind('/') + 1))},
                         {(dir == "/" ? "" : dir) + program.absolute.substr(slash), root_controlled_directory(dir)}};
}

/// What an allow-list accepts is the resolved file itself, or a name in a
/// directory only root controls: a `git` in the current directory or in a
/// PATH entry the client chose is not the `git` the list means.
bool allowed_by(const std::vector<std::string>& patterns, const program_names& names)
{
    for (auto& p : patterns) {
        bool whole = p.find('/') != std::string::npos;
        if (((whole || names.resolved.root_controlled) && names.resolved.matches(p)) ||
            (names.found.root_controlled && names.found.matches(p)))
            return true;
    }
    return false;
}

/// A deny-list matches every name.
bool denied_by(const std::vector<std::string>& patterns, const program_names& names)
{
    for (auto& p : patterns)
        if (names.resolved.matches(p) || names.found.matches(p)) return true;
    return false;
}

bool command_allowed(const policy_section& policy, const found_program& program)
{
    if (policy.allow_commands.empty() && policy.deny_commands.empty()) return true;
    auto names = names_of(program);
    if (!names) return false; // it vanished while we looked: refuse rather than guess
    if (denied_by(policy.deny_commands, *names)) return false;
    return policy.allow_commands.empty() || allowed_by(policy.allow_commands, *names);
}

bool applet_allowed(const policy_section& policy, const std::string& name)
{
    if (any_match(policy.deny_commands, name)) return false;
    return policy.allow_commands.empty() || any_match(policy.allow_commands, name);
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
                                 fmt::format("environment variable {} is refused here ([policy])", quote(name)));
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

bool peer_allowed(const policy_section& policy, uid_t uid)
{
    auto& allowed = policy.allow_uids;
    return uid == ::getuid() || uid == 0 || std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
}

admission admit(session& s, exec_request& req, std::vector<unique_fd>& attached)
{
    const server_options& o = s.options();
    if (req.fds.size() + (req.cwd_fd ? 1 : 0) != attached.size())
        throw protocol_error(errc::fd_mismatch,
                             fmt::format("'fds' lists {} descriptors{} but {} were attached", req.fds.size(),
                                         req.cwd_fd ? " after the directory" : "", attached.size()));
    admission a;
    a.directory = take_working_directory(req.cwd, req.cwd_fd, attached, s.peer().pid);
    if (req.login_shell) {
        // Ours, as for an ssh login: the shell runs as the daemon's user.
        req.program = o.login_shell ? o.login_shell() : std::string();
        if (req.program.empty()) req.program = "/bin/sh";
        req.argv = {login_argv0(req.program)};
    }
    if (auto it = o.applets.find(req.argv[0]); it != o.applets.end()) {
        a.applet_fn = &it->second;
        a.applet_quick = o.quick_applets.contains(req.argv[0]);
    }
    if (!a.applet_fn && !o.run_commands)
        throw protocol_error(errc::not_found, fmt::format("no applet {} here", quote(req.argv[0])));
    if (a.applet_fn && !applet_allowed(o.policy, req.argv[0]))
        throw protocol_error(errc::denied, fmt::format("{} is not allowed here ([policy])", quote(req.argv[0])));
    peer_origin origin = origin_of(s.socket().native_handle(), s.peer().pid, req.container);
    a.origin = origin.name();
    req.env = command_environment(o, environment_for(o, origin, req));
    set_pwd(req.env, a.directory);
    if (!a.applet_fn) {
        try {
            // With the PATH the command gets, from its directory: the file
            // matched is the file executed.
            a.program = find_program(req.program.empty() ? req.argv[0] : req.program, req.env, a.directory.here());
        } catch (const spawn_error& e) {
            // Reported after `accepted`, as when starting it fails.
            a.not_started = error_event{e.code(), e.what()};
        }
        if (!a.not_started && !command_allowed(o.policy, a.program))
            throw protocol_error(errc::denied, fmt::format("{} is not allowed here ([policy])", quote(req.argv[0])));
    }
    a.id = s.registry().next_id();
    auto& peer = s.peer();
    switch (s.registry().admit(
        session_info{a.id, -1, peer.uid, peer.pid, keep_argv(req.argv), session::clock::now(), origin.name(), {}, {}},
        {o.limits.sessions, o.limits.sessions_per_peer, o.limits.owner_reserve}, s.peer_is_owner())) {
    case admit_result::admitted:
        break;
    case admit_result::busy:
        throw protocol_error(errc::busy,
                             fmt::format("{} command(s) already running ([limits] sessions)", o.limits.sessions));
    case admit_result::peer_limit:
        throw protocol_error(errc::limit, fmt::format("uid {} already runs {} command(s) ([limits] sessions_per_peer)",
                                                      peer.uid, o.limits.sessions_per_peer));
    case admit_result::owner_reserve:
        throw protocol_error(errc::busy, fmt::format("other uids run all the commands not kept for uid {} and root "
                                                     "([limits] sessions, owner_reserve)",
                                                     ::getuid()));
    }
    // "hostexec/0.1.0 <build>": a newer client may mean a newer daemon is installed.
    if (auto space = req.client.rfind(' '); space != std::string::npos)
        s.daemon().client_build_seen(std::string_view(req.client).substr(space + 1));
    return a;
}

} // namespace pfd
