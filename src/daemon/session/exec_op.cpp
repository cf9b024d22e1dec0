// `exec` of a process: start it, relay the client's signals and job
// control, report how it ended.

#include "pty.hpp"
#include "session_ops.hpp"
#include "spawner.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/wait.h>

#include <csignal>

#include <fmt/format.h>

namespace pfd {

using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

/// A running command as the session sees it. The pidfd is its only handle
/// until it is reaped; the process group shares its pid.
struct running_command {
    std::uint64_t id;
    pid_t pid;
    /// Shared with the session's poke (it cancels the wait on it), which
    /// may come after the command is gone.
    std::shared_ptr<asio::posix::stream_descriptor> pidfd;
    session::clock::time_point started;
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
            reap(pidfd->native_handle());
        } catch (const std::system_error&) {
        }
    }

    void signal_group(int signo) const
    {
        if (!reaped) ::kill(-pid, signo);
    }
};

/// The command's end, reaped, if it has ended. It leaves the registry while
/// still a zombie, so nobody signals a pid that could have been reused.
std::optional<exit_status> reap_if_ended(running_command& cmd)
{
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(cmd.pidfd->native_handle()), &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
        info.si_pid == 0)
        return std::nullopt;
    cmd.registry.remove(cmd.id);
    cmd.reaped = true;
    return reap(cmd.pidfd->native_handle());
}

/// Waits for the command to end and reaps it; with `report`, tells the
/// client each time it stops or continues (job control) on the way. The
/// pidfd's readiness is the quick news of the end, the daemon's SIGCHLD
/// (which pokes the sessions whose command changed: the poke cancels this
/// wait) the sure one: asio's wait on a descriptor misses an edge that
/// another thread's epoll_wait took before the wait was queued, and the
/// client would wait for an end that came. One wait, not a race of two: the
/// end reaches the client a few scheduler rounds sooner.
awaitable<exit_status> command_exit(session& s, running_command& cmd, bool report)
{
    for (;;) {
        if (auto status = reap_if_ended(cmd)) co_return *status;
        siginfo_t info{};
        while (report &&
               ::waitid(P_PIDFD, static_cast<id_t>(cmd.pidfd->native_handle()), &info,
                        WSTOPPED | WCONTINUED | WNOHANG) == 0 &&
               info.si_pid != 0) {
            if (info.si_code == CLD_STOPPED || info.si_code == CLD_TRAPPED)
                co_await s.emit(encode_event(stopped_event{cmd.id, info.si_status}));
            else if (info.si_code == CLD_CONTINUED)
                co_await s.emit(encode_event(continued_event{cmd.id}));
            info = {};
        }
        auto [ec] = co_await cmd.pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                                                   asio::experimental::as_tuple(use_awaitable));
        // Cancelled by the poke: look again. Cancelled by `||` (the client
        // went first): this branch is over.
        if (ec && (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            throw std::system_error(ec);
    }
}

/// The command's end, told to the client as soon as it is known: inside
/// the race with read_control, not after it (`||` first cancels the other
/// branch and waits for it).
awaitable<void> report_exit(session& s, running_command& cmd)
{
    auto status = co_await command_exit(s, cmd, true);
    co_await s.emit(encode_event(make_exited(cmd.id, cmd.started, status)));
}

/// The lowest descriptor number above 2 that the client's do not take.
int free_descriptor(const std::vector<int>& taken)
{
    int n = 3;
    while (std::find(taken.begin(), taken.end(), n) != taken.end()) ++n;
    return n;
}

/// `terminal`: the number the command's controlling terminal has in it, if
/// it gets one.
spawn_spec make_spawn_spec(exec_request& req, const admission& admitted, const std::vector<unique_fd>& fds,
                           std::optional<int> terminal, const server_options& options)
{
    const program_launch& launch = *admitted.launch;
    spawn_spec spec;
    spec.name = req.argv[0];
    bool by_name = !launch.stable_name.empty();
    set_program(spec, launch, std::move(req.argv));
    for (std::size_t i = 0; i < fds.size(); ++i) spec.fds.emplace_back(fds[i].get(), req.fds[i]);
    if (terminal && !options.session_helper.empty() && by_name) {
        // pfd-session --tty-fd=N PROGRAM ARGV0 [ARG...]: a name only root
        // could make mean another file (program_launch.hpp).
        spec.argv.insert(spec.argv.begin(),
                         {options.session_helper, fmt::format("--tty-fd={}", *terminal), launch.stable_name});
        spec.program = options.session_helper;
        spec.shell_argv.clear();
    } else if (terminal && !options.session_helper.empty()) {
        // pfd-session --tty-fd=N --exec-fd=M [--sh-fd=K --sh-name=NAME] ARGV0 [ARG...]:
        // it runs the very files we opened and judged, handed down at numbers
        // the command's own descriptors do not take.
        std::vector<int> taken = req.fds;
        std::vector<std::string> helper{options.session_helper, fmt::format("--tty-fd={}", *terminal)};
        auto hand_down = [&](int fd, const char* flag) {
            int at = free_descriptor(taken);
            taken.push_back(at);
            spec.fds.emplace_back(fd, at);
            helper.push_back(fmt::format("{}{}", flag, at));
        };
        hand_down(spec.program_fd, "--exec-fd=");
        if (launch.shell) {
            hand_down(spec.shell_fd, "--sh-fd=");
            helper.push_back("--sh-name=" + launch.chain.front().name);
        }
        spec.argv.insert(spec.argv.begin(), helper.begin(), helper.end());
        spec.program = options.session_helper;
        spec.program_fd = spec.shell_fd = -1;
        spec.shell_argv.clear();
    }
    const working_directory& dir = admitted.directory;
    spec.cwd = dir.host_path.empty() ? std::move(req.cwd) : dir.host_path;
    spec.cwd_fd = dir.fd.get();
    if (!dir.host_path.empty()) spec.cwd_identity = dir.host_identity;
    spec.umask = req.umask;
    spec.new_session = terminal.has_value();
    spec.controlling_terminal = terminal.value_or(-1);
    spec.nofile = original_nofile_limit();
    // The daemon killed outright (SIGKILL, OOM): its commands are hung up
    // as when their client goes, not left running with nobody to report to.
    spec.parent_death_signal = options.exec.hangup_signal;
    spec.env = std::move(req.env); // already through the policy (admit)
    return spec;
}

/// The command's terminal, opened here so that it is one the host can name:
/// the client's size and modes, or the kernel's without echo (its input is
/// no terminal). Throws std::system_error.
pty_pair open_terminal(const exec_request& req)
{
    winsize size{req.rows, req.cols, 0, 0};
    std::optional<termios> modes;
    if (req.modes) modes = termios_of(*req.modes);
    pty_pair pty = open_pty(modes ? &*modes : nullptr, req.rows || req.cols ? &size : nullptr);
    termios t{};
    if (!req.modes && ::tcgetattr(pty.slave.get(), &t) == 0) {
        t.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHONL));
        ::tcsetattr(pty.slave.get(), TCSANOW, &t);
    }
    return pty;
}

