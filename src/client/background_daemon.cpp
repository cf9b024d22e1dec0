#include "background_daemon.hpp"

#include "pfd/discovery.hpp"
#include "pfd/error.hpp"
#include "unix_socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <vector>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace pfd {

namespace {

std::optional<pid_t> read_pid(int fd)
{
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    int pid = std::atoi(buf);
    return pid > 0 ? std::optional<pid_t>(pid) : std::nullopt;
}

} // namespace

pidfile::pidfile(std::string path, std::chrono::milliseconds wait) : path_(std::move(path))
{
    // O_NOFOLLOW: a pidfile planted as a symlink must not make us overwrite its target.
    fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd_) throw_errno(fmt::format("cannot open pidfile '{}'", path_));
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (::flock(fd_.get(), LOCK_EX | LOCK_NB) < 0 && std::chrono::steady_clock::now() < deadline) ::usleep(2000);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) < 0) {
        auto pid = read_pid(fd_.get());
        fd_.reset();
        throw std::runtime_error(
            fmt::format("a daemon (pid {}) already holds '{}'", pid ? std::to_string(*pid) : "?", path_));
    }
    auto text = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd_.get(), 0) < 0 || ::pwrite(fd_.get(), text.data(), text.size(), 0) < 0)
        throw_errno(fmt::format("cannot write pidfile '{}'", path_));
}

pidfile::~pidfile()
{
    if (!fd_) return; // released to a successor
    struct stat mine {
    }, there{};
    if (::fstat(fd_.get(), &mine) == 0 && ::stat(path_.c_str(), &there) == 0 && mine.st_ino == there.st_ino)
        ::unlink(path_.c_str());
}

