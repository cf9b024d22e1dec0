// The daemon's own verbs: `pfd serve` in the foreground, `pfd start` in the
// background, both holding the socket's pidfile.

#include "container_here.hpp"
#include "daemon_unreachable.hpp"
#include "background_daemon.hpp"
#include "log.hpp"
#include "login_environment.hpp"
#include "login_shell.hpp"
#include "session_environment.hpp"
#include "socket_activation.hpp"
#include "pfd/server.hpp"
#include "verbs.hpp"
#include "shim.hpp"
#include "unix_socket.hpp"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

namespace pfd {

namespace {

/// pfd-session next to this pfd (a build tree), else in the libexec dir.
std::string find_session_helper()
{
    std::string self = self_executable();
    for (std::string candidate :
         {self.substr(0, self.rfind('/') + 1) + "pfd-session", std::string(PFD_LIBEXECDIR) + "/pfd-session"})
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    log(log_level::warn, "pfd-session not found: commands with a terminal will not stop on Ctrl-Z");
    return {};
}

/// The host session's environment, one per daemon process: nothing is read
/// before the first container client (session_environment.hpp).
session_environment& host_session()
{
    static session_environment session([] { return login_environment(system_login_sources()); });
    return session;
}

server_options server_options_for(const daemon_args& d, const context& ctx)
{
    set_log_level(ctx.cfg.daemon.log_level);
    server_options options;
    options.socket_path = ctx.where.socket;
    options.daemon = ctx.cfg.daemon;
    options.limits = ctx.cfg.limits;
    options.exec = ctx.cfg.exec;
    options.policy = ctx.cfg.policy;
    options.container = ctx.cfg.container;
    // Flags win over files.
    if (d.threads) options.daemon.threads = *d.threads;
    if (d.request_timeout) options.limits.request_timeout = *d.request_timeout;
    if (d.stop_grace) options.limits.stop_grace = *d.stop_grace;
    options.daemon.pidfile = pidfile_path(ctx);
    options.session_helper = find_session_helper();
    options.login_shell = [] { return passwd_shell(::getuid()); };
    options.host_environment = [](bool load) { return host_session().current(load); };
    options.ready_fd = d.ready_fd;
    options.executable = self_executable();
    // A reload reads the same files again, from where we were started (a
    // background daemon has moved to /).
    char buf[4096];
    std::string cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
    options.reload = [d, cwd] {
        auto ctx = resolve_context(d.socket_flag, d.project_flag, d.config_file, cwd);
        if (!ctx.ignored_project.empty()) log(log_level::warn, "{}", ctx.ignored_project);
        for (auto& socket : ctx.where.ignored) log(log_level::warn, "{}", socket);
        return server_config(server_options_for(d, ctx)); // the daemon keeps its wiring
    };
    return options;
}

/// The command line that makes a successor serve what we serve.
std::vector<std::string> successor_args(const daemon_args& d, const server_options& options)
{
    std::vector<std::string> args{options.executable, "serve", "--socket", options.socket_path, "--ready-fd", "4"};
    if (!d.project_flag.empty()) args.insert(args.end(), {"--project", d.project_flag});
    if (!d.config_file.empty()) args.insert(args.end(), {"--config", d.config_file});
    if (d.threads) args.insert(args.end(), {"--threads", std::to_string(*d.threads)});
    if (d.request_timeout)
        args.insert(args.end(), {"--request-timeout-ms", std::to_string(d.request_timeout->count())});
    if (d.stop_grace) args.insert(args.end(), {"--stop-grace-ms", std::to_string(d.stop_grace->count())});
    if (d.in_container) args.emplace_back("--in-container");
    return args;
}

/// Serves until stopped, holding the socket's pidfile meanwhile. A
/// successor (PFD_HANDOFF) takes the pidfile once ready, when its
/// predecessor lets go of it.
int run_daemon(server_options options, const daemon_args& d)
{
    // Declared before the pidfile, so destroyed after it: the server closes
    // the connections of `stop` askers, who then find the pidfile gone too.
    std::optional<server> daemon;
    std::optional<pidfile> held;
    // Before the pidfile is made beside it (a socket passed by systemd or a
    // predecessor is past that question once checked: the LISTEN_*
    // variables are gone unless they are ours and right).
    check_activation(options.socket_path);
    if (!std::getenv("LISTEN_FDS")) check_socket_directory(options.socket_path);
    std::string path = options.daemon.pidfile;
    if (std::getenv("PFD_HANDOFF"))
        options.on_ready = [&] { held.emplace(path, std::chrono::seconds(5)); };
    else
        held.emplace(path);
    char buf[4096];
    std::string cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
    auto args = successor_args(d, options);
    options.hand_over = [&held, args, cwd](int listen_fd) {
        pid_t successor = start_successor(args, cwd, listen_fd);
        if (held) held->release();
        return successor;
    };
    daemon.emplace(std::move(options));
    daemon->run();
    return 0;
}

/// Whether a daemon answers on `socket` now.
bool answers(const std::string& socket)
{
    return try_connect_unix(socket).second == 0;
}

/// Inside a container a daemon started here would serve that container, not
/// the host, which is seldom what was meant (a hostexec there reaches no
/// host): refused, in hostexec -C's words, unless asked for.
void refuse_in_container(const daemon_args& d, const context& ctx)
{
    if (d.in_container) return;
    std::string kind = container_kind_here();
    if (kind.empty()) return;
    throw std::runtime_error(fmt::format("{}\npfd: 'pfd {} --in-container' starts one in this container all the same",
                                         not_started_in_container(ctx.where, kind), d.verb));
}

int already_running(const context& ctx)
{
    auto pid = running_pid(pidfile_path(ctx));
    fmt::print("pfd: a daemon already runs on '{}'{}; nothing to start\n", ctx.where.socket,
               pid ? fmt::format(" (pid {})", *pid) : "");
    return 0;
}

} // namespace

std::string pidfile_path(const context& ctx)
{
    return ctx.cfg.daemon.pidfile.empty() ? pidfile_for(ctx.where.socket) : ctx.cfg.daemon.pidfile;
}

int serve(const daemon_args& d, const context& ctx)
{
    if (d.check_only) {
        fmt::print("pfd: configuration is valid\n");
        return 0;
    }
    // A socket handed over (systemd, a predecessor; checked first) is not
    // probed: our connection would wait in its backlog. One that answers is
    // refused when we listen, as anywhere.
    check_activation(ctx.where.socket);
    if (std::getenv("LISTEN_FDS") || !answers(ctx.where.socket)) refuse_in_container(d, ctx);
    return run_daemon(server_options_for(d, ctx), d);
}

int start(const daemon_args& d, const context& ctx)
{
    // Asked first, so that a daemon shared into a container is found
    // running rather than refused; start_in_background asks again under
    // its lock, for starts that race.
    if (answers(ctx.where.socket)) return already_running(ctx);
    refuse_in_container(d, ctx);
    auto options = server_options_for(d, ctx);
    const std::string& socket = options.socket_path;
    std::string log = log_file_for(socket);
    auto outcome = start_in_background(socket, lock_file_for(socket), log, std::chrono::seconds(30), [&](int ready_fd) {
        options.ready_fd = ready_fd;
        try {
            return run_daemon(options, d);
        } catch (const std::exception& e) {
            pfd::log(log_level::error, "{}", e.what()); // stderr is the log file here
            return 1;
        }
    });
    if (outcome == start_outcome::started) return 0;
    if (outcome == start_outcome::already_running) return already_running(ctx);
    fmt::print(stderr, "pfd: the daemon did not start; see {}\n", log);
    return 1;
}

} // namespace pfd
