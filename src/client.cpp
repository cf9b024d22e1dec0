#include "pfd/client.hpp"

#include "client_support.hpp"
#include "pfd/client_connection.hpp"
#include "pfd/context.hpp"
#include "pfd/lifecycle.hpp"
#include "pfd/unix_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

constexpr int forwardable_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/// While alive, the forwardable signals wait in a signalfd instead of
/// acting on this process; the previous mask comes back after.
class forwarded_signals {
public:
    forwarded_signals()
    {
        sigset_t set;
        sigemptyset(&set);
        for (int s : forwardable_signals) sigaddset(&set, s);
        ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
        fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!fd_) {
            ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
            throw_errno("signalfd");
        }
    }
    ~forwarded_signals() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    forwarded_signals(const forwarded_signals&) = delete;
    forwarded_signals& operator=(const forwarded_signals&) = delete;

    int fd() const noexcept { return fd_.get(); }

    /// The next pending signal, 0 if none.
    int next() const noexcept
    {
        signalfd_siginfo info{};
        return ::read(fd_.get(), &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
    }

private:
    sigset_t previous_;
    unique_fd fd_;
};

unique_fd pipe_end(unique_fd& other_end)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2");
    other_end.reset(p[1]);
    return unique_fd(p[0]);
}

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

/// One run over `conn`: sends the request, then reads events (and
/// `outputs`, the capture pipes, until their end) until `exited`.
exited_event run_on(client_connection& conn, const std::string& path, const prepared_run& run,
                    const run_options& options, std::vector<std::pair<unique_fd, std::string*>> outputs = {},
                    std::vector<unique_fd> close_after_send = {})
{
    check_daemon_owner(conn.fd(), path);
    std::optional<forwarded_signals> signals;
    if (options.forward_signals) signals.emplace();
    try {
        conn.send_exec(run.request, run.attached);
    } catch (const std::system_error&) {
        // The daemon may have refused before reading it all: its reason then.
        while (conn.read_some())
            while (auto line = conn.buffered_line()) take_event(*line, options);
        throw;
    }
    close_after_send.clear(); // the command's ends of the pipes: only it may hold them
    std::optional<exited_event> exited;
    for (;;) {
        while (!exited)
            if (auto line = conn.buffered_line())
                exited = take_event(*line, options);
            else
                break;
        std::erase_if(outputs, [](auto& o) { return !o.first; });
        if (exited && outputs.empty()) return *exited;
        std::vector<pollfd> p;
        if (!exited) p.push_back({conn.fd(), POLLIN, 0});
        for (auto& o : outputs) p.push_back({o.first.get(), POLLIN, 0});
        if (signals) p.push_back({signals->fd(), POLLIN, 0});
        if (::poll(p.data(), p.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        std::size_t i = 0;
        if (!exited && p[i++].revents && !conn.read_some())
            throw std::runtime_error(fmt::format("the daemon on '{}' closed the connection before the command ended",
                                                 path));
        for (auto& o : outputs)
            if (p[i++].revents && !drain(o.first.get(), *o.second)) o.first.reset();
        if (signals && p[i].revents)
            while (int signo = signals->next()) conn.send_signal(signo);
    }
}

} // namespace

client::client(std::string socket_path) : socket_(std::move(socket_path)) {}

client client::discover()
{
    return client(resolve_context({}, {}).where.socket);
}

client client::connect_or_start(std::string socket_path, std::vector<std::string> daemon_argv,
                                std::chrono::milliseconds timeout)
{
    try {
        connect_unix(socket_path);
        return client(std::move(socket_path));
    } catch (const std::system_error&) {
    }
    if (daemon_argv.empty()) throw std::invalid_argument("connect_or_start: no daemon command given");
    std::string log = log_file_for(socket_path);
    bool ready = start_in_background(socket_path, lock_file_for(socket_path), log, timeout, [&](int ready_fd) {
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
    if (!ready)
        throw std::runtime_error(
            fmt::format("the daemon '{}' did not start on '{}'; see {}", daemon_argv[0], socket_path, log));
    return client(std::move(socket_path));
}

exited_event client::run(const command& cmd, const run_options& options) const
{
    client_connection conn(socket_);
    return run_on(conn, socket_, prepare_run(cmd, descriptor_plan(cmd)), options);
}

captured client::run_capture(const command& cmd, const run_options& options) const
{
    captured result;
    std::vector<unique_fd> theirs(2);
    std::vector<std::pair<unique_fd, std::string*>> outputs;
    outputs.emplace_back(pipe_end(theirs[0]), &result.out);
    outputs.emplace_back(pipe_end(theirs[1]), &result.err);
    auto plan = descriptor_plan(cmd);
    plan[1] = theirs[0].get();
    plan[2] = theirs[1].get();
    client_connection conn(socket_);
    result.exit = run_on(conn, socket_, prepare_run(cmd, plan), options, std::move(outputs), std::move(theirs));
    return result;
}

namespace {

/// Sends a request without arguments; true when the first answer is the
/// event `expected`.
bool answered(const std::string& socket, std::string_view op, std::string_view expected) noexcept
{
    try {
        std::string line = client_connection(socket).request(op);
        if (line.empty()) return false;
        auto ev = parse_event(line);
        auto* other = std::get_if<other_event>(&ev);
        return other && other->name == expected;
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace

bool client::ping() const noexcept { return answered(socket_, "ping", "pong"); }
bool client::stop() const noexcept { return answered(socket_, "stop", "stopping"); }

} // namespace pfd
