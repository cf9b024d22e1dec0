#include "pfd/hostexec.hpp"

#include "pfd/client.hpp"
#include "pfd/discovery.hpp"
#include "pfd/signals.hpp"
#include "pfd/version.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace pfd {

namespace {

// hostexec's own failures, as env(1), timeout(1) and podman report them.
constexpr int exit_failure = 125;
constexpr int exit_not_executable = 126;
constexpr int exit_not_found = 127;

/// Signals that reach the command's process group instead of hostexec.
constexpr int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

struct options {
    std::string socket;
    bool json = false;
    std::vector<std::string> command;
};

/// A failure of hostexec itself: message and exit status.
struct failure {
    int status;
    std::string message;
};

void print_usage(std::FILE* to)
{
    fmt::print(to,
               "Usage: hostexec [OPTIONS] [--] COMMAND [ARG...]\n"
               "Run COMMAND through the pfd daemon, with this process's descriptors,\n"
               "environment and working directory.\n\n"
               "  --socket PATH   daemon socket (default: $PFD_SOCKET, else $XDG_RUNTIME_DIR/pfd.sock)\n"
               "  --json          print the daemon's events (NDJSON) on stderr\n"
               "  --version       print the version and exit\n"
               "  --help          print this help and exit\n\n"
               "Exit status: the command's; 125 if hostexec itself failed, 126 if the\n"
               "command cannot be executed, 127 if it was not found.\n");
}

/// Returns the options, or an exit status when there is nothing to run.
std::variant<options, int> parse_options(int argc, char** argv)
{
    options o;
    int i = 1;
    for (; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.empty() || a[0] != '-') break;
        if (a == "--help" || a == "-h") {
            print_usage(stdout);
            return 0;
        }
        if (a == "--version") {
            fmt::print("hostexec {} ({})\n", version(), build_id());
            return 0;
        }
        if (a == "--json") {
            o.json = true;
        } else if (a == "--socket" || a.starts_with("--socket=")) {
            if (a == "--socket") {
                if (i + 1 >= argc) throw failure{exit_failure, "option '--socket' needs a path"};
                o.socket = argv[++i];
            } else {
                o.socket = std::string(a.substr(9));
            }
            if (o.socket.empty()) throw failure{exit_failure, "option '--socket' needs a path"};
        } else {
            throw failure{exit_failure, fmt::format("unknown option '{}' (see hostexec --help)", a)};
        }
    }
    for (; i < argc; ++i) o.command.emplace_back(argv[i]);
    if (o.command.empty()) throw failure{exit_failure, "no command given (see hostexec --help)"};
    return o;
}

std::string current_directory()
{
    std::string buf(4096, '\0');
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE)
            throw failure{exit_failure, fmt::format("cannot determine the current directory: {}", std::strerror(errno))};
        buf.resize(buf.size() * 2);
    }
    buf.resize(std::strlen(buf.c_str()));
    return buf;
}

/// The environment as execve would pass it, one entry per name (the first,
/// as getenv sees it), dropping malformed entries a parent may have left.
std::vector<std::string> current_environment()
{
    std::vector<std::string> env;
    std::vector<std::string_view> names;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        auto name = entry.substr(0, eq);
        bool seen = false;
        for (auto n : names) seen = seen || n == name;
        if (seen) continue;
        names.push_back(name);
        env.emplace_back(entry);
    }
    return env;
}

mode_t current_umask()
{
    mode_t mask = ::umask(0);
    ::umask(mask);
    return mask;
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

int status_for(errc code)
{
    switch (code) {
    case errc::not_found: return exit_not_found;
    case errc::not_executable: return exit_not_executable;
    default: return exit_failure;
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

/// Sends the request, then relays signals and waits for the command's end.
int run(const options& o)
{
    exec_request req;
    req.argv = o.command;
    req.env = current_environment();
    req.cwd = current_directory();
    req.umask = current_umask();
    req.client = fmt::format("hostexec/{} {}", version(), build_id());
    std::vector<int> fds;
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0) continue; // closed here, closed there
        fds.push_back(fd);
        req.fds.push_back(fd);
    }

    std::string path;
    try {
        path = find_socket(o.socket);
    } catch (const std::exception& e) {
        throw failure{exit_failure, e.what()};
    }
    std::optional<client_connection> conn;
    try {
        conn.emplace(path);
    } catch (const std::exception& e) {
        throw failure{exit_failure, fmt::format("{} (is the pfd daemon running?)", e.what())};
    }

    sigset_t forwarded;
    sigemptyset(&forwarded);
    for (int s : forwarded_signals) sigaddset(&forwarded, s);
    ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    unique_fd sigfd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) throw failure{exit_failure, fmt::format("signalfd: {}", std::strerror(errno))};

    try {
        conn->send_exec(req, fds);
    } catch (const std::exception& e) {
        // The daemon may have refused us before reading everything: its
        // reason, if it sent one, is more useful than EPIPE.
        std::string why = e.what();
        if (auto refusal = read_refusal(*conn)) throw failure{status_for(refusal->code), refusal->message};
        throw failure{exit_failure, fmt::format("cannot send the request to '{}': {}", path, why)};
    }

    for (;;) {
        while (auto line = conn->buffered_line()) {
            if (o.json) fmt::print(stderr, "{}\n", *line);
            event ev;
            try {
                ev = parse_event(*line);
            } catch (const protocol_error& e) {
                throw failure{exit_failure, fmt::format("unexpected answer from the daemon: {}", e.what())};
            }
            if (auto* exited = std::get_if<exited_event>(&ev)) {
                if (exited->code) return *exited->code;
                die_of(exited->signo);
            }
            if (auto* error = std::get_if<error_event>(&ev)) throw failure{status_for(error->code), error->message};
        }
        pollfd pfds[2] = {{conn->fd(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(pfds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw failure{exit_failure, fmt::format("poll: {}", std::strerror(errno))};
        }
        if (pfds[1].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(sigfd.get(), &info, sizeof info) == sizeof info)
                conn->send_signal(static_cast<int>(info.ssi_signo));
        }
        if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            bool open;
            try {
                open = conn->read_some();
            } catch (const std::exception& e) {
                throw failure{exit_failure, e.what()};
            }
            if (!open)
                throw failure{exit_failure, "lost the connection to the daemon before the command ended"};
        }
    }
}

} // namespace

int hostexec_main(int argc, char** argv)
{
    try {
        auto parsed = parse_options(argc, argv);
        if (auto* status = std::get_if<int>(&parsed)) return *status;
        return run(std::get<options>(parsed));
    } catch (const failure& f) {
        fmt::print(stderr, "hostexec: {}\n", f.message);
        return f.status;
    }
}

} // namespace pfd
