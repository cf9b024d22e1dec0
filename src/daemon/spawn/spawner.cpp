#include "spawner.hpp"
#include "quote.hpp"

#include "program_launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace pfd {

namespace {

enum class stage : int { none, setup, chdir, exec };

/// Written by the child into the memory it shares with the parent
/// (CLONE_VM), read by the parent once clone() returns, which CLONE_VFORK
/// holds until the child has exec'd (then nothing was written) or exited.
/// No pipe: it cost four system calls and a second wake-up of the parent
/// (the write end closing at exec) on every start.
struct failure_report {
    stage where = stage::none;
    int error = 0;
};

/// Everything the child reads, laid out before clone(): the child must not
/// allocate, since it shares the parent's heap and locks.
struct prepared {
    std::vector<char*> argv;
    std::vector<char*> envp;
    const char* program = nullptr; // by name, when program_fd < 0
    std::vector<char*> sh_argv;    // for ENOEXEC: "/bin/sh", the file's name, argv[1..]
    int program_fd = -1, shell_fd = -1;
    /// The numbers their copies take in the child, above every target.
    int program_at = -1, shell_at = -1;
    const char* cwd = "/";
    int cwd_fd = -1;
    bool cwd_by_name = false;
    file_identity cwd_identity;
    mode_t umask = 022;
    std::vector<std::pair<int, int>> fds;
    std::vector<int> targets; // sorted
    std::vector<int> kept;    // sorted: the targets and program_at, shell_at
    std::vector<int> copies;  // scratch: the high copies of the sources
    int floor = 3;            // above every source and target
    bool new_session = false;
    int controlling_terminal = -1;
    std::optional<rlimit> nofile;
    int death_signal = 0;
    pid_t parent = -1;
    failure_report report;
};

// The child runs on its own small stack that AddressSanitizer does not know;
// instrumenting it only yields false alarms (on the client's stderr).
#define PFD_CHILD_CODE __attribute__((no_sanitize("address")))

[[noreturn]] PFD_CHILD_CODE void fail(prepared& p, stage where, int error)
{
    p.report = {where, error};
    ::_exit(127);
}

/// The directory entered by its name here, which is still the directory
/// sent (or the host's root for a container's); false: enter it by the
/// descriptor (or by the plain path when none was sent).
PFD_CHILD_CODE bool entered_by_name(const prepared& p)
{
    if (p.cwd_fd < 0 || !p.cwd_by_name || ::chdir(p.cwd) < 0) return false;
    struct stat st {};
    return ::stat(".", &st) == 0 && st.st_dev == p.cwd_identity.device && st.st_ino == p.cwd_identity.inode;
}

PFD_CHILD_CODE int child_main(void* arg)
{
    auto& p = *static_cast<prepared*>(arg);
    // Signals are all blocked (by the parent) until execve, so none of the
    // daemon's handlers can run here on shared memory.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s)
        if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);

    if (p.new_session ? ::setsid() < 0 : ::setpgid(0, 0) < 0) fail(p, stage::setup, errno);
    // Held blocked until execve like every signal; if the daemon is already
    // gone (killed between clone and here), nobody would send it.
    if (p.death_signal && ::prctl(PR_SET_PDEATHSIG, p.death_signal) < 0) fail(p, stage::setup, errno);
    if (p.death_signal && ::getppid() != p.parent) ::_exit(128 + p.death_signal);
    ::umask(p.umask);
    // Before the descriptors move: the directory's may be closed or reused.
    if (!entered_by_name(p) && (p.cwd_fd >= 0 ? ::fchdir(p.cwd_fd) : ::chdir(p.cwd)) < 0) fail(p, stage::chdir, errno);

