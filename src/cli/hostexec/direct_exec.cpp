// What hostexec runs itself, not through a daemon.

#include "direct_exec.hpp"

#include "hostexec_failure.hpp"

#include "login_shell.hpp"
#include "shim.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace pfd {

namespace {

/// pfd next to this hostexec (an install or a build tree), else from PATH.
std::string pfd_program()
{
    std::string self = self_executable();
    std::string sibling = self.substr(0, self.rfind('/') + 1) + "pfd";
    return ::access(sibling.c_str(), X_OK) == 0 ? sibling : "pfd";
}

std::vector<char*> c_strings(const std::vector<std::string>& strings)
{
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

} // namespace

void start_daemon(const discovery_result& where, const config& cfg)
{
    // Inside a container the daemon belongs on the host: [discovery]
    // autostart_command says how to get there (e.g. flatpak-spawn --host pfd start).
    std::vector<std::string> args = cfg.discovery.autostart_command;
    if (args.empty()) args = {pfd_program(), "start"};
    args.insert(args.end(), {"--socket", where.socket});
    if (!where.project.empty()) args.insert(args.end(), {"--project", where.project});
    auto argv = c_strings(args);
    pid_t pid = ::fork();
    if (pid < 0) throw failure{125, fmt::format("cannot start '{}': {}", args[0], std::strerror(errno))};
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(null, 0);
        // What pfd start reports on stdout (a daemon that runs already, as
        // the loser of a race of -C's finds) is no news to our caller, and
        // stdout is the command's; its errors go to stderr.
        ::dup2(null, 1);
        ::execvp(argv[0], argv.data());
        fmt::print(stderr, "hostexec: cannot run '{}': {}\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw failure{125, fmt::format("could not start a daemon on '{}'", where.socket)};
}

void run_here(const exec_request& req)
{
    if (::chdir(req.cwd.c_str()) < 0)
        throw failure{125, fmt::format("cannot change directory to '{}': {}", req.cwd, std::strerror(errno))};
    if (req.login_shell) {
        // Here, the shell is the one this environment names.
        const char* shell = std::getenv("SHELL");
        std::string program = shell && *shell ? shell : "/bin/sh";
        std::vector<std::string> args{login_argv0(program)};
        auto argv = c_strings(args);
        auto envp = c_strings(req.env);
        ::execve(program.c_str(), argv.data(), envp.data());
        throw failure{errno == ENOENT ? 127 : 126, fmt::format("'{}': {}", program, std::strerror(errno))};
    }
    auto argv = c_strings(req.argv);
    auto envp = c_strings(req.env);
    ::execvpe(argv[0], argv.data(), envp.data());
    if (errno == ENOENT) throw failure{127, fmt::format("'{}': command not found", req.argv[0])};
    throw failure{126, fmt::format("'{}': {}", req.argv[0], std::strerror(errno))};
}

void run_real_program(const hostexec_options& o)
{
    const char* set = std::getenv("PATH");
    std::string path = set ? set : "/usr/local/bin:/usr/bin:/bin";
    auto real = find_real_program(o.shim, path, self_executable());
    if (!real) throw failure{127, fmt::format("{}: no program of that name besides shims of hostexec in PATH", o.shim)};
    ::unsetenv(shim_guard_variable);
    ::setenv("PATH", path_without_shims(path, o.shim, self_executable()).c_str(), 1);
    auto argv = c_strings(o.command);
    ::execv(real->c_str(), argv.data());
    throw failure{errno == ENOENT ? 127 : 126, fmt::format("{}: {}", *real, std::strerror(errno))};
}

} // namespace pfd
