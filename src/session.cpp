#include "session.hpp"

#include "applet_runner.hpp"

#include "pfd/protocol.hpp"
#include "pfd/spawner.hpp"
#include "pfd/unix_socket.hpp"
#include "pfd/wire.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fnmatch.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using socket_type = asio::local::stream_protocol::socket;
using clock_type = std::chrono::steady_clock;

namespace {

/// The request line and the descriptors that came with it.
struct request_message {
    std::string line;
    std::vector<unique_fd> fds;
};

/// A connection's state, shared by the coroutines of one session (one strand).
struct connection {
    socket_type socket;
    std::shared_ptr<const server_options> options_held;
    const server_options& options;
    session_registry& registry;
    const daemon_hooks& hooks;
    clock_type::time_point connected = clock_type::now();
    line_buffer lines;
    peer_credentials peer;
};

/// Sends what a client may no longer be there to read.
awaitable<void> try_send(connection& c, std::string data);

/// Sends an event line to this client and to every watcher.
awaitable<void> emit(connection& c, std::string line)
{
    c.registry.publish(line);
    co_await try_send(c, std::move(line));
}

/// Sends what a client may no longer be there to read.
awaitable<void> try_send(connection& c, std::string data)
{
    [[maybe_unused]] auto [ec, n] =
        co_await asio::async_write(c.socket, asio::buffer(data), asio::experimental::as_tuple(use_awaitable));
}

/// What reading the request gave: nothing (the client left), the request,
/// or the error to answer with.
struct read_result {
    std::variant<std::monostate, request_message, error_event> value;
};

/// Reads up to the first '\n', collecting every descriptor that arrives.
awaitable<read_result> read_request(connection& c)
{
    request_message msg;
    char buf[16384];
    for (;;) {
        // Checked before taking the line: its '\n' may have come in the same
        // read that took it past the limit.
        if (c.lines.overflowed())
            co_return read_result{error_event{
                errc::too_large, fmt::format("request line longer than {} bytes", c.options.max_request_bytes)}};
        if (auto line = c.lines.next_line()) {
            msg.line = std::move(*line);
            co_return read_result{std::move(msg)};
        }
        // The limit is per request, not per read: a line may come in several
        // sendmsg calls, each with descriptors.
        std::size_t room = c.options.max_fds - msg.fds.size();
        std::size_t before = msg.fds.size();
        received r;
        try {
            // Read first, wait only if nothing is there: the request usually
            // arrives with the connection, and an epoll round trip costs more.
            r = recv_with_fds(c.socket.native_handle(), buf, msg.fds, room, true);
            if (r.would_block) {
                auto [ec] =
                    co_await c.socket.async_wait(socket_type::wait_read, asio::experimental::as_tuple(use_awaitable));
                if (ec) co_return read_result{};
                continue;
            }
        } catch (const std::system_error&) {
            co_return read_result{};
        }
        if (r.truncated && msg.fds.size() - before < room)
            co_return read_result{error_event{
                errc::limit, "the daemon has no descriptors left to receive yours (EMFILE); try again later"}};
        if (r.truncated)
            co_return read_result{
                error_event{errc::limit, fmt::format("more than {} descriptors attached", c.options.max_fds)}};
        if (r.eof) co_return read_result{};
        c.lines.append({buf, r.bytes});
    }
}

/// A running command as the session sees it. The pidfd is its only handle
/// until it is reaped; the process group shares its pid.
struct running_command {
    std::uint64_t id;
    pid_t pid;
    asio::posix::stream_descriptor pidfd;
    clock_type::time_point started;
    session_registry& registry;
    bool reaped = false;

    /// Only reached unreaped when the session failed unexpectedly: the
    /// command must not outlive its owner as an unwatched process or zombie.
    ~running_command()
    {
        if (reaped) return;
        registry.remove(id);
        ::kill(-pid, SIGKILL);
        try {
            reap(pidfd.native_handle());
        } catch (const std::system_error&) {
        }
    }