    // Lift every source above all targets first, so that no dup2 below can
    // overwrite a source another one still needs.
    for (std::size_t i = 0; i < p.fds.size(); ++i) {
        p.copies[i] = ::fcntl(p.fds[i].first, F_DUPFD_CLOEXEC, p.floor);
        if (p.copies[i] < 0) fail(p, stage::setup, errno);
    }
    int program = p.program_fd < 0 ? -1 : ::fcntl(p.program_fd, F_DUPFD_CLOEXEC, p.floor);
    int shell = p.shell_fd < 0 ? -1 : ::fcntl(p.shell_fd, F_DUPFD_CLOEXEC, p.floor);
    if ((p.program_fd >= 0 && program < 0) || (p.shell_fd >= 0 && shell < 0)) fail(p, stage::setup, errno);
    for (std::size_t i = 0; i < p.fds.size(); ++i)
        if (::dup2(p.copies[i], p.fds[i].second) < 0) fail(p, stage::setup, errno);
    // Close-on-exec: the command never sees the files it was started from.
    if (program >= 0 && ::dup3(program, p.program_at, O_CLOEXEC) < 0) fail(p, stage::setup, errno);
    if (shell >= 0 && ::dup3(shell, p.shell_at, O_CLOEXEC) < 0) fail(p, stage::setup, errno);
    unsigned next = 0;
    for (int t : p.kept) {
        if (static_cast<unsigned>(t) > next) ::close_range(next, static_cast<unsigned>(t) - 1, 0);
        next = static_cast<unsigned>(t) + 1;
    }
    ::close_range(next, ~0U, 0);
    // Only now: the sources may sit above the limit the child gets back.
    if (p.nofile) ::setrlimit(RLIMIT_NOFILE, &*p.nofile);

    if (p.new_session && p.controlling_terminal >= 0 && ::ioctl(p.controlling_terminal, TIOCSCTTY, 0) < 0)
        fail(p, stage::setup, errno);

    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    // The file opened and judged before clone (program_launch.hpp): no name
    // is resolved again, here in another directory and descriptor table.
    if (p.program_fd >= 0) {
        ::execveat(p.program_at, "", p.argv.data(), p.envp.data(), AT_EMPTY_PATH);
        if (errno == ENOEXEC && p.shell_fd >= 0) // as execvpe(3) does
            ::execveat(p.shell_at, "", p.sh_argv.data(), p.envp.data(), AT_EMPTY_PATH);
    } else {
        ::execve(p.program, p.argv.data(), p.envp.data());
        if (errno == ENOEXEC && p.sh_argv.size() > 1) ::execve("/bin/sh", p.sh_argv.data(), p.envp.data());
    }
    fail(p, stage::exec, errno);
}

void prepare(const spawn_spec& spec, prepared& p)
{
    auto to_ptrs = [](const std::vector<std::string>& v) {
        std::vector<char*> out;
        out.reserve(v.size() + 1);
        for (auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
        out.push_back(nullptr);
        return out;
    };
    p.argv = to_ptrs(spec.argv);
    p.envp = to_ptrs(spec.env);
    p.program = spec.program.c_str();
    p.program_fd = spec.program_fd;
    p.shell_fd = spec.shell_fd;
    p.sh_argv = to_ptrs(spec.shell_argv);
    p.cwd = spec.cwd.c_str();
    p.cwd_fd = spec.cwd_fd;
    p.cwd_by_name = spec.cwd_identity.has_value();
    if (spec.cwd_identity) p.cwd_identity = *spec.cwd_identity;
    p.umask = spec.umask;
    p.fds = spec.fds;
    p.copies.assign(spec.fds.size(), -1);
    int top = 2;
    for (auto [src, dst] : spec.fds) {
        p.targets.push_back(dst);
        top = std::max({top, src, dst});
    }
    std::sort(p.targets.begin(), p.targets.end());
    p.kept = p.targets;
    int above = std::max(2, p.targets.empty() ? 2 : p.targets.back());
    if (p.program_fd >= 0) p.kept.push_back(p.program_at = ++above);
    if (p.shell_fd >= 0) p.kept.push_back(p.shell_at = ++above);
    p.floor = std::max({top, above, p.program_fd, p.shell_fd}) + 1;
    p.new_session = spec.new_session;
    p.controlling_terminal = spec.controlling_terminal;
    p.nofile = spec.nofile;
    p.death_signal = spec.parent_death_signal;
    p.parent = ::getpid();
}

[[noreturn]] void throw_failure(const spawn_spec& spec, failure_report r)
{
    const std::string& cmd = spec.name.empty() ? spec.argv[0] : spec.name;
    std::string why = std::strerror(r.error);
    switch (r.where) {
    case stage::chdir:
        throw spawn_error(errc::bad_cwd, r.error,
                          fmt::format("cannot change directory to {}: {}", quote(spec.cwd), why));
    case stage::setup:
        throw spawn_error(errc::spawn_failed, r.error, fmt::format("cannot set up {}: {}", quote(cmd), why));
    case stage::none:
    case stage::exec:
        break;
    }
    switch (r.error) {
    case ENOENT:
    case ENOTDIR:
        if (cmd.find('/') == std::string::npos)
            throw spawn_error(errc::not_found, r.error, fmt::format("{}: command not found", quote(cmd)));
        throw spawn_error(errc::not_found, r.error, fmt::format("{}: {}", quote(cmd), why));
    case EACCES:
    case EPERM:
    case ENOEXEC:
    case EISDIR:
        throw spawn_error(errc::not_executable, r.error, fmt::format("{}: {}", quote(cmd), why));
    default:
        throw spawn_error(errc::spawn_failed, r.error, fmt::format("cannot execute {}: {}", quote(cmd), why));
    }
}

exit_status decode(const siginfo_t& info)
{
    exit_status s;
    if (info.si_code == CLD_EXITED) {
        s.code = info.si_status;
    } else {
        s.signo = info.si_status;
        s.core = info.si_code == CLD_DUMPED;
    }
    return s;
}

} // namespace

