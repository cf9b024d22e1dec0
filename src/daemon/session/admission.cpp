// [policy] and [limits] for a connection and an exec, before anything runs.

#include "command_policy.hpp"
#include "container_environment.hpp"
#include "environment_policy.hpp"
#include "login_shell.hpp"
#include "quote.hpp"
#include "session_ops.hpp"
#include "spawn_error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace pfd {

bool peer_allowed(const policy_section& policy, uid_t uid)
{
    auto& allowed = policy.allow_uids;
    return uid == ::getuid() || uid == 0 || std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
}

namespace {

/// What admission asks of the file systems the client chose: the
/// directory's name here, the client's PWD, the program (looked up from the
/// directory) and [policy] on the very file found. Off the I/O threads when
/// the directory may hang: it reads only `o` (the session's configuration,
/// which a reload does not replace), `client` and what it is handed.
void judge_files(const server_options& o, admission& a, exec_request& req, pid_t client)
{
    name_working_directory(a.directory, client);
    set_pwd(req.env, a.directory);
    if (a.applet_fn) return;
    unique_fd by_name;
    if (!a.directory.fd) by_name = open_path(AT_FDCWD, req.cwd, O_DIRECTORY);
    int dir = a.directory.fd ? a.directory.fd.get() : by_name.get();
    try {
        // With the PATH the command gets, from its directory: the file
        // judged is the file executed (program_launch.hpp).
        a.launch = launch_of(find_program(req.program.empty() ? req.argv[0] : req.program, req.env, dir, req.cwd), dir,
                             req.cwd, !o.policy.allow_commands.empty() || !o.policy.deny_commands.empty());
    } catch (const spawn_error& e) {
        // Reported after `accepted`, as when starting it fails.
        a.not_started = error_event{e.code(), e.what()};
    }
    if (a.launch)
        if (auto why = command_refusal(o.policy, *a.launch, req.env, req.argv[0]))
            throw protocol_error(errc::denied, *why);
}

/// The session's place in the registry ([limits] sessions).
void take_place(session& s, admission& a, const exec_request& req)
{
    const server_options& o = s.options();
    a.id = s.registry().next_id();
    auto& peer = s.peer();
    switch (s.registry().admit(
        session_info{a.id, -1, peer.uid, peer.pid, keep_argv(req.argv), session::clock::now(), a.origin, {}, {}},
        {o.limits.sessions, o.limits.sessions_per_peer, o.limits.owner_reserve}, s.peer_is_owner())) {
    case admit_result::admitted:
        return;
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
}

/// "hostexec/0.1.0 <build>": a newer client may mean a newer daemon is
/// installed. Only once the request is admitted, and only from the owner's
/// uid: its build is the client's word, and another allowed uid must not
/// make the daemon replace itself.
void note_client(session& s, const exec_request& req)
{
    if (auto space = req.client.rfind(' '); space != std::string::npos && s.peer_is_owner())
        s.daemon().client_build_seen(std::string_view(req.client).substr(space + 1));
}

} // namespace

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
    // A client's word about itself counts only from the owner's own uid:
    // another user's says nothing of what of the owner's it may have.
    bool own_uid = s.peer().uid == ::getuid();
    peer_origin origin = origin_of(s.socket().native_handle(), s.peer().pid, own_uid ? req.container : std::string());
    a.origin = origin.name();
    auto [env, first_client] = environment_for(o, origin, own_uid, req);
    req.env = command_environment(o, std::move(env), first_client, !own_uid || !o.policy.allow_commands.empty());
    if (a.directory.may_hang) {
        // Its place first, so that a request waiting on its file system
        // counts against [limits] sessions as a running command does;
        // judge_off_loop() does the rest.
        take_place(s, a, req);
        a.judged = false;
        return a;
    }
    judge_files(o, a, req, s.peer().pid);
    take_place(s, a, req);
    note_client(s, req);
    return a;
}

asio::awaitable<void> judge_off_loop(session& s, admission& a, exec_request& req)
{
    try {
        // Named: g++ 12 destroys a co_await's temporaries twice.
        std::function<void()> judge = [&] { judge_files(s.options(), a, req, s.peer().pid); };
        auto judged = s.slow_starts().run(std::move(judge));
        co_await std::move(judged);
    } catch (...) {
        s.registry().remove(a.id);
        throw;
    }
    a.judged = true;
    note_client(s, req);
}

} // namespace pfd