    void signal_group(int signo) const
    {
        if (!reaped) ::kill(-pid, signo);
    }
};

/// Waits for the command to end and reaps it. It leaves the registry while
/// still a zombie, so nobody signals a pid that could have been reused.
awaitable<exit_status> command_exit(running_command& cmd)
{
    co_await cmd.pidfd.async_wait(asio::posix::stream_descriptor::wait_read, use_awaitable);
    cmd.registry.remove(cmd.id);
    cmd.reaped = true;
    co_return reap(cmd.pidfd.native_handle());
}

enum class client_end { gone, bad_line };

/// Reads the lines a client sends while its command runs (signals, handed
/// to `deliver`), until the client goes away or says something it may not.
awaitable<client_end> control_reader(connection& c, const std::function<void(int)>& deliver)
{
    std::vector<unique_fd> stray; // descriptors are not accepted here: closed at once
    char buf[1024];
    for (;;) {
        while (auto line = c.lines.next_line()) {
            std::optional<error_event> refused;
            try {
                deliver(parse_control(*line).signo);
            } catch (const protocol_error& e) {
                refused = error_event{e.code(), e.what()};
            }
            if (refused) {
                co_await emit(c, encode_event(*refused));
                co_return client_end::bad_line;
            }
        }
        if (c.lines.overflowed()) co_return client_end::bad_line;
        auto [ec] = co_await c.socket.async_wait(socket_type::wait_read, asio::experimental::as_tuple(use_awaitable));
        if (ec) co_return client_end::gone;
        received r;
        try {
            r = recv_with_fds(c.socket.native_handle(), buf, stray, 0, true);
        } catch (const std::system_error&) {
            co_return client_end::gone;
        }
        stray.clear();
        if (r.eof) co_return client_end::gone;
        c.lines.append({buf, r.bytes});
    }
}

/// Wakes the session's state_watcher; shared so a poke posted just before
/// the session ends finds it still alive.
struct poke_state {
    explicit poke_state(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool pending = false;
};

/// Completes once poked (or cancelled: the caller checks its cancellation state).
awaitable<void> poked(std::shared_ptr<poke_state> poke)
{
    while (!poke->pending) {
        poke->timer.expires_at(asio::steady_timer::time_point::max());
        co_await poke->timer.async_wait(asio::experimental::as_tuple(use_awaitable));
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) co_return;
    }
}

/// Reports the command stopping and continuing (job control) so the client
/// can stop with it. Woken on every SIGCHLD of the daemon.
awaitable<void> state_watcher(connection& c, running_command& cmd, std::shared_ptr<poke_state> poke)
{
    for (;;) {
        co_await poked(poke);
        if (!poke->pending) co_return; // cancelled: the command ended or its client left
        poke->pending = false;
        siginfo_t info{};
        if (cmd.reaped ||
            ::waitid(P_PIDFD, static_cast<id_t>(cmd.pidfd.native_handle()), &info, WSTOPPED | WCONTINUED | WNOHANG) <
                0 ||
            info.si_pid == 0)
            continue;
        if (info.si_code == CLD_STOPPED || info.si_code == CLD_TRAPPED)
            co_await emit(c, encode_event(stopped_event{cmd.id, info.si_status}));
        else if (info.si_code == CLD_CONTINUED)
            co_await emit(c, encode_event(continued_event{cmd.id}));
    }
}

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
    if (matches(o.deny_commands)) return false;
    return o.allow_commands.empty() || matches(o.allow_commands);
}

/// [policy] env_*: the environment the command gets from the one the client
/// sent. Throws protocol_error(denied) for a variable the policy refuses.
std::vector<std::string> command_environment(const server_options& o, std::vector<std::string> env)
{
    std::vector<std::string> out;
    for (auto& e : env) {
        std::string name = e.substr(0, e.find('='));
        if (any_match(o.env_deny, name))
            throw protocol_error(errc::denied,
                                 fmt::format("environment variable '{}' is refused here ([policy])", name));
        // The daemon's own activation protocol never reaches commands.
        if (name == "LISTEN_PID" || name == "LISTEN_FDS" || name == "LISTEN_FDNAMES" || name == "NOTIFY_SOCKET")
            continue;
        if (!o.env_forward.empty() && !any_match(o.env_forward, name)) continue;
        if (any_match(o.env_clean, name)) continue;
        out.push_back(std::move(e));
    }
    for (auto& set : o.env_set) {
        std::string name = set.substr(0, set.find('='));
        std::erase_if(out, [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; });
        out.push_back(set);
    }
    return out;
}

