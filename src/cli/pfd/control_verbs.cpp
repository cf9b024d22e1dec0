// The verbs that talk to a running daemon, each a thin user of the client
// engine: a refusal is the daemon's message on stderr and a non-zero exit.

#include "client_engine.hpp"
#include "daemon_unreachable.hpp"
#include "background_daemon.hpp"
#include "verbs.hpp"
#include "quote.hpp"
#include "watch_printer.hpp"
#include "unix_socket.hpp"

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

daemon_connection connect_to(const context& ctx)
{
    return daemon_connection(ctx.where.socket, ctx.cfg.discovery.trust_daemon_uids);
}

/// The daemon's connection, or why there is none.
struct reach_attempt {
    std::optional<daemon_connection> conn;
    bool nobody_listens = false; ///< no socket, or nothing behind it
    std::string why;             ///< where we looked and what we found
};

reach_attempt reach(const context& ctx)
{
    try {
        return {connect_to(ctx)};
    } catch (const std::system_error& e) {
        return {std::nullopt, nobody_listens(ctx.where.socket, e), unreachable_reason(ctx.where, e)};
    }
}

/// connect_to for a verb that needs the daemon: no daemon is an error that
/// says where we looked.
daemon_connection connect_or_explain(const context& ctx)
{
    auto r = reach(ctx);
    if (r.conn) return std::move(*r.conn);
    if (!r.nobody_listens) throw std::runtime_error(r.why);
    throw std::runtime_error(fmt::format("{}; '{}' starts one", r.why, start_command(ctx.where)));
}

/// The answer as `Expected`; any other is an error.
template <typename Expected>
Expected expect(const event& answer, std::string_view op)
{
    if (auto* ev = std::get_if<Expected>(&answer)) return *ev;
    throw std::runtime_error(fmt::format("unexpected answer to '{}' from the daemon", op));
}

} // namespace

int reload(const daemon_args&, const context& ctx)
{
    expect<reloaded_event>(connect_or_explain(ctx).ask(reload_request{}), "reload");
    fmt::print("pfd: configuration reloaded\n");
    return 0;
}

int restart(const daemon_args& d, const context& ctx)
{
    std::optional<daemon_connection> conn;
    try {
        conn.emplace(connect_to(ctx));
    } catch (const std::system_error&) {
        return start(d, ctx); // none runs: start one
    }
    expect<restarted_event>(conn->ask(restart_request{}), "restart");
    fmt::print("pfd: restarted; the previous daemon finishes its running commands\n");
    return 0;
}

int ps(const daemon_args& d, const context& ctx)
{
    std::string line;
    auto answer = expect<ps_event>(connect_or_explain(ctx).ask(ps_request{}, &line), "ps");
    if (d.json) {
        fmt::print("{}\n", line);
        return 0;
    }
    fmt::print("{:>6} {:>8} {:>6} {:>8} {:<10} {:>9}  {}\n", "ID", "PID", "UID", "PEER", "FROM", "AGE", "COMMAND");
    for (auto& e : answer.sessions) {
        std::string command;
        for (auto& a : e.argv) command += (command.empty() ? "" : " ") + shell_word(a);
        if (e.truncated) command += " \u2026"; // the daemon kept only part of it
        fmt::print("{:>6} {:>8} {:>6} {:>8} {:<10} {:>8.1f}s  {}\n", e.id, e.pid, e.peer_uid, e.peer_pid,
                   printable(e.origin), e.age_ms / 1000.0, command);
    }
    return 0;
}

int cancel(const daemon_args& d, const context& ctx)
{
    auto conn = connect_or_explain(ctx);
    conn.send(cancel_request{*d.cancel_id});
    for (;;) {
        std::optional<event> ev;
        try {
            ev = conn.next_event();
        } catch (const protocol_error& e) {
            if (e.code() != errc::not_found) throw;
            fmt::print(stderr, "pfd: no session {}; 'pfd ps' lists the running ones\n", *d.cancel_id);
            return 1;
        }
        if (!ev) break;
        if (std::holds_alternative<cancelling_event>(*ev)) fmt::print("pfd: session {}: SIGTERM sent\n", *d.cancel_id);
        if (auto* cancelled = std::get_if<cancelled_event>(&*ev)) {
            fmt::print("pfd: session {}: {}\n", *d.cancel_id,
                       cancelled->killed ? "SIGKILL sent after the grace period" : "ended");
            return 0;
        }
    }
    throw std::runtime_error("the daemon closed the connection before the session ended");
}

