#include "pfd/pfd_cli.hpp"

#include "pfd/client_connection.hpp"
#include "pfd/config.hpp"
#include "pfd/context.hpp"
#include "pfd/discovery.hpp"
#include "pfd/lifecycle.hpp"
#include "pfd/log.hpp"
#include "pfd/protocol.hpp"
#include "pfd/server.hpp"
#include "pfd/shim.hpp"
#include "pfd/systemd.hpp"
#include "pfd/unix_socket.hpp"
#include "pfd/version.hpp"
#include "pfd/wire.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pfd {

namespace {

struct usage_error {
    std::string message;
};

void print_usage(std::FILE* to)
{
    fmt::print(to,
               "Usage: pfd serve [OPTIONS]     run the daemon in the foreground until SIGINT/SIGTERM\n"
               "       pfd start [OPTIONS]     start it in the background; returns once it is ready\n"
               "       pfd stop [OPTIONS]      stop the background daemon (drains running commands)\n"
               "       pfd status [--json] [OPTIONS]  pid, socket, uptime, version, sessions, latency, RSS\n"
               "       pfd ps [--json] [OPTIONS]      running commands: id, pid, peer uid/pid, age, argv\n"
               "       pfd watch [OPTIONS]            every event of every session, as NDJSON, as it happens\n"
               "       pfd cancel ID [OPTIONS]        SIGTERM to its group, SIGKILL after [limits] cancel_grace_ms\n"
               "       pfd restart [OPTIONS]   hand the socket to a new daemon; running commands go on\n"
               "       pfd reload [OPTIONS]    make the daemon read its configuration again (or SIGHUP)\n"
               "       pfd install-units [DIR]  write systemd user units (pfd.socket, pfd.service)\n"
               "       pfd --version | --help\n\n"
               "  --socket PATH   where to listen (default: $PFD_SOCKET, then discovery)\n"
               "  --project NAME  the project's daemon ($XDG_RUNTIME_DIR/pfd.NAME.sock)\n"
               "  --config FILE   read FILE after /etc/pfd/config.toml and ~/.config/pfd/config.toml\n"
               "  --check-config  only validate the configuration\n"
               "  --threads N     worker threads (default: one per core but one)\n"
               "  --ready-fd N    write a newline to descriptor N once serving, then close it\n"
               "  --request-timeout-ms N   time a client has to send its request line (5000)\n"
               "  --stop-grace-ms N        on SIGTERM, time running commands get before SIGTERM,\n"
               "                           and again before SIGKILL (10000)\n");
}

int parse_number(std::string_view option, std::string_view text)
{
    int v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v < 0)
        throw usage_error{fmt::format("option '{}' needs a non-negative number, not '{}'", option, text)};
    return v;
}

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

/// The command line of serve, start and stop.
struct daemon_args {
    std::string verb;
    std::string socket_flag, project_flag, config_file;
    bool check_only = false;
    bool json = false;
    std::optional<std::uint64_t> cancel_id;
    std::optional<unsigned> threads;
    std::optional<std::chrono::milliseconds> request_timeout, stop_grace;
    std::optional<int> ready_fd;
};

daemon_args parse_daemon_args(int argc, char** argv)
{
    daemon_args d;
    d.verb = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        auto is = [&](std::string_view name) { return a == name || (a.starts_with(name) && a[name.size()] == '='); };
        auto value = [&](std::string_view name) -> std::string_view {
            if (a.size() > name.size()) return a.substr(name.size() + 1);
            if (i + 1 >= argc) throw usage_error{fmt::format("option '{}' needs a value", name)};
            return argv[++i];
        };
        auto ms = [&](std::string_view name) { return std::chrono::milliseconds(parse_number(name, value(name))); };
        if (is("--socket"))
            d.socket_flag = value("--socket");
        else if (is("--project"))
            d.project_flag = value("--project");
        else if (is("--config"))
            d.config_file = value("--config");
        else if (d.verb == "cancel" && !a.empty() && a[0] != '-' && !d.cancel_id)
            d.cancel_id = static_cast<std::uint64_t>(parse_number("ID", a));
        else if (a == "--json" && (d.verb == "status" || d.verb == "ps"))
            d.json = true;
        else if (a == "--check-config" && d.verb == "serve")
            d.check_only = true;
        else if (is("--threads") && d.verb != "stop")
            d.threads = static_cast<unsigned>(parse_number("--threads", value("--threads")));
        else if (is("--request-timeout-ms") && d.verb != "stop")
            d.request_timeout = ms("--request-timeout-ms");
        else if (is("--stop-grace-ms"))
            d.stop_grace = ms("--stop-grace-ms");
        else if (is("--ready-fd") && d.verb == "serve")
            d.ready_fd = parse_number("--ready-fd", value("--ready-fd"));
        else
            throw usage_error{fmt::format("unknown option '{}' for '{}'", a, d.verb)};
    }
    return d;
}