spawn_spec make_spawn_spec(exec_request& req, const std::vector<unique_fd>& fds, const server_options& options)
{
    spawn_spec spec;
    if (req.tty && !options.session_helper.empty()) spec.argv.push_back(options.session_helper);
    for (auto& a : req.argv) spec.argv.push_back(std::move(a));
    spec.cwd = std::move(req.cwd);
    spec.umask = req.umask;
    spec.new_session = req.tty;
    spec.nofile = original_nofile_limit();
    spec.env = std::move(req.env); // already through the policy (run_exec)
    for (std::size_t i = 0; i < fds.size(); ++i) spec.fds.emplace_back(fds[i].get(), req.fds[i]);
    return spec;
}

/// The `exited` event of session `id`, started at `started`.
exited_event make_exited(std::uint64_t id, clock_type::time_point started, const exit_status& status)
{
    exited_event ev;
    ev.id = id;
    ev.code = status.code;
    ev.signo = status.signo;
    ev.core = status.core;
    ev.duration_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started).count());
    return ev;
}

/// Wakes a poke_state from any thread.
std::function<void()> waker(const std::shared_ptr<poke_state>& poke)
{
    return [poke] {
        asio::post(poke->timer.get_executor(), [poke] {
            poke->pending = true;
            poke->timer.cancel();
        });
    };
}

/// An applet call: the same events as a command, plus `progress`. The
/// applet runs on its own thread; this coroutine relays its reports and
/// the client's signals until it returns.
awaitable<void> run_applet(connection& c, const applet& fn, exec_request req, std::vector<unique_fd> fds,
                           std::uint64_t id, std::string head)
{
    auto started = clock_type::now();
    applet_call call{id, std::move(req.argv), std::move(req.env), std::move(req.cwd), c.peer.uid, c.peer.pid, {}};
    for (std::size_t i = 0; i < fds.size(); ++i) call.fds.emplace_back(req.fds[i], std::move(fds[i]));
    auto poke = std::make_shared<poke_state>(co_await asio::this_coro::executor);
    applet_runner runner(fn, std::move(call), waker(poke));
    // Declared after the runner, so it leaves the registry (which may call
    // into the runner) before the runner goes.
    struct registered {
        session_registry& registry;
        std::uint64_t id;
        ~registered() { registry.remove(id); }
    } in_registry{c.registry, id};
    c.registry.started(id, ::getpid(), waker(poke), [&runner](int signo) { return runner.deliver(signo); });
    c.registry.record_latency(std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - c.connected));
    co_await emit(c, head + encode_event(started_event{id, ::getpid()}));

    bool client_here = !req.detach;
    if (!client_here) c.socket.close();
    std::function<void(int)> deliver = [&runner](int signo) { runner.deliver(signo); };
    std::optional<int> code;
    for (;;) {
        code = runner.result(); // before the progress: none may come after it
        for (auto& report : runner.take_progress()) {
            std::string line = encode_event(report);
            co_await emit(c, std::move(line));
        }
        if (code) break;
        if (client_here) {
            auto woke = co_await (poked(poke) || control_reader(c, deliver));
            if (woke.index() == 1) {
                // Gone or broke the protocol: hang up, as for a command.
                client_here = false;
                c.socket.close();
                if (c.options.hangup_signal) runner.deliver(c.options.hangup_signal);
            }
        } else {
            co_await poked(poke);
        }
        poke->pending = false;
    }
    c.registry.remove(id);
    std::string line = encode_event(make_exited(id, started, exit_status{*code, 0, false}));
    co_await emit(c, std::move(line));
}