/// Makes the terminal's slave the command's 0, 1 and 2 (`tty`), or only
/// its controlling terminal at a number of its own (`ctty`), and sends its
/// master to the client with `head` (the `accepted` line) and a `terminal`
/// event. The number the slave has in the command, or nothing when no
/// terminal could be made (the client was told).
asio::awaitable<std::optional<int>> hand_out_terminal(session& s, exec_request& req, std::vector<unique_fd>& fds,
                                                      std::uint64_t id, std::string head)
{
    pty_pair pty;
    std::string failure;
    std::vector<int> targets{0, 1, 2};
    if (req.ctty) targets = {free_descriptor(req.fds)};
    try {
        pty = open_terminal(req);
        for (int target : targets) {
            unique_fd copy(::fcntl(pty.slave.get(), F_DUPFD_CLOEXEC, 0));
            if (!copy) throw_errno("fcntl");
            fds.push_back(std::move(copy));
            req.fds.push_back(target);
        }
    } catch (const std::system_error& e) {
        failure = head + encode_event(error_event{errc::spawn_failed,
                                                  fmt::format("cannot open a pseudo-terminal: {}", e.what())});
    }
    if (!failure.empty()) {
        s.registry().remove(id);
        co_await s.emit(std::move(failure));
        co_return std::nullopt;
    }
    std::string line = head + encode_event(terminal_event{id, pty.path});
    co_await s.emit(std::move(line), pty.master.get());
    co_return targets.front();
}

/// The `session` event watchers get before the session's `accepted`: who
/// asked for what, the argv cut as `ps` shows it (keep_argv).
std::string session_line(const session& s, const admission& admitted, const exec_request& req)
{
    auto argv = keep_argv(req.argv);
    return encode_event(
        session_event{admitted.id, s.peer().uid, s.peer().pid, std::move(argv.args), admitted.origin, argv.truncated});
}

} // namespace

