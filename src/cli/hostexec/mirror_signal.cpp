#include "mirror_signal.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

namespace pfd {

void die_of(int signo)
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

void stop_self(int signo)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::signal(signo, SIG_DFL);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

} // namespace pfd