awaitable<void> run_exec(connection& c, exec_request req, std::vector<unique_fd> fds)
{
    if (req.fds.size() != fds.size())
        throw protocol_error(errc::fd_mismatch, fmt::format("'fds' lists {} descriptors but {} were attached",
                                                            req.fds.size(), fds.size()));
    auto executor = co_await asio::this_coro::executor;
    if (!command_allowed(c.options, req.argv[0]))
        throw protocol_error(errc::denied, fmt::format("'{}' is not allowed here ([policy])", req.argv[0]));
    auto applet = c.options.applets.find(req.argv[0]);
    if (applet == c.options.applets.end() && !c.options.run_commands)
        throw protocol_error(errc::not_found, fmt::format("no applet '{}' here", req.argv[0]));
    req.env = command_environment(c.options, std::move(req.env));
    std::uint64_t id = c.registry.next_id();
    if (auto full = c.registry.admit(session_info{id, -1, c.peer.uid, c.peer.pid, req.argv, clock_type::now(), {}, {}},
                                     c.options.max_sessions, c.options.max_sessions_per_peer)) {
        if (*full == "busy")
            throw protocol_error(
                errc::busy, fmt::format("{} command(s) already running ([limits] sessions)", c.options.max_sessions));
        throw protocol_error(errc::limit, fmt::format("uid {} already runs {} command(s) ([limits] sessions_per_peer)",
                                                      c.peer.uid, c.options.max_sessions_per_peer));
    }
    std::string head = encode_event(accepted_event{id});
    bool detach = req.detach;
    // "hostexec/0.1.0 <build>": a newer client may mean a newer daemon is installed.
    if (auto space = req.client.rfind(' '); space != std::string::npos && c.hooks.client_build)
        c.hooks.client_build(std::string_view(req.client).substr(space + 1));
    if (applet != c.options.applets.end()) {
        co_await run_applet(c, applet->second, std::move(req), std::move(fds), id, std::move(head));
        co_return;
    }

    auto started = clock_type::now();
    child_process child;
    std::optional<error_event> failed;
    try {
        child = spawn(make_spawn_spec(req, fds, c.options));
    } catch (const spawn_error& e) {
        failed = error_event{e.code(), e.what()};
    }
    if (failed) {
        c.registry.remove(id);
        co_await emit(c, head + encode_event(*failed));
        co_return;
    }
    fds.clear(); // the command holds them now; the daemon must not keep pipes open
    c.registry.record_latency(std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - c.connected));
    running_command cmd{id, child.pid, asio::posix::stream_descriptor(executor, child.pidfd.release()), started,
                        c.registry};
    auto poke = std::make_shared<poke_state>(executor);
    c.registry.started(id, cmd.pid, waker(poke));

    co_await emit(c, head + encode_event(started_event{id, cmd.pid}));
    if (detach) {
        c.socket.close();
        co_await command_exit(cmd);
        co_return;
    }
    std::function<void(int)> deliver = [&cmd](int signo) { cmd.signal_group(signo); };
    auto first = co_await (command_exit(cmd) || control_reader(c, deliver) || state_watcher(c, cmd, poke));
    if (first.index() == 0) {
        co_await emit(c, encode_event(make_exited(cmd.id, cmd.started, std::get<0>(first))));
        co_return;
    }
    // The client is gone or broke the protocol: hang up on the command as a
    // terminal would (SIGCONT so a stopped group sees the SIGHUP), then reap it.
    c.socket.close();
    if (c.options.hangup_signal) {
        cmd.signal_group(c.options.hangup_signal);
        cmd.signal_group(SIGCONT);
    }
    co_await command_exit(cmd);
}

/// Completes when the peer closes (or sends anything, which a watcher must not).
awaitable<void> peer_closed(connection& c)
{
    co_await c.socket.async_wait(socket_type::wait_read, asio::experimental::as_tuple(use_awaitable));
}