int watch(const daemon_args& d, const context& ctx)
{
    auto conn = connect_or_explain(ctx);
    std::string line;
    expect<watching_event>(conn.ask(watch_request{}, &line), "watch");
    // Then every session's events as they are, errors included: not ours.
    watch_printer human;
    for (;;) {
        if (d.json)
            fmt::print("{}\n", line);
        else
            fmt::print("{}", human.format(line, std::chrono::system_clock::now()));
        std::fflush(stdout);
        if (std::ferror(stdout)) return 1;
        auto next = conn.next_line();
        if (!next) return 0;
        line = std::move(*next);
    }
}

int status(const daemon_args& d, const context& ctx)
{
    auto [conn, nobody, why] = reach(ctx);
    if (!conn) {
        // As `systemctl status` (LSB): 3 when it is not running, 4 when we
        // cannot tell (refused, or what is there is not a socket).
        fmt::print(d.json || !nobody ? stderr : stdout, "pfd: {}\n", why);
        return nobody ? 3 : 4;
    }
    std::string line;
    auto s = expect<status_event>(conn->ask(status_request{}, &line), "status");
    if (d.json) {
        fmt::print("{}\n", line);
        return 0;
    }
    auto up = s.uptime_ms / 1000;
    fmt::print("pfd {} ({}), pid {}, on {}\n", s.version, s.build, s.pid, s.socket);
    fmt::print("up {}h {:02}m {:02}s; {} running, {} served; latency mean {:.3f} ms, p99 {:.3f} ms; RSS {:.1f} MiB\n",
               up / 3600, up / 60 % 60, up % 60, s.running, s.served, s.latency_mean_us / 1000.0,
               s.latency_p99_us / 1000.0, s.rss_kib / 1024.0);
    if (!s.environment.empty()) fmt::print("container commands' environment: {}\n", s.environment);
    return 0;
}

namespace {

/// "1 command", "2 commands".
std::string commands(std::uint64_t n)
{
    return fmt::format("{} command{}", n, n == 1 ? "" : "s");
}

/// The daemon's answer to `stop`, as a person reads it.
void print_stopping(const stopping_event& s)
{
    if (!s.running || !s.grace_ms) // a daemon from before these fields
        fmt::print("pfd: pid {} is stopping\n", s.pid);
    else if (*s.running == 0)
        fmt::print("pfd: pid {} is stopping; no command runs\n", s.pid);
    else
        fmt::print("pfd: pid {} is stopping; {} running get{} {} ms\n", s.pid, commands(*s.running),
                   *s.running == 1 ? "s" : "", *s.grace_ms);
}

void print_stop_step(const stop_step_event& step)
{
    switch (step.step) {
    case stop_step::ended:
        fmt::print("pfd: all commands ended\n");
        break;
    case stop_step::term:
        fmt::print("pfd: SIGTERM sent to {}\n", commands(step.commands));
        break;
    case stop_step::kill:
        fmt::print("pfd: SIGKILL sent to {}\n", commands(step.commands));
        break;
    }
}

} // namespace

int stop(const daemon_args& d, const context& ctx)
{
    // The daemon is whoever answers on its socket, asked with the `stop` op:
    // never a pid number from a file, which could be anybody's.
    auto [conn, nobody, why] = reach(ctx);
    if (!conn) {
        if (!nobody) {
            fmt::print(stderr, "pfd: {}\n", why);
            return 1;
        }
        if (auto pid = running_pid(pidfile_path(ctx))) {
            fmt::print(stderr, "pfd: nobody answers on '{}', though {} is locked (pid {}); not signalling a number\n",
                       ctx.where.socket, pidfile_path(ctx), *pid);
            return 1;
        }
        fmt::print("pfd: no daemon runs on '{}'; nothing to stop\n", ctx.where.socket);
        return 0;
    }
    auto stopping = expect<stopping_event>(conn->ask(stop_request{d.stop_grace}), "stop");
    print_stopping(stopping);
    bool any_running = stopping.running.value_or(1) > 0;
    std::fflush(stdout);
    // Two waits of the grace at most, then SIGKILL: what is left is the
    // daemon reaping and saying goodbye.
    auto grace = stopping.grace_ms ? std::chrono::milliseconds(*stopping.grace_ms)
                                   : d.stop_grace.value_or(ctx.cfg.limits.stop_grace);
    auto timeout = 2 * grace + std::chrono::seconds(5);
    // It tells each step on this connection, and keeps it until it is gone.
    pollfd p{conn->fd(), POLLIN, 0};
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        while (auto ev = conn->buffered_event())
            if (auto* step = std::get_if<stop_step_event>(&*ev);
                step && (any_running || step->step != stop_step::ended))
                print_stop_step(*step);
        std::fflush(stdout);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fmt::print(stderr, "pfd: pid {} did not stop within {} ms\n", stopping.pid, timeout.count());
            return 1;
        }
        if (!conn->read_some()) break;
    }
    fmt::print("pfd: stopped pid {}\n", stopping.pid);
    return 0;
}

} // namespace pfd