/// The pidfile: [daemon] pidfile, else beside the socket.
std::string pidfile_path(const context& ctx)
{
    return ctx.cfg.pidfile.empty() ? pidfile_for(ctx.where.socket) : ctx.cfg.pidfile;
}

server_options server_options_for(const daemon_args& d, const context& ctx)
{
    set_log_level(ctx.cfg.log_level);
    server_options options;
    options.threads = d.threads.value_or(ctx.cfg.threads);
    options.max_request_bytes = ctx.cfg.request_bytes;
    options.max_fds = ctx.cfg.fds;
    options.request_timeout = d.request_timeout.value_or(ctx.cfg.request_timeout);
    options.stop_grace = d.stop_grace.value_or(ctx.cfg.stop_grace);
    options.cancel_grace = ctx.cfg.cancel_grace;
    options.max_watchers = ctx.cfg.watchers;
    options.hangup_signal = ctx.cfg.hangup_signal;
    options.allow_uids = ctx.cfg.allow_uids;
    options.max_sessions = ctx.cfg.sessions;
    options.max_sessions_per_peer = ctx.cfg.sessions_per_peer;
    options.allow_commands = ctx.cfg.allow_commands;
    options.deny_commands = ctx.cfg.deny_commands;
    options.env_forward = ctx.cfg.env_forward;
    options.env_clean = ctx.cfg.env_clean;
    options.env_deny = ctx.cfg.env_deny;
    options.env_set = ctx.cfg.env_set;
    options.socket_path = ctx.where.socket;
    options.pidfile = pidfile_path(ctx);
    options.session_helper = find_session_helper();
    options.ready_fd = d.ready_fd;
    options.executable = self_executable();
    // A reload reads the same files again, from where we were started (a
    // background daemon has moved to /).
    char buf[4096];
    std::string cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
    options.reload = [d, cwd] {
        auto fresh = server_options_for(d, resolve_context(d.socket_flag, d.project_flag, d.config_file, cwd));
        fresh.reload = nullptr; // the daemon keeps the original closure
        return fresh;
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
    return args;
}

/// Serves until stopped, holding the socket's pidfile meanwhile. A
/// successor (PFD_HANDOFF) takes the pidfile once ready, when its
/// predecessor lets go of it.
int run_daemon(server_options options, const daemon_args& d)
{
    std::optional<pidfile> held;
    std::string path = options.pidfile;
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
    server daemon(std::move(options));
    daemon.run();
    return 0;
}

int serve(const daemon_args& d, const context& ctx)
{
    if (d.check_only) {
        fmt::print("pfd: configuration is valid\n");
        return 0;
    }
    return run_daemon(server_options_for(d, ctx), d);
}

int start(const daemon_args& d, const context& ctx)
{
    auto options = server_options_for(d, ctx);
    const std::string& socket = options.socket_path;
    std::string log = log_file_for(socket);
    bool ready = start_in_background(socket, lock_file_for(socket), log, std::chrono::seconds(30), [&](int ready_fd) {
        options.ready_fd = ready_fd;
        try {
            return run_daemon(options, d);
        } catch (const std::exception& e) {
            fmt::print(stderr, "pfd: {}\n", e.what());
            return 1;
        }
    });
    if (ready) return 0;
    fmt::print(stderr, "pfd: the daemon did not start; see {}\n", log);
    return 1;
}

/// Sends a request without arguments and returns the first line answered.
std::string ask(const std::string& socket, std::string_view op)
{
    return client_connection(socket).request(op);
}

/// Asks the daemon to read its configuration again, and says how it went.
/// Reports an answer that is either the event `expected` (prints `done`)
/// or an error (prints its message); returns the exit status.
int acknowledged(const std::string& answer, std::string_view expected, std::string_view done)
{
    event ev = parse_event(answer);
    if (auto* other = std::get_if<other_event>(&ev); other && other->name == expected) {
        fmt::print("pfd: {}\n", done);
        return 0;
    }
    if (auto* error = std::get_if<error_event>(&ev)) fmt::print(stderr, "pfd: {}\n", error->message);
    return 1;
}

int reload(const context& ctx)
{
    return acknowledged(ask(ctx.where.socket, "reload"), "reloaded", "configuration reloaded");
}

/// Hands the daemon's socket to a fresh one (the binary on disk) while it
/// finishes its running commands; starts one if none runs.
int restart(const daemon_args& d, const context& ctx)
{
    std::string answer;
    try {
        answer = ask(ctx.where.socket, "restart");
    } catch (const std::system_error&) {
        return start(d, ctx);
    }
    return acknowledged(answer, "restarted", "restarted; the previous daemon finishes its running commands");
}

/// The running sessions: id, pid, peer uid/pid, age, argv.
int ps(const context& ctx, bool json)
{
    std::string line = ask(ctx.where.socket, "ps");
    if (json) {
        fmt::print("{}\n", line);
        return 0;
    }
    fmt::print("{:>6} {:>8} {:>6} {:>8} {:>9}  {}\n", "ID", "PID", "UID", "PEER", "AGE", "COMMAND");
    for (auto& e : parse_ps(line)) {
        std::string command;
        for (auto& a : e.argv) command += (command.empty() ? "" : " ") + a;
        fmt::print("{:>6} {:>8} {:>6} {:>8} {:>8.1f}s  {}\n", e.id, e.pid, e.peer_uid, e.peer_pid, e.age_ms / 1000.0,
                   command);
    }
    return 0;
}

/// SIGTERM to a session's group, SIGKILL after the cancel grace; prints both steps.
int cancel(const daemon_args& d, const context& ctx)
{
    if (!d.cancel_id) throw usage_error{"cancel needs a session id (see pfd ps)"};
    unique_fd sock = connect_unix(ctx.where.socket);
    send_with_fds(sock.get(), fmt::format("{{\"pfd\":1,\"op\":\"cancel\",\"id\":{}}}\n", *d.cancel_id));
    line_buffer lines(1 << 16);
    char buf[512];
    for (;;) {
        while (auto line = lines.next_line()) {
            event ev = parse_event(*line);
            if (auto* error = std::get_if<error_event>(&ev)) {
                fmt::print(stderr, "pfd: {}\n", error->message);
                return 1;
            }
            if (line->find("\"cancelling\"") != std::string::npos)
                fmt::print("pfd: session {}: SIGTERM sent\n", *d.cancel_id);
            if (line->find("\"cancelled\"") != std::string::npos) {
                bool killed = line->find("\"killed\":true") != std::string::npos;
                fmt::print("pfd: session {}: {}\n", *d.cancel_id,
                           killed ? "SIGKILL sent after the grace period" : "ended");
                return 0;
            }
        }
        ssize_t n = ::read(sock.get(), buf, sizeof buf);
        if (n <= 0) return 1;
        lines.append({buf, static_cast<std::size_t>(n)});
    }
}

/// Prints every event of every session as NDJSON, as it happens.
int watch(const context& ctx)
{
    unique_fd sock = connect_unix(ctx.where.socket);
    send_with_fds(sock.get(), "{\"pfd\":1,\"op\":\"watch\"}\n");
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(sock.get(), buf, sizeof buf);
        if (n <= 0) return n == 0 ? 0 : 1;
        if (std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout) != static_cast<std::size_t>(n)) return 1;
        std::fflush(stdout);
    }
}

