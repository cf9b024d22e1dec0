#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace pfd::test {

terminal::terminal(unsigned short rows, unsigned short cols)
{
    master_.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master_ || ::grantpt(master_.get()) < 0 || ::unlockpt(master_.get()) < 0)
        throw std::runtime_error("cannot open a pseudo-terminal");
    char name[128];
    ::ptsname_r(master_.get(), name, sizeof name);
    slave_name_ = name;
    resize(rows, cols);
}

terminal::~terminal()
{
    if (pid_ > 0 && !reaped_) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        int st;
        ::waitpid(pid_, &st, 0);
    }
}

void terminal::start(std::vector<std::string> argv, std::vector<std::string> env_changes)
{
    auto env = merged_environment(env_changes);
    auto argvp = exec_pointers(argv);
    auto envp = exec_pointers(env);

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setsid();
        int slave = ::open(slave_name_.c_str(), O_RDWR); // first terminal opened by a session leader: its ctty
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        ::close_range(3, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
        ::execvpe(argvp[0], argvp.data(), envp.data());
        ::_exit(127);
    }
    pid_ = pid;
    pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

void terminal::type(std::string_view keys)
{
    while (!keys.empty()) {
        ssize_t n = ::write(master_.get(), keys.data(), keys.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("write to terminal failed");
        }
        keys.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string terminal::expect(std::string_view needle, milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto at = pending_.find(needle);
        if (at != std::string::npos) {
            std::string shown = pending_.substr(0, at + needle.size());
            pending_.erase(0, at + needle.size());
            return shown;
        }
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{master_.get(), POLLIN, 0};
        if (left <= 0ms || ::poll(&p, 1, static_cast<int>(left.count())) != 1) return {};
        char buf[4096];
        ssize_t n = ::read(master_.get(), buf, sizeof buf);
        if (n <= 0) return {};
        pending_.append(buf, static_cast<std::size_t>(n));
    }
}

void terminal::resize(unsigned short rows, unsigned short cols)
{
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

int terminal::wait(milliseconds timeout)
{
    if (reaped_) return -1;
    pollfd p{pidfd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    int st = -1;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return st;
}

std::vector<pid_t> find_processes(std::string_view needle)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream f(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(f)), {});
        for (auto& c : cmdline)
            if (c == '\0') c = ' ';
        if (cmdline.find(needle) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
}

} // namespace pfd::test