exited_event make_exited(std::uint64_t id, session::clock::time_point started, const exit_status& status)
{
    exited_event ev;
    ev.id = id;
    ev.code = status.code;
    ev.signo = status.signo;
    ev.core = status.core;
    ev.duration_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(session::clock::now() - started).count());
    return ev;
}

awaitable<void> run_exec(session& s, exec_request req, std::vector<unique_fd> fds)
{
    admission admitted = admit(s, req, fds);
    if (!admitted.judged) co_await judge_off_loop(s, admitted, req);
    s.watchers().publish_to_watchers(s.peer().uid, [&] { return session_line(s, admitted, req); });
    std::string head = encode_event(accepted_event{admitted.id});
    std::optional<int> terminal;
    // A controlling terminal only goes through pfd-session, which holds it
    // open for the command; without one the daemon runs the command as if
    // no terminal had been asked for.
    if (req.ctty && (s.options().session_helper.empty() || admitted.applet_fn)) req.ctty = false;
    if (req.tty || req.ctty) {
        terminal = co_await hand_out_terminal(s, req, fds, admitted.id, std::move(head));
        if (!terminal) co_return;
        head.clear(); // sent with the terminal
    }
    if (admitted.applet_fn) {
        co_await run_applet(s, *admitted.applet_fn, admitted.applet_quick, std::move(req), std::move(fds), admitted.id,
                            std::move(head));
        co_return;
    }
    auto executor = co_await asio::this_coro::executor;
    auto started = session::clock::now();
    bool detach = req.detach;
    child_process child;
    std::optional<error_event> failed = std::move(admitted.not_started);
    try {
        if (!failed && admitted.directory.may_hang) {
            // The child enters the directory while clone(CLONE_VFORK) holds
            // the thread that started it: that thread is the slow-starts one.
            spawn_spec spec = make_spawn_spec(req, admitted, fds, terminal, s.options());
            // Named: g++ 12 destroys a co_await's temporaries twice.
            std::function<void()> start = [&] { child = spawn(spec); };
            auto started_off_loop = s.slow_starts().run(std::move(start));
            co_await std::move(started_off_loop);
        } else if (!failed) {
            child = spawn(make_spawn_spec(req, admitted, fds, terminal, s.options()));
        }
    } catch (const spawn_error& e) {
        failed = error_event{e.code(), e.what()};
    } catch (const protocol_error& e) {
        failed = error_event{e.code(), e.what()}; // busy: too many wait for the slow-starts thread
    }
    if (failed) {
        s.registry().remove(admitted.id);
        co_await s.emit(head + encode_event(*failed));
        co_return;
    }
    fds.clear();             // the command holds them now; the daemon must not keep pipes open
    admitted.launch.reset(); // and its files: descriptors held for nothing
    // So does its argv: what the spec left of it (an empty string per
    // argument, 32 bytes each) would stay for as long as the command runs,
    // megabytes for 100,000 one-byte arguments.
    std::vector<std::string>().swap(req.argv);
    s.latency().record(std::chrono::duration_cast<std::chrono::microseconds>(session::clock::now() - s.connected()));
    // No co_await inside this initializer: g++ 12 destroys temporaries
    // living across one twice (here: the pidfd, closed twice).
    running_command cmd{admitted.id, child.pid,
                        std::make_shared<asio::posix::stream_descriptor>(executor, child.pidfd.release()), started,
                        s.registry()};
    s.registry().started(cmd.id, cmd.pid, cmd.pidfd->native_handle(),
                         s.on_strand([pidfd = std::weak_ptr(cmd.pidfd)](session&) {
                             if (auto alive = pidfd.lock()) alive->cancel();
                         }));

    co_await s.emit(head + encode_event(started_event{cmd.id, cmd.pid}));
    if (detach) {
        s.close();
        co_await command_exit(s, cmd, false);
        co_return;
    }
    std::function<void(int)> deliver = [&cmd](int signo) { cmd.signal_group(signo); };
    auto first = co_await (report_exit(s, cmd) || s.read_control(deliver));
    if (first.index() == 0) co_return;
    // The client is gone or broke the protocol: hang up on the command as a
    // terminal would (SIGCONT so a stopped group sees the SIGHUP), then reap
    // it, unless it was reaped while its end was being told.
    s.close();
    if (cmd.reaped) co_return;
    if (int hangup = s.options().exec.hangup_signal) {
        cmd.signal_group(hangup);
        cmd.signal_group(SIGCONT);
    }
    co_await command_exit(s, cmd, false);
}

} // namespace pfd
