// The daemon's life as the server carries it out: stop, hand-over and
// reload decided by daemon_life (daemon_life.hpp's table), done here on the
// `control` strand.

#include "server_impl.hpp"

#include "daemon_status.hpp"
#include "log.hpp"
#include "systemd_notify.hpp"
#include "pfd/version.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;

awaitable<std::string> server::impl::reload()
{
    co_return co_await asio::co_spawn(control, on_control([this] { return reload_config(); }), use_awaitable);
}

awaitable<std::string> server::impl::restart()
{
    co_return co_await asio::co_spawn(control, on_control([this] { return hand_over(); }), use_awaitable);
}

void server::impl::stop(unique_fd asker, std::optional<std::chrono::milliseconds> grace)
{
    asio::post(control, [this, asker = std::move(asker), grace]() mutable { stop_asked(std::move(asker), grace); });
}

void server::impl::client_build_seen(std::string_view build)
{
    if (build.empty() || build == build_id() || options.executable.empty()) return;
    struct stat on_disk {
    }, running{};
    if (::stat(options.executable.c_str(), &on_disk) < 0 || ::stat("/proc/self/exe", &running) < 0) return;
    if (on_disk.st_ino == running.st_ino && on_disk.st_dev == running.st_dev) return;
    asio::post(control, [this, disk = std::pair(on_disk.st_dev, on_disk.st_ino), build = std::string(build)] {
        if (upgrade_failed == disk) return;
        log(log_level::info, "a client of build {} and a new '{}' on disk: replacing this daemon", build,
            options.executable);
        hand_over();
    });
}

status_event server::impl::status() const
{
    status_event s = daemon_status(registry, latency, options.socket_path, started_at);
    s.environment = environment_source(*current());
    return s;
}

std::string server::impl::reload_config()
{
    if (!options.reload) return "this daemon was started without a configuration to reload";
    if (!has(life.reload(), life_action::apply_config)) return {};
    try {
        auto next = std::make_shared<const server_options>(
            server_options{options.reload(), static_cast<const server_wiring&>(options)});
        std::lock_guard swap(live_mutex);
        live = std::move(next);
        upgrade_failed.reset(); // what kept a successor from serving may be mended
        log(log_level::info, "configuration reloaded");
        return {};
    } catch (const std::exception& e) {
        log(log_level::error, "reload failed, keeping the running configuration: {}", e.what());
        return std::string("reload failed, keeping the running configuration: ") + e.what();
    }
}

std::string server::impl::hand_over()
{
    if (!options.hand_over) return "this daemon cannot hand its socket over";
    switch (life.may_hand_over()) {
    case hand_over_answer::already:
        return {};
    case hand_over_answer::stopping:
        return "this daemon is stopping";
    case hand_over_answer::go:
        break;
    }
    if (predecessor) {
        pollfd gone{predecessor.get(), POLLIN, 0};
        if (::poll(&gone, 1, 0) != 1)
            return "the previous daemon is still finishing its commands; restart again once it has ended";
        predecessor.reset();
    }
    pid_t successor;
    try {
        successor = options.hand_over(acceptor.native_handle());
    } catch (const std::exception& e) {
        struct stat on_disk {};
        if (::stat(options.executable.c_str(), &on_disk) == 0)
            upgrade_failed = std::pair(on_disk.st_dev, on_disk.st_ino);
        log(log_level::error, "restart failed, still serving: {}", e.what());
        return std::string("restart failed, still serving: ") + e.what();
    }
    log(log_level::info, "handed the socket to pid {}; finishing running commands", successor);
    carry_out(life.handed_over(registry.size()));
    return {};
}

void server::impl::stop_asked(unique_fd asker, std::optional<std::chrono::milliseconds> grace)
{
    auto running = registry.size();
    auto actions = life.request_stop(grace.value_or(current()->limits.stop_grace), stopper::asker, running);
    stop_askers.push_back(std::move(asker));
    std::string answer = encode_event(stopping_event{::getpid(), static_cast<std::uint64_t>(running),
                                                     static_cast<std::uint64_t>(life.grace().count())});
    [[maybe_unused]] auto n =
        ::send(stop_askers.back().get(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    carry_out(actions); // may run to the end at once: the asker is listed and answered first
}

void server::impl::tell_askers(const event& ev)
{
    std::string line = encode_event(ev);
    for (auto& asker : stop_askers)
        [[maybe_unused]] auto n = ::send(asker.get(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void server::impl::carry_out(life_action a)
{
    using enum life_action;
    if (has(a, close_acceptor)) {
        asio::error_code ignored;
        acceptor.close(ignored);
    }
    if (has(a, remove_socket)) {
        notify_systemd("STOPPING=1");
        listener->remove_file();
        log(log_level::info, "stopping: {} command(s) running get {} ms", registry.size(), life.grace().count());
    }
    if (has(a, leave_socket)) listener->leave_file();
    if (has(a, terminate)) {
        auto signalled = registry.signal_all(SIGTERM);
        registry.signal_all(SIGCONT);
        tell_askers(stop_step_event{stop_step::term, signalled});
        log(log_level::info, "stopping: SIGTERM sent to {} command(s)", signalled);
    }
    if (has(a, kill)) {
        auto killed = registry.signal_all(SIGKILL);
        tell_askers(stop_step_event{stop_step::kill, killed});
        log(log_level::info, "stopping: SIGKILL sent to {} command(s)", killed);
    }
    if (has(a, tell_ended)) tell_askers(stop_step_event{stop_step::ended, 0});
    if (has(a, wait)) wait_from = std::chrono::steady_clock::now();
    if (has(a, wait) || has(a, shorten_wait)) arm_wait();
    if (has(a, finish)) {
        drained.cancel();
        signals.cancel(); // the io_context runs out of work
        // Once the commands are gone or killed; a watcher may miss the
        // `exited` of a command killed at the end.
        watchers.drop_all();
    }
}

void server::impl::arm_wait()
{
    if (life.state() == life_state::retiring) return;
    drained.expires_at(wait_from + life.grace());
    drained.async_wait([this, number = ++wait_number](asio::error_code ec) {
        if (!ec && number == wait_number) carry_out(life.wait_over(registry.size()));
    });
}

awaitable<void> server::impl::signal_loop()
{
    // A stop may end inline, before this loop waits again: the state,
    // not the cancel, ends the loop.
    while (life.state() != life_state::stopped) {
        auto [ec, signo] = co_await signals.async_wait(as_tuple(use_awaitable));
        if (ec) co_return;
        switch (signo) {
        case SIGCHLD:
            registry.poke_changed();
            break;
        case SIGHUP:
            reload_config();
            break;
        case SIGINT:
        case SIGTERM:
            carry_out(life.request_stop(current()->limits.stop_grace, stopper::signal, registry.size()));
            break;
        }
    }
}
} // namespace pfd