/// What the daemon says of itself, for people or (--json) as its NDJSON line.
int status(const context& ctx, bool json)
{
    std::string line;
    try {
        line = ask(ctx.where.socket, "status");
    } catch (const std::system_error& e) {
        fmt::print(json ? stderr : stdout, "pfd: no daemon on '{}' ({})\n", ctx.where.socket, e.code().message());
        return 3; // as `systemctl status` for a unit that is not running
    }
    if (json) {
        fmt::print("{}\n", line);
        return 0;
    }
    auto j = nlohmann::json::parse(line);
    auto up = j.value("uptime_ms", std::int64_t{0}) / 1000;
    fmt::print("pfd {} ({}), pid {}, on {}\n", j.value("version", ""), j.value("build", ""), j.value("pid", 0),
               j.value("socket", ""));
    fmt::print("up {}h {:02}m {:02}s; {} running, {} served; latency mean {:.3f} ms, p99 {:.3f} ms; RSS {:.1f} MiB\n",
               up / 3600, up / 60 % 60, up % 60, j.value("running", 0), j.value("served", 0),
               j.value("latency_mean_us", 0) / 1000.0, j.value("latency_p99_us", 0) / 1000.0,
               j.value("rss_kib", 0) / 1024.0);
    return 0;
}

int stop(const daemon_args& d, const context& ctx)
{
    auto grace = d.stop_grace.value_or(ctx.cfg.stop_grace);
    auto timeout = 2 * grace + std::chrono::seconds(5);
    std::string pidfile = pidfile_path(ctx);
    if (running_pid(pidfile)) return stop_daemon(pidfile, timeout);
    // No pidfile: a daemon embedded in another program (democli) or started
    // elsewhere. Ask it over its socket; the kernel says which pid to wait for.
    std::optional<client_connection> conn;
    try {
        conn.emplace(ctx.where.socket);
    } catch (const std::system_error&) {
        fmt::print("pfd: no daemon on '{}'\n", ctx.where.socket);
        return 0;
    }
    pid_t pid = peer_of(conn->fd()).pid;
    unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (acknowledged(conn->request("stop"), "stopping", fmt::format("pid {} is stopping", pid)) != 0) return 1;
    pollfd p{pidfd.get(), POLLIN, 0};
    if (pidfd && ::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
        fmt::print(stderr, "pfd: pid {} did not stop within {} ms\n", pid, timeout.count());
        return 1;
    }
    fmt::print("pfd: stopped pid {}\n", pid);
    return 0;
}

} // namespace