/// `watch`: every event of every session, pushed as it happens. A watcher
/// that does not read falls behind, is dropped and its connection closed;
/// nobody else waits for it.
awaitable<void> run_watch(connection& c)
{
    auto poke = std::make_shared<poke_state>(co_await asio::this_coro::executor);
    auto alive = std::make_shared<bool>(true);
    socket_type* socket = &c.socket;
    std::shared_ptr<session_registry::watcher> w;
    w = c.registry.subscribe(
        [poke, alive, socket, &w_ref = w] {
            asio::post(poke->timer.get_executor(), [poke, alive, socket, &w_ref] {
                if (!*alive) return;
                poke->pending = true;
                poke->timer.cancel();
                // A dropped watcher may be stuck in a write it never reads.
                std::lock_guard lock(w_ref->mutex);
                if (w_ref->dropped) socket->cancel();
            });
        },
        c.options.max_watchers);
    if (!w)
        throw protocol_error(errc::limit,
                             fmt::format("{} watchers already ([limits] watchers)", c.options.max_watchers));
    struct unsubscribe {
        session_registry& registry;
        std::shared_ptr<session_registry::watcher> w;
        std::shared_ptr<bool> alive;
        ~unsubscribe()
        {
            *alive = false;
            registry.unsubscribe(w);
        }
    } guard{c.registry, w, alive};
    int sndbuf = 64 * 1024; // fall behind soon rather than buffer a lot in the kernel
    ::setsockopt(c.socket.native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    std::string hello = encode_event(other_event{"watching"});
    co_await try_send(c, std::move(hello));
    for (;;) {
        auto woke = co_await (poked(poke) || peer_closed(c));
        if (woke.index() == 1) co_return;
        poke->pending = false;
        std::deque<std::string> batch;
        {
            std::lock_guard lock(w->mutex);
            if (w->dropped) co_return;
            batch.swap(w->lines);
        }
        std::string out;
        for (auto& line : batch) out += line;
        auto [ec, n] =
            co_await asio::async_write(c.socket, asio::buffer(out), asio::experimental::as_tuple(use_awaitable));
        if (ec) co_return;
    }
}

/// `ps`: the running sessions.
awaitable<void> run_ps(connection& c)
{
    std::vector<ps_entry> entries;
    auto now = clock_type::now();
    for (auto& info : c.registry.list())
        entries.push_back(
            ps_entry{info.id, info.pid, info.peer_uid, info.peer_pid, info.argv,
                     static_cast<std::uint64_t>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(now - info.started).count())});
    std::string reply = encode_ps(entries);
    co_await try_send(c, std::move(reply));
}

/// `cancel`: two steps, each acknowledged. SIGTERM (and SIGCONT) to the
/// session's group, then SIGKILL if it still runs after the cancel grace.
/// The cancelled command's own client gets its `exited` event as usual.
awaitable<void> run_cancel(connection& c, std::uint64_t id)
{
    struct ending {
        explicit ending(asio::any_io_executor ex) : timer(ex) {}
        asio::steady_timer timer;
        bool done = false;
    };
    auto ended = std::make_shared<ending>(co_await asio::this_coro::executor);
    bool known = c.registry.on_removed(id, [ended] {
        asio::post(ended->timer.get_executor(), [ended] {
            ended->done = true;
            ended->timer.cancel();
        });
    });
    if (!known || !c.registry.signal(id, SIGTERM))
        throw protocol_error(errc::not_found, fmt::format("no running session {}", id));
    c.registry.signal(id, SIGCONT);
    std::string first = fmt::format("{{\"event\":\"cancelling\",\"id\":{},\"signal\":\"TERM\"}}\n", id);
    co_await try_send(c, std::move(first));
    bool killed = false;
    if (!ended->done) {
        ended->timer.expires_after(c.options.cancel_grace);
        co_await ended->timer.async_wait(asio::experimental::as_tuple(use_awaitable));
        if (!ended->done) killed = c.registry.signal(id, SIGKILL);
    }
    std::string second = fmt::format("{{\"event\":\"cancelled\",\"id\":{},\"killed\":{}}}\n", id, killed);
    co_await try_send(c, std::move(second));
}

