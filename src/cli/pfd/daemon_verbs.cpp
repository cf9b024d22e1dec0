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

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>

#include <fmt/format.h>

namespace pfd {

namespace {

/// Where a predecessor hands its configuration's sources to its successor.
constexpr const char* sources_variable = "PFD_CONFIG_SOURCES";

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

/// The configuration half, all a reload replaces: from the files, then the
/// flags.
server_config config_for(const daemon_args& d, const context& ctx)
{
    set_log_level(ctx.cfg.daemon.log_level);
    server_config options;
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
    return options;
}

server_options server_options_for(const daemon_args& d, const context& ctx)
{
    server_options options;
    static_cast<server_config&>(options) = config_for(d, ctx);
    options.socket_path = ctx.where.socket;
    options.session_helper = find_session_helper();
    options.login_shell = [] { return passwd_shell(::getuid()); };
    options.host_environment = [](bool load) { return host_session().current(load); };
    options.ready_fd = d.ready_fd;
    options.executable = self_executable();
    return options;
}

/// What the daemon was started from (config_sources.hpp): a reload that
/// worked may record a project file trusted again, a hand-over passes it
/// on. Both run on the daemon's control strand, one at a time.
using shared_sources = std::shared_ptr<config_sources>;

/// A reload reads exactly the files the daemon was started with, from
/// wherever it runs now (a background daemon has moved to /): the whole
/// configuration, or an error and the running one stays.
std::function<server_config()> reloader(const daemon_args& d, const context& ctx, shared_sources sources)
{
    return [d, where = ctx.where, sources] {
        config_sources next = *sources;
        context fresh;
        fresh.cfg = load_config(next, project_check::trusted);
        fresh.where = where;
        // Nothing of the wiring, which the daemon keeps: the binary it runs
        // may be gone from disk by now (an upgrade).
        server_config cfg = config_for(d, fresh);
        *sources = std::move(next);
        return cfg;
    };
}

/// The command line that makes a successor serve what we serve. Its
/// configuration comes by reference, in $PFD_CONFIG_SOURCES (serve_context).
std::vector<std::string> successor_args(const daemon_args& d, const server_options& options,
                                        const config_sources& sources)
{
    std::vector<std::string> args{options.executable, "serve", "--socket", options.socket_path, "--ready-fd", "4"};
    if (!d.project_flag.empty()) args.insert(args.end(), {"--project", d.project_flag});
    if (!sources.required.empty()) args.insert(args.end(), {"--config", sources.required});
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
int run_daemon(server_options options, const daemon_args& d, const context& ctx)
{
    auto sources = std::make_shared<config_sources>(ctx.sources);
    options.reload = reloader(d, ctx, sources);
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
    auto args = successor_args(d, options, *sources);
    options.hand_over = [&held, args, cwd, sources](int listen_fd) {
        pid_t successor =
            start_successor(args, cwd, listen_fd, {std::string(sources_variable) + "=" + encode_sources(*sources)});
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

context serve_context(const daemon_args& d)
{
    std::optional<std::string> handed;
    if (const char* text = std::getenv(sources_variable)) handed = text;
    ::unsetenv(sources_variable); // no command inherits it
    try {
        // Only a successor (PFD_HANDOFF, its predecessor's) is handed the
        // sources: it runs exactly what its predecessor ran, or refuses.
        if (handed && std::getenv("PFD_HANDOFF"))
            return context_from_sources(decode_sources(*handed), project_check::unchanged, d.socket_flag);
        return resolve_context(d.socket_flag, d.project_flag, d.config_file, {}, config_errors::fail);
    } catch (const std::exception& e) {
        // Whoever waits for our readiness learns why not: a predecessor
        // tells its `pfd restart` (start_successor).
        if (d.ready_fd) {
            std::string line = e.what();
            std::replace(line.begin(), line.end(), '\n', ' ');
            line = (line.empty() ? "refused" : line) + "\n";
            [[maybe_unused]] auto n = ::write(*d.ready_fd, line.data(), line.size());
        }
        throw;
    }
}

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
    return run_daemon(server_options_for(d, ctx), d, ctx);
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
            return run_daemon(options, d, ctx);
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
