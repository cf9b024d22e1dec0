// hostexec's main path: the request for this process, a trusted daemon
// (started when asked to), then the command's events until it ends.

#include "hostexec.hpp"

#include "client_engine.hpp"
#include "container_here.hpp"
#include "daemon_unreachable.hpp"
#include "env_entry.hpp"
#include "context.hpp"
#include "direct_exec.hpp"
#include "hostexec_failure.hpp"
#include "mirror_signal.hpp"
#include "terminal_session.hpp"
#include "shim.hpp"
#include "unique_fd.hpp"
#include "unix_socket.hpp"
#include "wire.hpp"
#include "pfd/version.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace pfd {

namespace {

/// The command's environment: ours (one entry per name, the first, as getenv
/// sees it) or none with --clear-env, then --unset-env, then --env.
std::vector<std::string> command_environment(const hostexec_options& o)
{
    std::vector<std::string> env;
    if (!o.clear_env) env = current_environment();
    auto remove = [&](std::string_view name) {
        std::erase_if(env, [&](const std::string& e) { return env_name(e) == name; });
    };
    for (auto& name : o.unset_env) remove(name);
    for (auto& entry : o.set_env) {
        remove(env_name(entry));
        env.push_back(entry);
    }
    if (!o.shim.empty()) {
        remove(shim_guard_variable);
        env.push_back(fmt::format("{}={}", shim_guard_variable, o.shim));
        // The program must not find this shim when it looks itself up.
        for (auto& e : env)
            if (env_name(e) == "PATH") e = "PATH=" + path_without_shims(e.substr(5), o.shim, self_executable());
    }
    return env;
}

/// The names a command from a container keeps over the host's environment
/// ([container]): what --env set and --env-forward names, and a shim's guard.
std::vector<std::string> forwarded_names(const hostexec_options& o)
{
    std::vector<std::string> names = o.env_forward;
    for (auto& entry : o.set_env) names.emplace_back(env_name(entry));
    if (!o.shim.empty()) names.emplace_back(shim_guard_variable);
    return names;
}

/// The request for this process: argv, environment, directory, umask; the
/// descriptors are attached by the caller.
exec_request request_for(const hostexec_options& o)
{
    exec_request req;
    req.argv = o.command;
    req.login_shell = o.login_shell; // which shell is the host's business
    req.env = command_environment(o);
    if (o.directory.empty() || o.directory[0] != '/') {
        try {
            req.cwd = current_directory();
        } catch (const std::system_error& e) {
            throw failure{125, e.what()};
        }
        if (!o.directory.empty()) req.cwd += "/" + o.directory;
    } else {
        req.cwd = o.directory;
    }
    req.umask = current_umask();
    req.detach = o.detach;
    req.program = o.shim;
    req.container = container_kind_here();
    req.env_forward = forwarded_names(o);
    // For a container client, whose command starts from the host's
    // environment: --clear-env and --unset-env mean the same there.
    req.clear_env = o.clear_env;
    req.unset_env = o.unset_env;
    req.client = fmt::format("hostexec/{} {}", version(), build_id());
    return req;
}

/// Every descriptor a local exec would hand on, at the same number (with
/// --no-inherit-fds only 0-2 of them; with a terminal, 0-2 are the daemon's
/// pty), then --forward-fd. Descriptors of hostexec's own are
/// close-on-exec: never passed, even when a number names one.
std::map<int, int> descriptor_plan(const hostexec_options& o, const terminal_session* terminal)
{
    std::map<int, int> fds;
    std::vector<int> inherited = inheritable_descriptors();
    for (int fd : inherited)
        if (!o.no_inherit_fds || fd <= 2) fds[fd] = fd;
    bool standard_replaced = terminal && terminal->replaces_standard_descriptors();
    if (standard_replaced) // the daemon's terminal is 0, 1 and 2
        for (int fd = 0; fd <= 2; ++fd) fds.erase(fd);
    for (int fd : o.forward_fds) {
        if (standard_replaced && fd <= 2) continue;
        if (std::find(inherited.begin(), inherited.end(), fd) == inherited.end())
            throw failure{125, fmt::format("--forward-fd={}: {}", fd, std::strerror(EBADF))};
        fds[fd] = fd;
    }
    // One message carries them all, with the working directory's.
    if (fds.size() + 1 > max_fds_per_message)
        throw failure{125, fmt::format("{} open descriptors would go to the command, more than the {} one message "
                                       "can carry; close some, or run with --no-inherit-fds",
                                       fds.size(), max_fds_per_message - 1)};
    return fds;
}

/// The directory the command starts in, itself: its path may name another
/// directory where the daemon runs (a container's /srv, /tmp, /work).
unique_fd open_directory(const hostexec_options& o)
{
    const std::string& dir = o.directory.empty() ? std::string(".") : o.directory;
    unique_fd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw failure{125, fmt::format("cannot change directory to '{}': {}", dir, std::strerror(errno))};
    return fd;
}

/// What to do when no daemon listens where we looked.
std::string no_daemon_advice(const exec_request& req, const discovery_result& where)
{
    if (where.how == "flag" || where.how == "env")
        return "check the path: 'pfd status' on the host shows the daemon's socket";
    std::string advice = "start one on the host with " + how_to_start(where);
    if (req.container.empty()) return advice + "; or let hostexec start one: hostexec -C ...";
    return advice + ", and share its socket's directory with this container (docs/containers.md)";
}

/// A connection to the daemon of `ctx`; with -C or [discovery] autostart
/// one is started when none answers, with fallback = "local" the command
/// runs here instead.
daemon_connection reach_daemon(const hostexec_options& o, const context& ctx, const exec_request& req)
{
    bool may_start = o.create || ctx.cfg.discovery.autostart;
    try {
        // Not thrown: the usual reason to be here is a cold start (-C), and a
        // throw would cost it ~1 ms (unix_socket.hpp).
        auto [sock, error] = try_connect_unix(ctx.where.socket);
        if (!error) return daemon_connection(ctx.where.socket, std::move(sock), ctx.cfg.discovery.trust_daemon_uids);
        std::system_error e(error, std::generic_category(), connect_failure(ctx.where.socket));
        bool nobody = nobody_listens(ctx.where.socket, e);
        if (nobody && !may_start && ctx.cfg.discovery.fallback_local) run_here(req);
        if (!nobody || !may_start) {
            std::string why = unreachable_reason(ctx.where, e);
            if (!nobody) throw failure{125, why};
            throw failure{125, fmt::format("{}\nhostexec: {}", why, no_daemon_advice(req, ctx.where))};
        }
        if (!req.container.empty() && ctx.cfg.discovery.autostart_command.empty())
            throw failure{125, not_started_in_container(ctx.where, req.container)};
        start_daemon(ctx.where, ctx.cfg);
        return daemon_connection(ctx.where.socket, ctx.cfg.discovery.trust_daemon_uids);
    } catch (const failure&) {
        throw;
    } catch (const std::exception& e) {
        throw failure{125, e.what()};
    }
}

int run(const hostexec_options& o)
{
    context ctx;
    try {
        ctx = resolve_context(o.socket, o.project, {}, {}, config_errors::leave_out);
        report_left_out(ctx, "hostexec");
    } catch (const std::exception& e) {
        throw failure{125, e.what()};
    }
    exec_plan plan{request_for(o), {}};
    unique_fd directory = open_directory(o);
    std::optional<terminal_session> terminal = terminal_for(o, ctx.cfg);
    if (terminal) terminal->describe(plan.request);
    plan.attach(descriptor_plan(o, terminal ? &*terminal : nullptr), directory.get());

    daemon_connection conn = reach_daemon(o, ctx, plan.request);
    // Job control's signals go to the command too: it stops, and we stop
    // when the daemon says it did.
    std::optional<exec_run> session;
    try {
        std::vector<int> forwarded(std::begin(terminating_signals), std::end(terminating_signals));
        forwarded.insert(forwarded.end(), {SIGTSTP, SIGTTIN, SIGTTOU});
        session.emplace(conn, plan, std::move(forwarded), std::vector<int>{SIGCONT, SIGWINCH});
    } catch (const std::system_error& e) {
        throw failure{125, fmt::format("cannot send the request to '{}': {}", conn.path(), e.what())};
    }
    if (o.json) session->echo = stderr;

    auto resumed = [&] {
        if (terminal) {
            terminal->resume();
            terminal->resize();
        }
        conn.send_signal(SIGCONT);
    };
    for (;;) {
        std::span<pollfd> relay;
        if (terminal) relay = terminal->poll_set();
        auto next = session->next(relay);
        if (std::holds_alternative<exec_run::fds_ready>(next)) {
            terminal->handle_ready();
        } else if (auto* caught = std::get_if<exec_run::signal_caught>(&next)) {
            if (caught->signo == SIGWINCH && terminal) terminal->resize();
            if (caught->signo == SIGCONT) resumed();
        } else if (std::holds_alternative<exec_run::connection_lost>(next)) {
            if (terminal) terminal->drain();
            throw failure{125, "lost the connection to the daemon before the command ended"};
        } else {
            event& ev = std::get<event>(next);
            if (std::holds_alternative<terminal_event>(ev) && terminal) {
                unique_fd master = conn.take_descriptor();
                if (!master) throw failure{125, "the daemon sent a terminal event without the terminal"};
                terminal->attach(std::move(master));
            }
            if (std::holds_alternative<started_event>(ev) && o.detach) {
                fmt::print("{}\n", std::get<started_event>(ev).id);
                return 0;
            }
            if (auto* stopped = std::get_if<stopped_event>(&ev)) {
                // Stop with the command, as a local job would, and resume it
                // when we are resumed. With a terminal the session leader
                // (pfd-session) reports the command's stop as SIGSTOP;
                // Ctrl-Z is what stopped it.
                int signo = terminal && stopped->signo == SIGSTOP ? SIGTSTP : stopped->signo;
                if (terminal) terminal->suspend();
                stop_self(signo);
                resumed();
            }
            if (auto* exited = std::get_if<exited_event>(&ev)) {
                if (terminal) {
                    terminal->drain();
                    terminal.reset(); // local modes restored before we go
                }
                if (exited->code) return *exited->code;
                die_of(exited->signo);
            }
        }
    }
}

} // namespace

