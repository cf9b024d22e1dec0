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
// Usage: pfd-session PROGRAM ARGV0 [ARG...]: runs the file PROGRAM (the daemon
// looked it up and checked it against [policy]; no second lookup here) with
// the argument list ARGV0 ARG...

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

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

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs("usage: pfd-session PROGRAM ARGV0 [ARG...]\n", stderr);
        return 125;
    }
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
        tcsetpgrp(0, getpid()); // SIGTTOU is blocked: allowed from the background
        sigprocmask(SIG_SETMASK, &none, nullptr);
        const char* name = argv[2];
        execv(argv[1], argv + 2);
        int e = errno;
        if (e == ENOEXEC) { // a script without "#!": the shell runs it, as execvp(3) does
            argv[2] = argv[1];
            argv[1] = const_cast<char*>("/bin/sh");
            execv("/bin/sh", argv + 1);
            e = errno;
        }
        if (e == ENOENT)
            std::fprintf(stderr, "hostexec: '%s': command not found\n", name);
        else
            std::fprintf(stderr, "hostexec: '%s': %s\n", name, std::strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    setpgid(child, child);
    tcsetpgrp(0, child);

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
            tcsetpgrp(0, child);
            kill(-child, SIGCONT);
        } else if (signo != SIGTSTP && signo != SIGTTIN && signo != SIGTTOU && signo != SIGWINCH) {
            kill(-child, signo);
        }
    }
}
