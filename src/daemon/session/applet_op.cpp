// `exec` of an applet: the same events as a process, plus `progress`. The
// applet runs on its own thread (applet_runner); this relays its reports
// and the client's signals until it returns. A quick applet runs here, and
// its whole answer goes in one write.

#include "applet_runner.hpp"
#include "session_ops.hpp"

#include <asio/experimental/awaitable_operators.hpp>

#include <unistd.h>

namespace pfd {

using asio::awaitable;
using namespace asio::experimental::awaitable_operators;

awaitable<void> run_applet(session& s, const applet& fn, bool quick, exec_request req, std::vector<unique_fd> fds,
                           std::uint64_t id, std::string head)
{
    auto started = session::clock::now();
    applet_call call{id, std::move(req.argv), std::move(req.env), std::move(req.cwd), s.peer().uid, s.peer().pid, {}};
    for (std::size_t i = 0; i < fds.size(); ++i) call.fds.emplace_back(req.fds[i], std::move(fds[i]));
    // Started now (a quick applet is over when its runner is made).
    s.latency().record(std::chrono::duration_cast<std::chrono::microseconds>(session::clock::now() - s.connected()));
    applet_runner runner(fn, std::move(call), s.waker(), quick ? applet_thread::caller : applet_thread::own);
    // Declared after the runner, so it leaves the registry (which may call
    // into the runner) before the runner goes.
    struct registered {
        session_registry& registry;
        std::uint64_t id;
        ~registered() { registry.remove(id); }
    } in_registry{s.registry(), id};
    s.registry().started(id, ::getpid(), -1, s.waker(), [&runner](int signo) { return runner.deliver(signo); });
    std::string answer = std::move(head) + encode_event(started_event{id, ::getpid()});
    if (quick) { // over already: started, what it reported, exited
        for (auto& report : runner.take_progress()) answer += encode_event(report);
        s.registry().remove(id);
        answer += encode_event(make_exited(id, started, exit_status{*runner.result(), 0, false}));
        co_await s.emit(std::move(answer));
        co_return;
    }
    co_await s.emit(std::move(answer));

    bool client_here = !req.detach;
    if (!client_here) s.close();
    std::function<void(int)> deliver = [&runner](int signo) { runner.deliver(signo); };
    std::optional<int> code;
    for (;;) {
        code = runner.result(); // before the progress: none may come after it
        for (auto& report : runner.take_progress()) {
            std::string line = encode_event(report);
            co_await s.emit(std::move(line));
        }
        if (code) break;
        if (client_here) {
            auto woke = co_await (s.notified() || s.read_control(deliver));
            if (woke.index() == 1) {
                // Gone or broke the protocol: hang up, as for a command.
                client_here = false;
                s.close();
                if (s.options().exec.hangup_signal) runner.deliver(s.options().exec.hangup_signal);
            }
        } else {
            co_await s.notified();
        }
    }
    s.registry().remove(id);
    std::string line = encode_event(make_exited(id, started, exit_status{*code, 0, false}));
    co_await s.emit(std::move(line));
}

} // namespace pfd