std::optional<pid_t> running_pid(const std::string& pidfile_path)
{
    unique_fd fd(::open(pidfile_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return std::nullopt; // nobody holds it: stale
    return read_pid(fd.get());
}

namespace {

/// Writes `n` in decimal into `out` (async-signal-safe, for a forked child).
char* format_int(char* out, long n)
{
    char tmp[24];
    int len = 0;
    do tmp[len++] = static_cast<char>('0' + n % 10);
    while ((n /= 10) > 0);
    while (len > 0) *out++ = tmp[--len];
    *out = '\0';
    return out;
}

/// Waits until child `pid` has exited (not reaped), at most `timeout`.
void exits_within(pid_t pid, std::chrono::milliseconds timeout)
{
    unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) return;
    pollfd p{pidfd.get(), POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
    }
}

} // namespace

/// Starts `argv` as our successor with the listening socket as its fd 3
/// (LISTEN_FDS, as systemd does) and waits for its readiness on fd 4.
pid_t start_successor(const std::vector<std::string>& args, const std::string& cwd, int listen_fd,
                      const std::vector<std::string>& env)
{
    // Everything the child needs is built before fork: the daemon has threads.
    auto ours = [&](std::string_view entry) { // a variable `env` sets anew
        for (auto& e : env)
            if (auto eq = e.find('='); eq != std::string::npos && entry.starts_with(e.substr(0, eq + 1))) return true;
        return false;
    };
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string_view entry = *e;
        if (!entry.starts_with("LISTEN_") && !entry.starts_with("PFD_HANDOFF=") &&
            !entry.starts_with("PFD_PREDECESSOR=") && !ours(entry))
            env_strings.emplace_back(entry);
    }
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    env_strings.emplace_back("LISTEN_FDS=1");
    env_strings.emplace_back("PFD_HANDOFF=1");
    env_strings.emplace_back(fmt::format("PFD_PREDECESSOR={}", ::getpid()));
    env_strings.emplace_back("LISTEN_PID=00000000000000000000"); // filled in by the child
    std::vector<char*> envp, argv;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* listen_pid = envp[envp.size() - 2] + std::strlen("LISTEN_PID=");
    std::vector<std::string> arg_strings = args;
    for (auto& a : arg_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    unique_fd ready_read(ready[0]), ready_write(ready[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        int sock = ::fcntl(listen_fd, F_DUPFD, 10);
        int pipe_w = ::fcntl(ready_write.get(), F_DUPFD, 10);
        ::dup2(sock, 3);
        ::dup2(pipe_w, 4);
        ::close_range(5, ~0U, 0);
        format_int(listen_pid, ::getpid());
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::chdir(cwd.c_str()) < 0) ::_exit(126);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ready_write.reset();
    // A newline: ready. Anything else up to a newline (or the end): why not.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string said;
    int polled = 0;
    ssize_t n = -1;
    while (said.size() < 4096 && !said.ends_with('\n')) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{ready_read.get(), POLLIN, 0};
        polled = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (polled < 0 && errno == EINTR) continue;
        if (polled != 1) break;
        char buf[512];
        do n = ::read(ready_read.get(), buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n <= 0) break;
        said.append(buf, static_cast<std::size_t>(n));
    }
    if (said != "\n") {
        int saved = errno;
        // One that said why exits by itself: given a moment to log it too.
        if (said.ends_with('\n')) exits_within(pid, std::chrono::seconds(5));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (said.size() > 1 && said.ends_with('\n'))
            throw std::runtime_error("the new daemon refused to take over: " + said.substr(0, said.size() - 1));
        throw std::runtime_error(fmt::format("the new daemon did not become ready (poll {}, read {}, {}, status {:#x})",
                                             polled, n, std::strerror(saved), status));
    }
    return pid;
}

std::string log_file_for(const std::string& socket)
{
    // Only a directory of ours that nobody else may write: never a shared
    // /tmp/pfd where a planted symlink would receive our log.
    std::string dir;
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/')
        dir = std::string(xdg) + "/pfd";
    else if (const char* home = std::getenv("HOME"); home && *home == '/')
        dir = std::string(home) + "/.local/state/pfd";
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    struct stat st {};
    bool private_dir = !dir.empty() && ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
                       st.st_uid == ::getuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
    if (!private_dir) dir = runtime_dir();
    std::string log = dir + "/" + socket.substr(socket.rfind('/') + 1) + ".log";
    if (::lstat(log.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (1 << 20))
        std::filesystem::rename(log, log + ".1", ec);
    return log;
}

std::string lock_file_for(const std::string& socket)
{
    std::string base = socket.ends_with(".sock") ? socket.substr(0, socket.size() - 5) : socket;
    return base + ".lock";
}

start_outcome start_in_background(const std::string& socket, const std::string& lock_path, const std::string& log_path,
                                  std::chrono::milliseconds timeout, const std::function<int(int)>& serve)
{
    // The lock lies beside the socket: in a directory of ours alone (made
    // if missing), checked before anything is written there.
    check_socket_directory(socket);
    // Serialize concurrent starts: the loser waits here until the winner's
    // daemon is ready, then finds it answering.
    unique_fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock) throw_errno(fmt::format("cannot open '{}'", lock_path));
    while (::flock(lock.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno(fmt::format("cannot lock '{}'", lock_path));
    try {
        connect_unix(socket);
        return start_outcome::already_running;
    } catch (const std::system_error&) {
    }

    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2");
    unique_fd ready_read(p[0]), ready_write(p[1]);
    pid_t first = ::fork();
    if (first < 0) throw_errno("fork");
    if (first == 0) {
        lock.reset(); // the daemon must not hold the start lock
        ready_read.reset();
        ::setsid();
        pid_t second = ::fork();
        if (second != 0) ::_exit(second < 0 ? 1 : 0);
        // Out of the way of 0-2, which are replaced next.
        int ready = ::fcntl(ready_write.get(), F_DUPFD_CLOEXEC, 10);
        int null = ::open("/dev/null", O_RDWR);
        int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        ::dup2(null, 0);
        ::dup2(log >= 0 ? log : null, 1);
        ::dup2(log >= 0 ? log : null, 2);
        // The daemon lives long: it keeps nothing its starter had open (a
        // pipe the caller reads to its end, a terminal), only stdio and the
        // readiness pipe, as descriptor 3.
        ::dup3(ready, 3, O_CLOEXEC);
        ::close_range(4, ~0U, 0);
        ::chdir("/");
        ::_exit(serve(3));
    }
    ready_write.reset();
    int status;
    while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{ready_read.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return start_outcome::not_ready;
        char c = 0;
        ssize_t n = ::read(ready_read.get(), &c, 1);
        if (n < 0 && errno == EINTR) continue;
        return n == 1 && c == '\n' ? start_outcome::started : start_outcome::not_ready;
    }
}

} // namespace pfd
