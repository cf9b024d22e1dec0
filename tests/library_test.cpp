// libpfd's public API: the client (blocking and awaitable) against a real
// pfd daemon, and an embedded server with applets in this process.
#include "support/harness.hpp"

#include "pfd/async_client.hpp"
#include "pfd/client.hpp"
#include "pfd/server.hpp"
#include "unix_socket.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

using namespace pfd::test;
using namespace asio::experimental::awaitable_operators;

namespace {

/// Every event of a run, as the client API delivers them.
struct event_log {
    std::mutex mutex;
    std::vector<pfd::event> events;
    std::atomic<std::uint64_t> id{0};
    std::atomic<pid_t> pid{0};

    pfd::run_options options()
    {
        return {.on_event = [this](const pfd::event& ev) {
            std::lock_guard lock(mutex);
            events.push_back(ev);
            if (auto* a = std::get_if<pfd::accepted_event>(&ev)) id = a->id;
            if (auto* s = std::get_if<pfd::started_event>(&ev)) pid = s->pid;
        }};
    }
    /// "accepted started progress exited"...
    std::string names()
    {
        std::lock_guard lock(mutex);
        std::string out;
        for (auto& ev : events) {
            std::string line = pfd::encode_event(ev);
            auto start = line.find("\"event\":\"") + 9;
            out += (out.empty() ? "" : " ") + line.substr(start, line.find('"', start) - start);
        }
        return out;
    }
};

/// Sends one request line and returns the first `lines` lines answered.
std::vector<std::string> ask(const std::string& socket, const std::string& request, int lines)
{
    auto fd = connect_raw(socket);
    REQUIRE(::write(fd.get(), request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    std::vector<std::string> out;
    for (int i = 0; i < lines; ++i) out.push_back(read_line(fd.get()));
    return out;
}

/// Why the daemon refused to run `cmd`; nothing if it ran.
std::optional<pfd::protocol_error> refusal(const pfd::client& daemon, const pfd::command& cmd)
{
    try {
        daemon.run(cmd);
    } catch (const pfd::protocol_error& e) {
        return e;
    }
    return std::nullopt;
}

/// An embedded pfd::server with applets, serving from a thread of this process.
class applet_daemon {
public:
    explicit applet_daemon(std::map<std::string, pfd::applet, std::less<>> applets,
                           std::function<void(pfd::server_options&)> configure = {})
    {
        pfd::server_options o;
        o.socket_path = socket_;
        o.daemon.threads = 2;
        o.applets = std::move(applets);
        o.run_commands = false;
        o.limits.cancel_grace = std::chrono::milliseconds(300);
        auto [ready_read, ready_write] = make_pipe();
        o.ready_fd = ready_write.release();
        if (configure) configure(o);
        server_ = std::make_unique<pfd::server>(std::move(o));
        thread_ = std::thread([this] { server_->run(); });
        // To its end: the server closes its end just after the newline.
        REQUIRE(read_all(ready_read.get()) == "\n");
    }
    ~applet_daemon()
    {
        server_->stop();
        thread_.join();
    }
    const std::string& socket() const { return socket_; }
    /// The thread that called server::run().
    std::thread::id thread_id() const { return thread_.get_id(); }

private:
    temp_dir dir_;
    std::string socket_ = dir_ / "applets.sock";
    std::unique_ptr<pfd::server> server_;
    std::thread thread_;
};

/// An applet that waits until asked to stop, then returns 128 + the signal.
int wait_for_stop(pfd::applet_context& ctx)
{
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    ctx.out("waiting\n");
    cv.wait(lock, ctx.stop_token(), [] { return false; });
    return 128 + ctx.stop_signal();
}

/// The request line the library would send for `argv` in /.
std::string exec_request_for(const std::vector<std::string>& argv)
{
    pfd::exec_request req;
    req.argv = argv;
    req.cwd = "/";
    return pfd::encode_request(req);
}

/// A raw client on `socket` that sent the request for `argv`: the
/// connection, to read its events.
pfd::unique_fd send_exec(const std::string& socket, const std::vector<std::string>& argv)
{
    auto fd = connect_raw(socket);
    std::string req = exec_request_for(argv);
    REQUIRE(::write(fd.get(), req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    return fd;
}

} // namespace

TEST_CASE("client::run: events in order and the exit of a success, a failure and a signal", "[library]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    const std::map<int, int> none;

    event_log ok;
    auto success = daemon.run({.argv = {"true"}, .fds = none}, ok.options());
    CHECK(ok.names() == "accepted started exited");
    CHECK(success.code == 0);
    CHECK(success.id == ok.id);
    CHECK(ok.pid > 0);

    event_log failed;
    auto failure = daemon.run({.argv = {"sh", "-c", "exit 3"}, .fds = none}, failed.options());
    CHECK(failed.names() == "accepted started exited");
    CHECK(failure.code == 3);
    CHECK(pfd::shell_status(failure) == 3);

    event_log killed;
    auto signalled = daemon.run({.argv = {"sh", "-c", "kill -TERM $$"}, .fds = none}, killed.options());
    CHECK(killed.names() == "accepted started exited");
    CHECK(!signalled.code);
    CHECK(signalled.signo == SIGTERM);
    CHECK_FALSE(signalled.core);
    CHECK(pfd::shell_status(signalled) == 128 + SIGTERM);
}

TEST_CASE("client::run: a cancelled command's client sees it end; the canceller gets both steps", "[library]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    event_log log;
    pfd::exited_event end;
    std::thread runner([&] {
        end = daemon.run({.argv = {"sleep", "600"}, .fds = std::map<int, int>{}}, log.options());
    });
    REQUIRE(eventually([&] { return log.pid != 0; }));
    auto answer = ask(d.socket(), "{\"pfd\":1,\"op\":\"cancel\",\"id\":" + std::to_string(log.id) + "}\n", 2);
    runner.join();
    CHECK(answer[0] == "{\"event\":\"cancelling\",\"id\":" + std::to_string(log.id) + ",\"signal\":\"TERM\"}\n");
    CHECK(answer[1] == "{\"event\":\"cancelled\",\"id\":" + std::to_string(log.id) + ",\"killed\":false}\n");
    CHECK(log.names() == "accepted started exited");
    CHECK(end.signo == SIGTERM);
}

TEST_CASE("client::run_capture: stdout and stderr apart, whatever their size", "[library]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    auto r = daemon.run_capture({.argv = {"sh", "-c", "printf out; printf err >&2; exit 4"}});
    CHECK(r.out == "out");
    CHECK(r.err == "err");
    CHECK(r.exit.code == 4);

    auto big = daemon.run_capture({.argv = {"sh", "-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2"}});
    CHECK(big.out.size() == 3000000);
    CHECK(big.err.size() == 2000000);

    SECTION("environment, directory and other descriptors as given")
    {
        auto [read_end, write_end] = make_pipe();
        auto e = daemon.run_capture({.argv = {"sh", "-c", "echo \"$MARK $(pwd)\"; echo to-five >&5"},
                                     .env = std::vector<std::string>{"MARK=given", "PATH=/usr/bin:/bin"},
                                     .cwd = d.dir().path(),
                                     .fds = std::map<int, int>{{5, write_end.get()}}});
        write_end.reset();
        CHECK(e.out == "given " + d.dir().path() + "\n");
        CHECK(read_all(read_end.get()) == "to-five\n");
    }
}

namespace {

/// A daemon of the test's own on `path`, for what pfd's would hide: which
/// connection a request comes on. `serve_one` answers the next request line
/// on `conn` with a command that ended with 0; false when the connection
/// ended without one.
bool serve_one(int conn)
{
    std::string line;
    char c;
    while (::read(conn, &c, 1) == 1)
        if (c == '\n') {
            std::string answer = R"({"event":"accepted","id":1})"
                                 "\n"
                                 R"({"event":"started","id":1,"pid":1})"
                                 "\n"
                                 R"({"event":"exited","id":1,"code":0,"duration_ms":0})"
                                 "\n";
            return ::write(conn, answer.data(), answer.size()) == static_cast<ssize_t>(answer.size());
        }
    return false;
}

} // namespace

TEST_CASE("connect_or_start: the first request goes over the connection that found the daemon", "[library]")
{
    temp_dir dir;
    std::string path = dir / "own.sock";
    pfd::unique_fd listener = pfd::listen_unix(path);
    const std::map<int, int> none;

    SECTION("fresh: one connection, and it carries the request")
    {
        bool first_carried = false, second = false;
        std::thread daemon([&] {
            pfd::unique_fd first(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            first_carried = serve_one(first.get());
            if (first_carried) return;
            second = true; // what a second connection would carry, so the client is answered
            pfd::unique_fd next(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            serve_one(next.get());
        });
        auto c = pfd::client::connect_or_start(path, {"/bin/false"});
        CHECK(c.run({.argv = {"true"}, .fds = none}).code == 0);
        daemon.join();
        CHECK(first_carried);
        CHECK_FALSE(second);
    }
    SECTION("a child forked since makes its own connection: the kept one is its parent's")
    {
        auto c = pfd::client::connect_or_start(path, {"/bin/false"});
        // Forked before the test's daemon thread starts: one thread to copy.
        pid_t child = ::fork();
        if (child == 0) _exit(c.run({.argv = {"true"}, .fds = none}).code == 0 ? 0 : 1);
        REQUIRE(child > 0);
        bool first_carried = false, second_carried = false;
        std::thread daemon([&] {
            pfd::unique_fd first(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            // The child's own connection (bounded: a child that took the
            // kept one makes none), then the parent's request on the kept one.
            pollfd p{listener.get(), POLLIN, 0};
            if (::poll(&p, 1, 10000) == 1) {
                pfd::unique_fd second(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
                second_carried = serve_one(second.get());
            }
            first_carried = serve_one(first.get());
        });
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        bool parent_ok = false;
        try {
            parent_ok = c.run({.argv = {"true"}, .fds = none}).code == 0;
        } catch (const std::exception& e) {
            INFO("the parent's run: " << e.what());
        }
        daemon.join();
        CHECK(parent_ok);
        CHECK(second_carried);
        CHECK(first_carried);
    }
    SECTION("closed by the daemon meanwhile (its request timeout): a new connection is made")
    {
        std::atomic<bool> closed{false};
        bool served = false;
        std::thread daemon([&] {
            ::close(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            closed = true;
            pfd::unique_fd next(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            served = serve_one(next.get());
        });
        auto c = pfd::client::connect_or_start(path, {"/bin/false"});
        for (int i = 0; i < 1000 && !closed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        REQUIRE(closed);
        CHECK(c.run({.argv = {"true"}, .fds = none}).code == 0);
        daemon.join();
        CHECK(served);
    }
}

TEST_CASE("client errors are typed: refused, not found, no daemon", "[library]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    auto missing = refusal(daemon, {.argv = {"no-such-command-xyz"}});
    REQUIRE(missing);
    CHECK(missing->code() == pfd::errc::not_found);
    auto no_cwd = refusal(daemon, {.argv = {"true"}, .cwd = "/no/such/dir"});
    REQUIRE(no_cwd);
    CHECK(no_cwd->code() == pfd::errc::bad_cwd);
    CHECK(daemon.ping());
    pfd::client nobody(d.dir() / "nobody.sock");
    CHECK_FALSE(nobody.ping());
    CHECK_THROWS_AS(nobody.run({.argv = {"true"}}), std::system_error);
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("async_run and async_run_capture: many runs at once on one thread", "[library][async]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    asio::io_context io;
    constexpr int runs = 24;
    std::vector<std::string> outputs(runs);
    std::vector<int> codes(runs, -1);
    for (int i = 0; i < runs; ++i)
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                // Built first: g++ 12 rejects string literals in a braced
                // list inside a co_await expression.
                pfd::command cmd{.argv = {"sh", "-c", "sleep 0.1; echo $0; exit $(($0 % 7))", std::to_string(i)}};
                auto r = co_await pfd::async_run_capture(daemon, cmd);
                outputs[i] = r.out;
                codes[i] = *r.exit.code;
            },
            asio::detached);
    auto [read_end, write_end] = make_pipe();
    std::optional<pfd::exited_event> plain;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            pfd::command cmd{.argv = {"echo", "through a pipe"}, .fds = std::map<int, int>{{1, write_end.get()}}};
            plain = co_await pfd::async_run(daemon, cmd);
        },
        asio::detached);
    io.run();
    write_end.reset();
    for (int i = 0; i < runs; ++i) {
        CHECK(outputs[i] == std::to_string(i) + "\n");
        CHECK(codes[i] == i % 7);
    }
    REQUIRE(plain);
    CHECK(plain->code == 0);
    CHECK(read_all(read_end.get()) == "through a pipe\n");
}

TEST_CASE("async_run: cancelling the await hangs up on the command", "[library][async]")
{
    running_daemon d;
    pfd::client daemon(d.socket());
    asio::io_context io;
    event_log log;
    bool run_won = true;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto started = [&]() -> asio::awaitable<void> {
                asio::steady_timer t(co_await asio::this_coro::executor);
                for (int i = 0; i < 2000 && log.pid == 0; ++i) {
                    t.expires_after(std::chrono::milliseconds(5));
                    co_await t.async_wait(asio::use_awaitable);
                }
            };
            pfd::command cmd{.argv = {"sleep", "600"}, .fds = std::map<int, int>{}};
            auto run = pfd::async_run(daemon, cmd, log.options());
            auto first = co_await (std::move(run) || started());
            run_won = first.index() == 0;
        },
        asio::detached);
    io.run();
    CHECK_FALSE(run_won);
    REQUIRE(log.pid > 0);
    CHECK(eventually([&] { return ::kill(log.pid, 0) < 0; }));
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("an applet gets the client's argv, env, cwd and descriptors; its return is the exit code",
          "[library][applet]")
{
    applet_daemon d({{"show", [](pfd::applet_context& ctx) {
                          std::string text;
                          for (auto& a : ctx.argv()) text += a + ",";
                          text += " " + std::string(ctx.getenv("MARK").value_or("-")) + " " + ctx.cwd();
                          text += " " + std::to_string(ctx.peer_pid() == ::getpid());
                          char in[64] = {};
                          ssize_t n = ::read(ctx.fd(0), in, sizeof in - 1);
                          text += " " + std::string(in, n > 0 ? static_cast<std::size_t>(n) : 0);
                          ctx.out(text);
                          ctx.err("on stderr");
                          CHECK(ctx.fd(7) == -1);
                          return 7;
                      }}});
    pfd::client daemon(d.socket());
    int fds_before = open_fd_count();
    auto [in_read, in_write] = make_pipe();
    REQUIRE(::write(in_write.get(), "stdin!", 6) == 6);
    in_write.reset();
    auto r = daemon.run_capture({.argv = {"show", "a b", "\xff"},
                                 .env = std::vector<std::string>{"MARK=here"},
                                 .cwd = "/tmp",
                                 .fds = std::map<int, int>{{0, in_read.get()}}});
    CHECK(r.out == "show,a b,\xff, here /tmp 1 stdin!");
    CHECK(r.err == "on stderr");
    CHECK(r.exit.code == 7);
    in_read.reset();
    // Client and daemon share this process: neither may keep a descriptor.
    CHECK(eventually([&] { return open_fd_count() == fds_before; }));
}

TEST_CASE("applet progress streams to the client and to watchers, in order, before exited", "[library][applet]")
{
    applet_daemon d({{"count", [](pfd::applet_context& ctx) {
                          for (int i = 1; i <= 5; ++i) ctx.progress("step " + std::to_string(i), i * 20);
                          return 0;
                      }}});
    auto watcher = connect_raw(d.socket());
    std::string watch = "{\"pfd\":1,\"op\":\"watch\"}\n";
    REQUIRE(::write(watcher.get(), watch.data(), watch.size()) == static_cast<ssize_t>(watch.size()));
    REQUIRE(read_line(watcher.get()) == "{\"event\":\"watching\"}\n");

    event_log log;
    auto end = pfd::client(d.socket()).run({.argv = {"count"}, .fds = std::map<int, int>{}}, log.options());
    CHECK(end.code == 0);
    CHECK(log.names() == "accepted started progress progress progress progress progress exited");
    CHECK(log.pid == ::getpid()); // an applet runs in the daemon itself
    {
        std::lock_guard lock(log.mutex);
        auto& third = std::get<pfd::progress_event>(log.events[4]);
        CHECK(third.message == "step 3");
        CHECK(third.percent == 60);
        CHECK(third.id == end.id);
    }
    std::string seen;
    for (int i = 0; i < 9; ++i) seen += read_line(watcher.get()); // session (watchers' only), then the 8 above
    std::string id = std::to_string(end.id);
    CHECK(seen.find("{\"event\":\"progress\",\"id\":" + id + ",\"message\":\"step 5\",\"percent\":100}\n") !=
          std::string::npos);
    CHECK(seen.find("{\"event\":\"exited\",\"id\":" + id + ",\"code\":0,") != std::string::npos);
}

TEST_CASE("cancel, a forwarded signal and a vanished client reach the applet's stop token", "[library][applet]")
{
    std::atomic<int> last_stop{0};
    applet_daemon d({{"wait", [&](pfd::applet_context& ctx) {
                          int code = wait_for_stop(ctx);
                          last_stop = ctx.stop_signal();
                          return code;
                      }}});
    pfd::client daemon(d.socket());

    SECTION("pfd cancel: acknowledged in two steps; the client gets exited")
    {
        event_log log;
        pfd::captured r;
        std::thread runner([&] { r = daemon.run_capture({.argv = {"wait"}}, log.options()); });
        REQUIRE(eventually([&] { return log.pid != 0; }));
        auto ps = ask(d.socket(), "{\"pfd\":1,\"op\":\"ps\"}\n", 1);
        CHECK(ps[0].find("\"pid\":" + std::to_string(::getpid()) + ",") != std::string::npos);
        CHECK(ps[0].find("\"argv\":[\"wait\"]") != std::string::npos);
        auto answer = ask(d.socket(), "{\"pfd\":1,\"op\":\"cancel\",\"id\":" + std::to_string(log.id) + "}\n", 2);
        runner.join();
        CHECK(answer[0].find("\"event\":\"cancelling\"") != std::string::npos);
        CHECK(answer[1] == "{\"event\":\"cancelled\",\"id\":" + std::to_string(log.id) + ",\"killed\":false}\n");
        CHECK(log.names() == "accepted started exited");
        CHECK(r.out == "waiting\n");
        CHECK(r.exit.code == 128 + SIGTERM);
    }
    SECTION("a signal line from the client")
    {
        auto fd = send_exec(d.socket(), {"wait"});
        CHECK(read_line(fd.get()).find("accepted") != std::string::npos);
        CHECK(read_line(fd.get()).find("started") != std::string::npos);
        std::string sig = "{\"op\":\"signal\",\"signal\":\"INT\"}\n";
        REQUIRE(::write(fd.get(), sig.data(), sig.size()) == static_cast<ssize_t>(sig.size()));
        CHECK(read_line(fd.get()).find("\"code\":130,") != std::string::npos);
    }
    SECTION("the client goes away: the hangup signal")
    {
        {
            auto fd = send_exec(d.socket(), {"wait"});
            CHECK(read_line(fd.get()).find("accepted") != std::string::npos);
            CHECK(read_line(fd.get()).find("started") != std::string::npos);
        }
        CHECK(eventually([&] { return last_stop == SIGHUP; }));
    }
}

TEST_CASE("applet failures: an exception, an unknown name, a busy single-task daemon", "[library][applet]")
{
    std::atomic<bool> release{false};
    applet_daemon d({{"throws", [](pfd::applet_context&) -> int { throw std::runtime_error("out of cheese"); }},
                     {"hold",
                      [&](pfd::applet_context& ctx) {
                          while (!release && !ctx.stop_requested())
                              std::this_thread::sleep_for(std::chrono::milliseconds(2));
                          return 0;
                      }}},
                    [](pfd::server_options& o) { o.limits.sessions = 1; });
    pfd::client daemon(d.socket());

    auto thrown = daemon.run_capture({.argv = {"throws"}});
    CHECK(thrown.exit.code == 70);
    CHECK(thrown.err == "throws: out of cheese\n");

    auto unknown = refusal(daemon, {.argv = {"sh", "-c", "true"}});
    REQUIRE(unknown);
    CHECK(unknown->code() == pfd::errc::not_found);
    CHECK(std::string(unknown->what()) == "no applet 'sh' here");

    event_log log;
    std::thread holder([&] { daemon.run({.argv = {"hold"}, .fds = std::map<int, int>{}}, log.options()); });
    REQUIRE(eventually([&] { return log.pid != 0; }));
    auto busy = refusal(daemon, {.argv = {"hold"}});
    REQUIRE(busy);
    CHECK(busy->code() == pfd::errc::busy);
    release = true;
    holder.join();
    CHECK(log.names() == "accepted started exited");
}

TEST_CASE("a quick applet runs on the daemon's thread, its whole answer in one write; others get their own thread",
          "[library][applet]")
{
    std::mutex m;
    std::thread::id quick_ran_on, own_ran_on;
    auto count = [](pfd::applet_context& ctx) {
        ctx.progress("half", 50);
        ctx.out("counted " + std::to_string(ctx.argv().size() - 1) + "\n");
        return 3;
    };
    applet_daemon d({{"quick",
                      [&](pfd::applet_context& ctx) {
                          std::lock_guard lock(m);
                          quick_ran_on = std::this_thread::get_id();
                          return count(ctx);
                      }},
                     {"quick_throws", [](pfd::applet_context&) -> int { throw std::runtime_error("out of cheese"); }},
                     {"own",
                      [&](pfd::applet_context& ctx) {
                          std::lock_guard lock(m);
                          own_ran_on = std::this_thread::get_id();
                          return count(ctx);
                      }}},
                    [](pfd::server_options& o) {
                        o.daemon.threads = 1; // so that "the daemon's thread" is one
                        o.quick_applets = {"quick", "quick_throws", "not_an_applet"};
                    });
    pfd::client daemon(d.socket());

    for (std::string name : {"quick", "own"}) {
        event_log log;
        int fds_before = open_fd_count();
        auto [out_read, out_write] = make_pipe();
        auto end =
            daemon.run({.argv = {name, "a", "b"}, .fds = std::map<int, int>{{1, out_write.get()}}}, log.options());
        out_write.reset();
        CHECK(end.code == 3);
        CHECK(read_all(out_read.get()) == "counted 2\n");
        CHECK(log.names() == "accepted started progress exited");
        CHECK(log.pid == ::getpid());
        out_read.reset();
        CHECK(eventually([&] { return open_fd_count() == fds_before; }));
    }
    {
        std::lock_guard lock(m);
        CHECK(quick_ran_on == d.thread_id());
        CHECK(own_ran_on != d.thread_id());
    }

    auto thrown = daemon.run_capture({.argv = {"quick_throws"}});
    CHECK(thrown.exit.code == 70);
    CHECK(thrown.err == "quick_throws: out of cheese\n");

    // Everything from accepted to exited is there at once, in the first read.
    auto fd = send_exec(d.socket(), {"quick"});
    pollfd readable{fd.get(), POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 10000) == 1);
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    REQUIRE(n > 0);
    std::string first(buf, static_cast<std::size_t>(n));
    CHECK(first.find("{\"event\":\"accepted\"") == 0);
    CHECK(first.find("{\"event\":\"progress\"") != std::string::npos);
    CHECK(first.find("{\"event\":\"exited\"") != std::string::npos);
    CHECK(first.find("\"code\":3,") != std::string::npos);
}

TEST_CASE("an embedded server may run commands and applets side by side; stop is acknowledged", "[library][applet]")
{
    temp_dir dir;
    auto [ready_read, ready_write] = make_pipe();
    pfd::server_options o;
    o.socket_path = dir / "both.sock";
    o.applets = {{"hello", [](pfd::applet_context& ctx) { return ctx.out("hello from the daemon\n") ? 0 : 1; }}};
    o.ready_fd = ready_write.release();
    pfd::server server(std::move(o));
    std::thread serving([&] { server.run(); });
    REQUIRE(read_line(ready_read.get()) == "\n");
    pfd::client daemon(dir / "both.sock");
    CHECK(daemon.run_capture({.argv = {"hello"}}).out == "hello from the daemon\n");
    CHECK(daemon.run_capture({.argv = {"echo", "a process"}}).out == "a process\n");
    CHECK(daemon.stop());
    serving.join(); // returns: the stop was real
    CHECK_FALSE(daemon.ping());
}

TEST_CASE("the library client honours [discovery] trust_daemon_uids, as hostexec does", "[library][root]")
{
    if (::getuid() != 0 || !have_program("setpriv")) {
        WARN("skipped: needs root and setpriv to run a daemon as another uid");
        return;
    }
    temp_dir conf;
    foreign_daemon daemon;
    const std::string& socket = daemon.socket();
    pfd::command cmd{.argv = {"echo", "reached"}, .cwd = "/"};
    auto message_of = [&](auto&& attempt) -> std::string {
        try {
            attempt();
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "no error";
    };

    scoped_env no_config("XDG_CONFIG_HOME", conf.path());
    CHECK_THAT(message_of([&] { pfd::client(socket).run_capture(cmd); }),
               Catch::Contains("runs as uid 65534, not as you"));
    asio::io_context io;
    std::string async_error;
    pfd::client distrusting(socket); // awaited by reference: outlives the run
    asio::co_spawn(io, pfd::async_run_capture(distrusting, cmd), [&](std::exception_ptr e, pfd::captured) {
        async_error = message_of([&] {
            if (e) std::rethrow_exception(e);
        });
    });
    io.run();
    CHECK_THAT(async_error, Catch::Contains("runs as uid 65534, not as you"));

    ::mkdir((conf / "pfd").c_str(), 0700);
    std::ofstream(conf / "pfd/config.toml") << "[discovery]\ntrust_daemon_uids = [65534]\n";
    pfd::client trusting(socket);
    CHECK(trusting.run_capture(cmd).out == "reached\n");
    io.restart();
    std::string async_out;
    asio::co_spawn(io, pfd::async_run_capture(trusting, cmd), [&](std::exception_ptr e, pfd::captured c) {
        if (!e) async_out = c.out;
    });
    io.run();
    CHECK(async_out == "reached\n");
}

TEST_CASE("four threads, many connections at once: applets, watchers, ps, cancels and refusals", "[library][applet]")
{
    // The daemon's shared paths (session registry, watchers, connection
    // slots, the request budget) under concurrency, with applets so that no
    // process is started: what ThreadSanitizer can follow (scripts/test).
    applet_daemon d({{"count",
                      [](pfd::applet_context& ctx) {
                          for (int i = 1; i <= 5; ++i) ctx.progress("step " + std::to_string(i), i * 20);
                          return 7;
                      }},
                     {"wait", [](pfd::applet_context& ctx) { return wait_for_stop(ctx); }}},
                    [](pfd::server_options& o) {
                        o.daemon.threads = 4;
                        o.limits.buffered_bytes = 256 << 10;
                    });
    std::string watch = "{\"pfd\":1,\"op\":\"watch\"}\n";
    auto watcher = connect_raw(d.socket());
    auto stalled = connect_raw(d.socket()); // subscribes and never reads
    for (int fd : {watcher.get(), stalled.get()})
        REQUIRE(::write(fd, watch.data(), watch.size()) == static_cast<ssize_t>(watch.size()));
    REQUIRE(read_line(watcher.get()) == "{\"event\":\"watching\"}\n");

    std::atomic<int> wrong{0}, counted{0}, cancelled{0}, refused{0};
    // No Catch2 macro in the workers (it is not thread-safe): they count.
    auto ask_quietly = [&](const std::string& request, int lines) {
        auto fd = connect_raw(d.socket());
        if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) ++wrong;
        for (int i = 0; i < lines; ++i)
            if (read_line(fd.get()).empty()) ++wrong;
    };
    std::vector<std::thread> workers;
    for (int w = 0; w < 6; ++w)
        workers.emplace_back([&] {
            pfd::client daemon(d.socket());
            for (int i = 0; i < 15; ++i) {
                event_log log;
                auto end = daemon.run({.argv = {"count"}, .fds = std::map<int, int>{}}, log.options());
                bool right = end.code == 7 && log.names() == "accepted started progress progress progress "
                                                             "progress progress exited";
                (right ? counted : wrong)++;
            }
        });
    workers.emplace_back([&] { // starts applets that wait, and cancels them from another connection
        pfd::client daemon(d.socket());
        for (int i = 0; i < 10; ++i) {
            event_log log;
            pfd::captured r;
            std::thread runner([&] { r = daemon.run_capture({.argv = {"wait"}}, log.options()); });
            if (!eventually([&] { return log.pid != 0; })) ++wrong;
            ask_quietly("{\"pfd\":1,\"op\":\"ps\"}\n", 1);
            ask_quietly("{\"pfd\":1,\"op\":\"cancel\",\"id\":" + std::to_string(log.id) + "}\n", 2);
            runner.join();
            (r.exit.code == 128 + SIGTERM ? cancelled : wrong)++;
        }
    });
    workers.emplace_back([&] { // partial lines that outgrow the shared budget
        for (int i = 0; i < 10; ++i) {
            std::vector<pfd::unique_fd> hogs;
            std::string part = "{\"pfd\":1,\"op\":\"exec\",\"argv\":[\"" + std::string(100000, 'a');
            for (int h = 0; h < 4; ++h) {
                hogs.push_back(connect_raw(d.socket()));
                try {
                    pfd::send_with_fds(hogs.back().get(), part);
                } catch (const std::system_error&) {
                }
            }
            for (auto& h : hogs)
                if (auto answer = read_to_eof(h.get(), 200ms); answer && answer->find("\"limit\"") != std::string::npos)
                    ++refused;
        }
    });
    for (auto& t : workers) t.join();
    CHECK(wrong == 0);
    CHECK(counted == 90);
    CHECK(cancelled == 10);
    CHECK(refused > 0);
    // The reading watcher saw every end.
    std::string seen;
    auto exits = [&] {
        std::size_t n = 0;
        for (auto at = seen.find("\"event\":\"exited\""); at != std::string::npos;
             at = seen.find("\"event\":\"exited\"", at + 1))
            ++n;
        return n;
    };
    CHECK(eventually([&] {
        char buf[65536];
        pollfd p{watcher.get(), POLLIN, 0};
        while (::poll(&p, 1, 0) == 1) {
            auto n = ::read(watcher.get(), buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return exits() >= 100;
    }));
}
