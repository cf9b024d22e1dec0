#include "pfd/client.hpp"

#include "command_request.hpp"
#include "client_engine.hpp"
#include "config.hpp"
#include "context.hpp"
#include "background_daemon.hpp"
#include "pfd/version.hpp"
#include "unix_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

exec_plan plan_of(const command& cmd, const std::map<int, int>& fds)
{
    exec_plan plan;
    plan.request.argv = cmd.argv;
    plan.request.env = cmd.env ? *cmd.env : current_environment();
    plan.request.cwd = cmd.cwd.empty() ? current_directory() : cmd.cwd;
    plan.request.umask = current_umask();
    plan.request.client = fmt::format("libpfd/{} {}", version(), build_id());
    plan.attach(fds);
    return plan;
}

std::map<int, int> descriptors_of(const command& cmd)
{
    return cmd.fds ? *cmd.fds : std::map<int, int>{{0, 0}, {1, 1}, {2, 2}};
}

std::vector<unique_fd> capture_pipes(std::map<int, int>& fds, unique_fd& out, unique_fd& err)
{
    std::vector<unique_fd> theirs;
    for (auto [target, ours] : {std::pair{1, &out}, std::pair{2, &err}}) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2");
        ours->reset(p[0]);
        theirs.emplace_back(p[1]);
        fds[target] = p[1];
    }
    return theirs;
}

namespace {

/// Reads what is there into `out`; false at end of file.
bool drain(int fd, std::string& out)
{
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) return false;
        if (errno != EINTR) throw_errno("read");
    }
}

/// One run: the request, then events (and `outputs`, the capture pipes,
/// until their end) until `exited`. `theirs`, the command's ends of those
/// pipes, is closed once sent: only the command may hold them.
exited_event run_on(daemon_connection& conn, const exec_plan& plan, const run_options& options,
                    std::vector<std::pair<unique_fd, std::string*>> outputs = {}, std::vector<unique_fd> theirs = {})
{
    std::vector<int> forwarded;
    if (options.forward_signals) forwarded.assign(std::begin(terminating_signals), std::end(terminating_signals));
    exec_run run(conn, plan, std::move(forwarded));
    theirs.clear();
    std::optional<exited_event> exited;
    std::vector<pollfd> pipes;
    for (;;) {
        std::erase_if(outputs, [](auto& o) { return !o.first; });
        if (exited && outputs.empty()) return *exited;
        pipes.clear();
        for (auto& o : outputs) pipes.push_back({o.first.get(), POLLIN, 0});
        auto next = run.next(pipes);
        if (std::holds_alternative<exec_run::connection_lost>(next))
            throw std::runtime_error(
                fmt::format("the daemon on '{}' closed the connection before the command ended", conn.path()));
        if (auto* ev = std::get_if<event>(&next)) {
            if (options.on_event) options.on_event(*ev);
            if (auto* end = std::get_if<exited_event>(ev)) exited = *end;
        }
        for (std::size_t i = 0; i < pipes.size(); ++i)
            if (pipes[i].revents && !drain(outputs[i].first.get(), *outputs[i].second)) outputs[i].first.reset();
    }
}

} // namespace

/// The connection that found the daemon (connect_or_start): connecting
/// again for the first request was a second accept and session in the
/// daemon before anything could run (~0.1 ms of every democli call).
struct kept_connection {
    std::atomic<int> fd;
    std::chrono::steady_clock::time_point made = std::chrono::steady_clock::now();
    /// A child forked since has the descriptor too, but it is the parent's:
    /// two processes writing requests on one connection would garble both.
    pid_t owner = ::getpid();

    explicit kept_connection(unique_fd sock) : fd(sock.release()) {}
    ~kept_connection()
    {
        if (int f = fd.exchange(-1); f >= 0) ::close(f);
    }
};

daemon_connection client_connection::connection(const client& c)
{
    if (c.kept_ && c.kept_->owner == ::getpid()) {
        unique_fd sock(c.kept_->fd.exchange(-1));
        // Taken only well within the daemon's request timeout (5 s unless
        // configured lower), and while it has said nothing: an error line
        // or its end would make the socket readable.
        pollfd p{sock.get(), POLLIN, 0};
        bool fresh = std::chrono::steady_clock::now() - c.kept_->made < std::chrono::seconds(1);
        if (sock && fresh && ::poll(&p, 1, 0) == 0) return daemon_connection(c.socket_, std::move(sock), c.trusted_);
    }
    return daemon_connection(c.socket_, c.trusted_);
}

client::client(std::string socket_path)
    : client(std::move(socket_path), load_config(default_config_files()).discovery.trust_daemon_uids)
{
}

client::client(std::string socket_path, std::vector<uid_t> trusted_daemon_uids)
    : socket_(std::move(socket_path)), trusted_(std::move(trusted_daemon_uids))
{
}

client client::discover()
{
    context ctx = resolve_context({}, {});
    return client(ctx.where.socket, ctx.cfg.discovery.trust_daemon_uids);
}

client client::connect_or_start(std::string socket_path, std::vector<std::string> daemon_argv,
                                std::chrono::milliseconds timeout)
{
    try {
        unique_fd sock = connect_unix(socket_path);
        client found(std::move(socket_path));
        found.kept_ = std::make_shared<kept_connection>(std::move(sock));
        return found;
    } catch (const std::system_error&) {
    }
    if (daemon_argv.empty()) throw std::invalid_argument("connect_or_start: no daemon command given");
    std::string log = log_file_for(socket_path);
    auto outcome = start_in_background(socket_path, lock_file_for(socket_path), log, timeout, [&](int ready_fd) {
        // In the daemon-to-be: single-threaded, between fork and exec.
        std::vector<char*> argv;
        for (auto& a : daemon_argv) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::fcntl(ready_fd, F_SETFD, 0);
        ::setenv("PFD_READY_FD", std::to_string(ready_fd).c_str(), 1);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(argv[0], argv.data());
        std::fprintf(stderr, "cannot run '%s': %s\n", argv[0], std::strerror(errno));
        return 127;
    });
    if (outcome == start_outcome::not_ready)
        throw std::runtime_error(
            fmt::format("the daemon '{}' did not start on '{}'; see {}", daemon_argv[0], socket_path, log));
    return client(std::move(socket_path));
}

exited_event client::run(const command& cmd, const run_options& options) const
{
    auto plan = plan_of(cmd, descriptors_of(cmd));
    daemon_connection conn = client_connection::connection(*this);
    return run_on(conn, plan, options);
}

captured client::run_capture(const command& cmd, const run_options& options) const
{
    captured result;
    auto fds = descriptors_of(cmd);
    unique_fd out, err;
    auto theirs = capture_pipes(fds, out, err);
    auto plan = plan_of(cmd, fds);
    daemon_connection conn = client_connection::connection(*this);
    std::vector<std::pair<unique_fd, std::string*>> outputs;
    outputs.emplace_back(std::move(out), &result.out);
    outputs.emplace_back(std::move(err), &result.err);
    result.exit = run_on(conn, plan, options, std::move(outputs), std::move(theirs));
    return result;
}

namespace {

/// True when the daemon answers `req` with an event of type `Expected`.
template <typename Expected>
bool answered(const client& c, const request& req) noexcept
{
    try {
        return std::holds_alternative<Expected>(client_connection::connection(c).ask(req));
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace

bool client::ping() const noexcept
{
    return answered<pong_event>(*this, ping_request{});
}
bool client::stop() const noexcept
{
    return answered<stopping_event>(*this, stop_request{});
}

} // namespace pfd