awaitable<void> handle(connection& c)
{
    // The watchdog: if the request line is not complete in time, cancel the
    // read. (A plain timer rather than `||`, which would spawn two more
    // coroutines on every request.)
    // The state is shared: the timer may have fired and queued its handler
    // just as the read completed, and that handler may run after we are gone.
    struct watch_state {
        bool done = false;
        bool fired = false;
    };
    auto state = std::make_shared<watch_state>();
    asio::steady_timer watchdog(c.socket.get_executor(), c.options.request_timeout);
    watchdog.async_wait([state, &socket = c.socket](asio::error_code ec) {
        if (ec || state->done) return;
        state->fired = true;
        socket.cancel();
    });
    read_result got = co_await read_request(c);
    state->done = true;
    watchdog.cancel();
    if (state->fired)
        throw protocol_error(errc::bad_request,
                             fmt::format("no complete request line within {} ms", c.options.request_timeout.count()));
    auto& result = got.value;
    if (auto* error = std::get_if<error_event>(&result)) throw protocol_error(error->code, error->message);
    auto* message = std::get_if<request_message>(&result);
    if (!message) co_return; // closed before saying anything
    // Refused only once the request is read (within the request timeout):
    // closing on unread data would make the client's send fail with EPIPE
    // before it could read why.
    if (c.peer.uid != ::getuid() && c.peer.uid != 0 &&
        std::find(c.options.allow_uids.begin(), c.options.allow_uids.end(), c.peer.uid) == c.options.allow_uids.end())
        throw protocol_error(errc::denied, fmt::format("uid {} may not use this daemon", c.peer.uid));
    request req = parse_request(message->line);
    if (auto* exec = std::get_if<exec_request>(&req)) {
        co_await run_exec(c, std::move(*exec), std::move(message->fds));
    } else if (auto* cancel = std::get_if<cancel_request>(&req)) {
        co_await run_cancel(c, cancel->id);
    } else if (auto* watch = std::get_if<simple_request>(&req); watch && watch->op == "watch") {
        co_await run_watch(c);
    } else if (auto* ps = std::get_if<simple_request>(&req); ps && ps->op == "ps") {
        co_await run_ps(c);
    } else if (std::holds_alternative<signal_request>(req)) {
        throw protocol_error(errc::bad_request, "'signal' is only valid while a command runs");
    } else if (auto* simple = std::get_if<simple_request>(&req); simple && simple->op == "reload") {
        std::string why = c.hooks.reload ? c.hooks.reload() : std::string("this daemon cannot reload");
        if (!why.empty()) throw protocol_error(errc::bad_request, why);
        // Encoded first: g++ 12 mishandles temporaries with destructors
        // inside a co_await expression (a double free was seen here).
        std::string reply = encode_event(other_event{"reloaded"});
        co_await try_send(c, std::move(reply));
    } else if (simple && simple->op == "restart") {
        std::string why = c.hooks.restart ? c.hooks.restart() : std::string("this daemon cannot restart");
        if (!why.empty()) throw protocol_error(errc::bad_request, why);
        std::string reply = encode_event(other_event{"restarted"});
        co_await try_send(c, std::move(reply));
    } else if (simple && simple->op == "status" && c.hooks.status) {
        std::string reply = c.hooks.status();
        co_await try_send(c, std::move(reply));
    } else if (simple && simple->op == "stop" && c.hooks.stop) {
        // Acknowledged first: the stop closes the listener, not this connection.
        std::string reply = encode_event(other_event{"stopping"});
        co_await try_send(c, std::move(reply));
        c.hooks.stop();
    } else if (simple && simple->op == "ping") {
        std::string reply = encode_event(other_event{"pong"});
        co_await try_send(c, std::move(reply));
    } else {
        throw protocol_error(errc::bad_request, "this daemon does not serve that op yet");
    }
}

} // namespace

awaitable<void> serve_connection(socket_type socket, std::shared_ptr<const server_options> options,
                                 session_registry& registry, const daemon_hooks& hooks)
{
    const server_options& o = *options;
    connection c{std::move(socket),
                 std::move(options),
                 o,
                 registry,
                 hooks,
                 clock_type::now(),
                 line_buffer(o.max_request_bytes),
                 {}};
    std::optional<error_event> failed;
    try {
        c.peer = peer_of(c.socket.native_handle());
        co_await handle(c);
    } catch (const protocol_error& e) {
        failed = error_event{e.code(), e.what()};
    } catch (const std::exception& e) {
        failed = error_event{errc::spawn_failed, e.what()};
    }
    if (failed) co_await emit(c, encode_event(*failed));
    // Unread bytes or descriptors still queued die with the socket: the
    // kernel closes descriptors in flight when their receiver goes away.
}

} // namespace pfd