int hostexec_main(int argc, char** argv)
{
    try {
        auto action = parse_hostexec_args(argc, argv);
        if (std::holds_alternative<print_help>(action)) {
            fmt::print("{}", hostexec_usage());
            return 0;
        }
        if (std::holds_alternative<print_version>(action)) {
            fmt::print("hostexec {} ({})\n", version(), build_id());
            return 0;
        }
        if (auto* shims = std::get_if<install_shims_request>(&action)) {
            try {
                install_shims(shims->dir, shims->names, self_executable());
            } catch (const std::exception& e) {
                throw failure{125, e.what()};
            }
            return 0;
        }
        auto& o = std::get<hostexec_options>(action);
        if (!o.shim.empty()) {
            const char* guard = std::getenv(shim_guard_variable);
            if (guard && o.shim == guard) run_real_program(o);
        }
        return run(o);
    } catch (const usage_error& e) {
        fmt::print(stderr, "hostexec: {}\nTry 'hostexec --help' for more information.\n", e.message);
        return 125;
    } catch (const failure& f) {
        fmt::print(stderr, "hostexec: {}\n", f.message);
        return f.status;
    } catch (const protocol_error& e) {
        // The daemon refused or could not start the command. Where it
        // looked for it is the host, which a user in a container may not
        // think of: a command that is here may be missing there.
        bool host_side = e.code() == errc::not_found || e.code() == errc::not_executable || e.code() == errc::bad_cwd;
        fmt::print(stderr, "hostexec: {}{}\n", e.what(), host_side ? " on the host" : "");
        return exit_status_for(e.code());
    } catch (const std::exception& e) {
        fmt::print(stderr, "hostexec: {}\n", e.what());
        return 125;
    }
}

} // namespace pfd