void set_program(spawn_spec& spec, const program_launch& launch, std::vector<std::string> argv)
{
    bool by_name = !launch.stable_name.empty();
    spec.program = launch.stable_name;
    spec.program_fd = by_name ? -1 : launch.executed().file.get();
    spec.shell_fd = launch.shell && !by_name ? launch.shell->file.get() : -1;
    spec.shell_argv.clear();
    if (launch.shell) {
        spec.shell_argv = {"/bin/sh", launch.chain.front().name};
        spec.shell_argv.insert(spec.shell_argv.end(), argv.begin() + 1, argv.end());
    }
    if (by_name || launch.leading.empty()) {
        spec.argv = std::move(argv);
        return;
    }
    spec.argv = launch.leading;
    for (std::size_t i = 1; i < argv.size(); ++i) spec.argv.push_back(std::move(argv[i]));
}

child_process spawn(const spawn_spec& spec)
{
    if (spec.argv.empty() || spec.argv[0].empty())
        throw spawn_error(errc::spawn_failed, EINVAL, "cannot spawn an empty command");
    if (spec.program.empty() && spec.program_fd < 0) {
        // Looked up here, as the daemon's admission does for its commands.
        unique_fd dir(spec.cwd_fd >= 0 ? -1 : open_path(AT_FDCWD, spec.cwd, O_DIRECTORY).release());
        int from = spec.cwd_fd >= 0 ? spec.cwd_fd : dir.get();
        program_launch launch = launch_of(find_program(spec.argv[0], spec.env, from, spec.cwd), from, spec.cwd, false);
        spawn_spec resolved = spec;
        set_program(resolved, launch, spec.argv);
        return spawn(resolved);
    }
    prepared p;
    prepare(spec, p);

    // One child stack per thread, reused: CLONE_VFORK holds this thread until
    // the child has called execve or exited, so the stack is free again when
    // clone() returns.
    constexpr std::size_t stack_size = 64 * 1024;
    alignas(64) static thread_local char stack[stack_size];
    void* stack_top = stack + stack_size;

    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    pid_t pid = ::clone(child_main, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &p, &pidfd);
    int clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0)
        throw spawn_error(errc::spawn_failed, clone_errno,
                          fmt::format("cannot start a process: {}", std::strerror(clone_errno)));
    child_process child{pid, unique_fd(pidfd)};

    if (p.report.where != stage::none) {
        reap(child.pidfd.get());
        throw_failure(spec, p.report);
    }
    return child;
}

std::optional<exit_status> try_reap(int pidfd)
{
    siginfo_t info{};
    for (;;) {
        if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) == 0) break;
        if (errno != EINTR) throw_errno("waitid");
    }
    if (info.si_pid == 0) return std::nullopt;
    return decode(info);
}

exit_status reap(int pidfd)
{
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) < 0)
        if (errno != EINTR) throw_errno("waitid");
    return decode(info);
}

const rlimit& original_nofile_limit()
{
    static const rlimit limit = [] {
        rlimit l{};
        ::getrlimit(RLIMIT_NOFILE, &l);
        return l;
    }();
    return limit;
}

} // namespace pfd