int pfd_main(int argc, char** argv)
{
    try {
        std::string_view verb = argc > 1 ? argv[1] : "";
        if (verb == "--help" || verb == "-h" || verb == "help") {
            print_usage(stdout);
            return 0;
        }
        if (verb == "--version") {
            fmt::print("pfd {} ({})\n", version(), build_id());
            return 0;
        }
        if (verb == "install-units") {
            std::string dir = install_user_units(self_executable(), argc > 2 ? argv[2] : "");
            fmt::print("pfd: wrote {0}/pfd.socket and {0}/pfd.service\n"
                       "enable with: systemctl --user daemon-reload && systemctl --user enable --now pfd.socket\n",
                       dir);
            return 0;
        }
        if (verb == "serve" || verb == "start" || verb == "stop" || verb == "reload" || verb == "status" ||
            verb == "restart" || verb == "ps" || verb == "cancel" || verb == "watch") {
            auto d = parse_daemon_args(argc, argv);
            // Files (system, user, project, --config), then flags: later wins.
            context ctx = resolve_context(d.socket_flag, d.project_flag, d.config_file);
            if (verb == "serve") return serve(d, ctx);
            if (verb == "start") return start(d, ctx);
            if (verb == "reload") return reload(ctx);
            if (verb == "restart") return restart(d, ctx);
            if (verb == "ps") return ps(ctx, d.json);
            if (verb == "cancel") return cancel(d, ctx);
            if (verb == "watch") return watch(ctx);
            if (verb == "status") return status(ctx, d.json);
            return stop(d, ctx);
        }
        if (verb.empty()) throw usage_error{"no verb given"};
        throw usage_error{fmt::format("unknown verb '{}'", verb)};
    } catch (const usage_error& e) {
        fmt::print(stderr, "pfd: {}\n", e.message);
        print_usage(stderr);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "pfd: {}\n", e.what());
        return 1;
    }
}

} // namespace pfd
