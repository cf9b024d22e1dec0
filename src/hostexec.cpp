#include "pfd/hostexec.hpp"

#include "client_support.hpp"
#include "pfd/client_connection.hpp"
#include "pfd/config.hpp"
#include "pfd/context.hpp"
#include "pfd/discovery.hpp"
#include "pfd/hostexec_options.hpp"
#include "pfd/pty.hpp"
#include "pfd/shim.hpp"
#include "pfd/signals.hpp"
#include "pfd/unix_socket.hpp"
#include "pfd/version.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

namespace pfd {

namespace {

// hostexec's own failures, as env(1), timeout(1) and podman report them.
constexpr int exit_failure = 125;
constexpr int exit_not_executable = 126;
constexpr int exit_not_found = 127;

/// Signals that reach the command's process group instead of hostexec.
constexpr int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/// A failure of hostexec itself: message and exit status.
struct failure {
    int status;
    std::string message;
};

/// The working directory, as hostexec reports failing to find it.
std::string working_directory()
{
    try {
        return current_directory();
    } catch (const std::system_error& e) {
        throw failure{exit_failure, e.what()};
    }
}

std::string_view name_of(std::string_view entry)
{
    return entry.substr(0, entry.find('='));
}

/// The command's environment: ours (one entry per name, the first, as getenv
/// sees it) or none with --clear-env, then --unset-env, then --env.
std::vector<std::string> command_environment(const hostexec_options& o)
{
    std::vector<std::string> env;
    if (!o.clear_env) env = current_environment();
    auto remove = [&](std::string_view name) {
        std::erase_if(env, [&](const std::string& e) { return name_of(e) == name; });
    };
    for (auto& name : o.unset_env) remove(name);
    for (auto& entry : o.set_env) {
        remove(name_of(entry));
        env.push_back(entry);
    }
    if (!o.shim.empty()) {
        remove(shim_guard_variable);
        env.push_back(fmt::format("{}={}", shim_guard_variable, o.shim));
    }
    return env;
}

/// Ends this process the way the command ended: same signal, no core dump.
[[noreturn]] void die_of(int signo)
{
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(signo, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo);
    ::_exit(128 + signo); // a signal whose default is not to terminate
}

/// Stops this process with `signo` as a local job would stop; returns once
/// continued (SIGCONT from the shell's `fg`).
void stop_self(int signo)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::signal(signo, SIG_DFL);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo == SIGSTOP ? SIGSTOP : signo);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int status_for(errc code)
{
    switch (code) {
    case errc::not_found:
        return exit_not_found;
    case errc::not_executable:
        return exit_not_executable;
    default:
        return exit_failure;
    }
}

/// After a failed send: the error event the daemon sent before it closed.
std::optional<error_event> read_refusal(client_connection& conn) noexcept
{
    try {
        for (;;) {
            while (auto line = conn.buffered_line()) {
                event ev = parse_event(*line);
                if (auto* error = std::get_if<error_event>(&ev)) return *error;
            }
            if (!conn.read_some()) return std::nullopt;
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

/// Programs that hand work to something long-lived and return ([exec]
/// no_tty; by default host-spawn's and distrobox's list): given a pty, what
/// they start would die with it. They run without one unless -t is given.
bool wants_tty(const hostexec_options& o, const config& cfg)
{
    if (o.detach || o.tty == tty_mode::never) return false;
    if (o.tty == tty_mode::always) return true;
    if (!::isatty(0) || !::isatty(1)) return false;
    std::string_view program = o.command[0];
    program = program.substr(program.rfind('/') + 1);
    return std::find(cfg.no_tty.begin(), cfg.no_tty.end(), program) == cfg.no_tty.end();
}

/// The local side of pseudo-terminal mode: the pty, the raw local
/// terminal and the relay between them.
struct terminal_session {
    pty_pair pty;
    std::optional<scoped_raw_mode> raw;
    std::optional<pty_relay> relay;

    terminal_session()
    {
        termios modes{};
        const termios* from = nullptr;
        if (::tcgetattr(0, &modes) == 0) from = &modes;
        auto size = terminal_size(1);
        if (!size) size = terminal_size(0);
        pty = open_pty(from, size ? &*size : nullptr);
        if (!from) {
            // stdin is not a terminal (e.g. a pipe): do not echo what is piped in.
            termios t{};
            if (::tcgetattr(pty.slave.get(), &t) == 0) {
                t.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHONL));
                ::tcsetattr(pty.slave.get(), TCSANOW, &t);
            }
        }
    }

    /// Once the slave is handed over: raw mode locally, relay running.
    void start()
    {
        termios t{};
        cc_t eof = 4; // ^D
        if (::tcgetattr(pty.slave.get(), &t) == 0) eof = t.c_cc[VEOF];
        pty.slave.reset(); // the command holds it now; EIO on the master then means "all closed"
        raw.emplace(0);
        relay.emplace(0, 1, pty.master.get(), eof);
    }

    void resize() const
    {
        auto size = terminal_size(1);
        if (!size) size = terminal_size(0);
        if (size) ::ioctl(pty.master.get(), TIOCSWINSZ, &*size);
    }
};

/// Sends the request, then relays signals (and the terminal) until the
/// command's end.
/// [discovery] fallback = "local": no daemon to be had, so the command runs
/// here, in this process, with the environment and directory it would have
/// had (descriptors are ours already).
[[noreturn]] void run_here(const hostexec_options& o, const exec_request& req)
{
    if (!o.directory.empty() && ::chdir(req.cwd.c_str()) < 0)
        throw failure{exit_failure, fmt::format("cannot change directory to '{}': {}", req.cwd, std::strerror(errno))};
    std::vector<char*> argv, envp;
    for (auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    if (errno == ENOENT) throw failure{exit_not_found, fmt::format("'{}': command not found", req.argv[0])};
    throw failure{exit_not_executable, fmt::format("'{}': {}", req.argv[0], std::strerror(errno))};
}

/// pfd next to this hostexec (an install or a build tree), else from PATH.
std::string pfd_program()
{
    std::string self = self_executable();
    std::string sibling = self.substr(0, self.rfind('/') + 1) + "pfd";
    return ::access(sibling.c_str(), X_OK) == 0 ? sibling : "pfd";
}

/// Runs `pfd start` for `where` and waits for it: it returns once the daemon
/// is ready (or has failed, having said why on our stderr).
void start_daemon(const hostexec_options& o, const discovery_result& where, const config& cfg)
{
    // Inside a container the daemon belongs on the host: [discovery]
    // autostart_command says how to get there (e.g. flatpak-spawn --host pfd start).
    std::vector<std::string> args = cfg.autostart_command;
    if (args.empty()) args = {pfd_program(), "start"};
    const std::string pfd = args[0];
    args.insert(args.end(), {"--socket", where.socket});
    if (!where.project.empty()) args.insert(args.end(), {"--project", where.project});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw failure{exit_failure, fmt::format("cannot start '{}': {}", pfd, std::strerror(errno))};
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int out = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(out, 0);
        ::dup2(2, 1); // pfd start reports on stdout; keep hostexec's stdout for the command
        ::execvp(argv[0], argv.data());
        fmt::print(stderr, "hostexec: cannot run '{}': {}\n", pfd, std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw failure{exit_failure, fmt::format("could not start a daemon on '{}'", where.socket)};
    (void)o;
}

int run(const hostexec_options& o)
{
    context ctx;
    try {
        ctx = resolve_context(o.socket, o.project);
    } catch (const std::exception& e) {
        throw failure{exit_failure, e.what()};
    }

    exec_request req;
    req.argv = o.command;
    req.env = command_environment(o);
    req.cwd = o.directory.empty() || o.directory[0] != '/' ? working_directory() : o.directory;
    if (!o.directory.empty() && o.directory[0] != '/') req.cwd += "/" + o.directory;
    req.umask = current_umask();
    req.detach = o.detach;
    req.client = fmt::format("hostexec/{} {}", version(), build_id());

    std::optional<terminal_session> terminal;
    std::map<int, int> fds; // target -> descriptor here
    if (wants_tty(o, ctx.cfg)) {
        try {
            terminal.emplace();
        } catch (const std::exception& e) {
            throw failure{exit_failure, fmt::format("cannot open a pseudo-terminal: {}", e.what())};
        }
        req.tty = true;
        for (int fd = 0; fd <= 2; ++fd) fds[fd] = terminal->pty.slave.get();
    } else {
        for (int fd = 0; fd <= 2; ++fd)
            if (::fcntl(fd, F_GETFD) >= 0) fds[fd] = fd; // closed here, closed there
    }
    for (int fd : o.forward_fds) {
        if (::fcntl(fd, F_GETFD) < 0)
            throw failure{exit_failure, fmt::format("--forward-fd={}: {}", fd, std::strerror(errno))};
        fds[fd] = fd;
    }
    std::vector<int> attached;
    for (auto [target, source] : fds) {
        req.fds.push_back(target);
        attached.push_back(source);
    }

    const std::string& path = ctx.where.socket;
    std::optional<client_connection> conn;
    try {
        conn.emplace(path);
    } catch (const std::system_error& e) {
        int err = e.code().value();
        bool nobody = err == ENOENT || err == ECONNREFUSED;
        if (nobody && ctx.cfg.fallback_local && !(o.create || ctx.cfg.autostart)) run_here(o, req);
        if (!nobody || !(o.create || ctx.cfg.autostart))
            throw failure{exit_failure, fmt::format("{} (is the pfd daemon running? -C starts one)", e.what())};
        start_daemon(o, ctx.where, ctx.cfg);
        try {
            conn.emplace(path);
        } catch (const std::exception& again) {
            throw failure{exit_failure, again.what()};
        }
    } catch (const std::exception& e) {
        throw failure{exit_failure, e.what()};
    }

    // Our descriptors go only to a daemon of our own uid (or root's) unless
    // the configuration trusts another: the kernel says who listens.
    uid_t daemon_uid = peer_of(conn->fd()).uid;
    if (daemon_uid != ::getuid() && daemon_uid != 0 &&
        std::find(ctx.cfg.trust_daemon_uids.begin(), ctx.cfg.trust_daemon_uids.end(), daemon_uid) ==
            ctx.cfg.trust_daemon_uids.end())
        throw failure{exit_failure, fmt::format("the daemon on '{}' runs as uid {}, not as you; refusing to hand it "
                                                "anything ([discovery] trust_daemon_uids)",
                                                path, daemon_uid)};

    sigset_t handled;
    sigemptyset(&handled);
    for (int s : forwarded_signals) sigaddset(&handled, s);
    for (int s : {SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGWINCH}) sigaddset(&handled, s);
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    unique_fd sigfd(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) throw failure{exit_failure, fmt::format("signalfd: {}", std::strerror(errno))};

    try {
        conn->send_exec(req, attached);
    } catch (const std::exception& e) {
        // The daemon may have refused us before reading everything: its
        // reason, if it sent one, is more useful than EPIPE.
        std::string why = e.what();
        if (auto refusal = read_refusal(*conn)) throw failure{status_for(refusal->code), refusal->message};
        throw failure{exit_failure, fmt::format("cannot send the request to '{}': {}", path, why)};
    }
    if (terminal) terminal->start();

    auto resumed = [&] {
        if (terminal) {
            terminal->raw->resume();
            terminal->resize();
        }
        conn->send_signal(SIGCONT);
    };

    std::uint64_t id = 0;
    std::vector<pollfd> pfds;
    for (;;) {
        while (auto line = conn->buffered_line()) {
            if (o.json) fmt::print(stderr, "{}\n", *line);
            event ev;
            try {
                ev = parse_event(*line);
            } catch (const protocol_error& e) {
                throw failure{exit_failure, fmt::format("unexpected answer from the daemon: {}", e.what())};
            }
            if (auto* accepted = std::get_if<accepted_event>(&ev)) id = accepted->id;
            if (std::holds_alternative<started_event>(ev) && o.detach) {
                fmt::print("{}\n", id);
                return 0;
            }
            if (auto* stopped = std::get_if<stopped_event>(&ev)) {
                // The command stopped (Ctrl-Z, SIGTTIN...): stop with it, as a
                // local job would, and resume it when we are resumed.
                // With a terminal the session leader (pfd-session) reports
                // the command's stop as SIGSTOP; Ctrl-Z is what stopped it.
                int signo = terminal && stopped->signo == SIGSTOP ? SIGTSTP : stopped->signo;
                if (terminal) terminal->raw->suspend();
                stop_self(signo);
                resumed();
            }
            if (auto* exited = std::get_if<exited_event>(&ev)) {
                if (terminal) {
                    terminal->relay->drain(50);
                    terminal.reset(); // local modes restored before we go
                }
                if (exited->code) return *exited->code;
                die_of(exited->signo);
            }
            if (auto* error = std::get_if<error_event>(&ev)) throw failure{status_for(error->code), error->message};
        }
        pfds.assign({{conn->fd(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}});
        if (terminal) terminal->relay->add_poll(pfds);
        if (::poll(pfds.data(), pfds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw failure{exit_failure, fmt::format("poll: {}", std::strerror(errno))};
        }
        if (pfds[1].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(sigfd.get(), &info, sizeof info) == sizeof info) {
                int signo = static_cast<int>(info.ssi_signo);
                if (signo == SIGWINCH) {
                    if (terminal) terminal->resize();
                } else if (signo == SIGCONT) {
                    resumed();
                } else {
                    // TSTP/TTIN/TTOU too: the command stops, and we stop
                    // when the daemon says it did.
                    conn->send_signal(signo);
                }
            }
        }
        if (terminal) terminal->relay->handle(pfds, 2);
        if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            bool open;
            try {
                open = conn->read_some();
            } catch (const std::exception& e) {
                throw failure{exit_failure, e.what()};
            }
            if (!open) {
                if (terminal) terminal->relay->drain(50);
                throw failure{exit_failure, "lost the connection to the daemon before the command ended"};
            }
        }
    }
}

/// A shim started by pfd for its own name is on the daemon's side already:
/// run the real program from PATH, never the daemon again.
[[noreturn]] void run_real_program(const hostexec_options& o)
{
    const char* path = std::getenv("PATH");
    auto real = find_real_program(o.shim, path ? path : "/usr/local/bin:/usr/bin:/bin", self_executable());
    if (!real)
        throw failure{exit_not_found,
                      fmt::format("{}: no program of that name besides shims of hostexec in PATH", o.shim)};
    ::unsetenv(shim_guard_variable);
    std::vector<char*> argv;
    for (auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(real->c_str(), argv.data());
    throw failure{errno == ENOENT ? exit_not_found : exit_not_executable,
                  fmt::format("{}: {}", *real, std::strerror(errno))};
}

} // namespace

int hostexec_main(int argc, char** argv)
{
    try {
        auto action = parse_hostexec_args(argc, argv);
        if (std::holds_alternative<print_help>(action)) {
            fmt::print("{}", hostexec_usage());
            return 0;
        }
        if (std::holds_alternative<print_version>(action)) {
            fmt::print("hostexec {} ({})\n", version(), build_id());
            return 0;
        }
        if (auto* shims = std::get_if<install_shims_request>(&action)) {
            try {
                install_shims(shims->dir, shims->names, self_executable());
            } catch (const std::exception& e) {
                throw failure{exit_failure, e.what()};
            }
            return 0;
        }
        auto& o = std::get<hostexec_options>(action);
        if (!o.shim.empty()) {
            const char* guard = std::getenv(shim_guard_variable);
            if (guard && o.shim == guard) run_real_program(o);
        }
        return run(o);
    } catch (const usage_error& e) {
        fmt::print(stderr, "hostexec: {}\n", e.message);
        return exit_failure;
    } catch (const failure& f) {
        fmt::print(stderr, "hostexec: {}\n", f.message);
        return f.status;
    }
}

} // namespace pfd
