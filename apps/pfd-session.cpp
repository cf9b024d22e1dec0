// pfd-session: the session leader of a command run with a pseudo-terminal.
//
// Why it exists: a command that is itself the leader of a new session sits
// in an orphaned process group (its parent, the daemon, is in another
// session), and the kernel discards SIGTSTP/SIGTTIN/SIGTTOU sent to orphaned
// groups: Ctrl-Z would do nothing. So the daemon starts this small program
// as the session leader (it already owns the terminal as its controlling
// tty); it starts the command in a process group of its own in the same
// session, makes that group the terminal's foreground, forwards signals to
// it, stops itself (SIGSTOP) when the command stops so the daemon and client
// can follow, and finally ends exactly as the command ended.
//
// Usage: pfd-session [--tty-fd=N] --exec-fd=M [--sh-fd=K --sh-name=NAME]
// ARGV0 [ARG...]: runs the file open at M (the daemon opened it and checked
// it against [policy]; no name is resolved here) with the argument list
// ARGV0 ARG...; when the kernel answers ENOEXEC and K is given, the shell
// open at K runs NAME instead, as execvpe(3) does. (The form without
// --exec-fd, PROGRAM ARGV0 [ARG...], is what a daemon of the previous
// version passes until it is restarted.) N (default 0) is
// the controlling terminal's descriptor. Above 2 it is only the command's
// /dev/tty, its 0-2 being the caller's pipes or files (a `ctty` exec): then
// this process holds the terminal open for the command's life (with no
// slave open, the master would read as hung up) and the command does not
// inherit it.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

[[noreturn]] void end_like(int status)
{
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int signo = WTERMSIG(status);
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(signo, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(signo);
    _exit(128 + signo);
}

} // namespace

/// The value of `--flag=VALUE` when `arg` is that flag.
const char* value_of(const char* arg, std::string_view flag)
{
    return std::string_view(arg).starts_with(flag) ? arg + flag.size() : nullptr;
}

[[noreturn]] void run_command(int exec_fd, int sh_fd, const char* sh_name, char** argv)
{
    const char* name = argv[0];
    int e;
    if (exec_fd >= 0) {
        execveat(exec_fd, "", argv, environ, AT_EMPTY_PATH);
        e = errno;
        if (e == ENOEXEC && sh_fd >= 0) { // neither a binary nor a script: the shell runs it
            argv[-1] = const_cast<char*>("/bin/sh");
            argv[0] = const_cast<char*>(sh_name);
            execveat(sh_fd, "", argv - 1, environ, AT_EMPTY_PATH);
            e = errno;
        }
    } else {
        execv(argv[-1], argv);
        e = errno;
        if (e == ENOEXEC) { // a script without "#!": the shell runs it, as execvp(3) does
            argv[0] = argv[-1];
            argv[-1] = const_cast<char*>("/bin/sh");
            execv("/bin/sh", argv - 1);
            e = errno;
        }
    }
    if (e == ENOENT)
        std::fprintf(stderr, "hostexec: '%s': command not found\n", name);
    else
        std::fprintf(stderr, "hostexec: '%s': %s\n", name, std::strerror(e));
    _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

int main(int argc, char** argv)
{
    int tty = 0, exec_fd = -1, sh_fd = -1;
    const char* sh_name = nullptr;
    for (; argc > 1; --argc, ++argv) {
        if (auto v = value_of(argv[1], "--tty-fd="))
            tty = std::atoi(v);
        else if (auto v = value_of(argv[1], "--exec-fd="))
            exec_fd = std::atoi(v);
        else if (auto v = value_of(argv[1], "--sh-fd="))
            sh_fd = std::atoi(v);
        else if (auto v = value_of(argv[1], "--sh-name="))
            sh_name = v;
        else
            break;
    }
    // argv[1..]: ARGV0 [ARG...], after PROGRAM in the old form. argv[0]
    // stays writable scratch in front of them for the shell's argument list.
    if (exec_fd < 0 && argc > 1) {
        --argc;
        ++argv;
    }
    if (argc < 2 || (sh_fd >= 0 && !sh_name)) {
        std::fputs("usage: pfd-session [--tty-fd=N] --exec-fd=M [--sh-fd=K --sh-name=NAME] ARGV0 [ARG...]\n", stderr);
        return 125;
    }
    if (tty > 2) fcntl(tty, F_SETFD, FD_CLOEXEC);
    if (exec_fd >= 0) fcntl(exec_fd, F_SETFD, FD_CLOEXEC);
    if (sh_fd >= 0) fcntl(sh_fd, F_SETFD, FD_CLOEXEC);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &all, nullptr);

    pid_t child = fork();
    if (child < 0) {
        std::fprintf(stderr, "hostexec: cannot start '%s': %s\n", argv[1], std::strerror(errno));
        return 125;
    }
    if (child == 0) {
        setpgid(0, 0);
        tcsetpgrp(tty, getpid()); // SIGTTOU is blocked: allowed from the background
        sigprocmask(SIG_SETMASK, &none, nullptr);
        run_command(exec_fd, sh_fd, sh_name, argv + 1);
    }
    setpgid(child, child);
    tcsetpgrp(tty, child);

    for (;;) {
        siginfo_t info{};
        int signo = sigwaitinfo(&all, &info);
        if (signo < 0) continue;
        if (signo == SIGCHLD) {
            int status;
            pid_t r;
            while ((r = waitpid(child, &status, WNOHANG | WUNTRACED)) == child) {
                if (WIFSTOPPED(status)) {
                    raise(SIGSTOP); // followed by the daemon; we go on at SIGCONT
                    continue;
                }
                end_like(status);
            }
        } else if (signo == SIGCONT) {
            tcsetpgrp(tty, child);
            kill(-child, SIGCONT);
        } else if (signo != SIGTTIN && signo != SIGTTOU && signo != SIGWINCH) {
            // SIGTSTP too: with only a controlling terminal, Ctrl-Z stops
            // the caller's job where it was typed, and hostexec hands it on.
            kill(-child, signo);
        }
    }
}
