#include "client_support.hpp"

#include "pfd/unix_socket.hpp"
#include "pfd/version.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace pfd {

std::string current_directory()
{
    std::string buf(4096, '\0');
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE) throw_errno("cannot determine the current directory");
        buf.resize(buf.size() * 2);
    }
    buf.resize(std::strlen(buf.c_str()));
    return buf;
}

mode_t current_umask() noexcept
{
    mode_t mask = ::umask(0);
    ::umask(mask);
    return mask;
}

std::vector<std::string> current_environment()
{
    auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        bool seen = std::any_of(env.begin(), env.end(), [&](auto& x) { return name_of(x) == name_of(entry); });
        if (!seen) env.emplace_back(entry);
    }
    return env;
}

prepared_run prepare_run(const command& cmd, const std::map<int, int>& plan)
{
    prepared_run run;
    run.request.argv = cmd.argv;
    run.request.env = cmd.env ? *cmd.env : current_environment();
    run.request.cwd = cmd.cwd.empty() ? current_directory() : cmd.cwd;
    run.request.umask = current_umask();
    run.request.client = fmt::format("libpfd/{} {}", version(), build_id());
    for (auto [target, here] : plan) {
        run.request.fds.push_back(target);
        run.attached.push_back(here);
    }
    return run;
}

std::map<int, int> descriptor_plan(const command& cmd)
{
    return cmd.fds ? *cmd.fds : std::map<int, int>{{0, 0}, {1, 1}, {2, 2}};
}

void check_daemon_owner(int sock, const std::string& path)
{
    uid_t uid = peer_of(sock).uid;
    if (uid != ::getuid() && uid != 0)
        throw std::runtime_error(
            fmt::format("the daemon on '{}' runs as uid {}, not as you; refusing to hand it anything", path, uid));
}

std::optional<exited_event> take_event(std::string_view line, const run_options& options)
{
    event ev = parse_event(line);
    if (auto* error = std::get_if<error_event>(&ev)) throw protocol_error(error->code, error->message);
    if (options.on_event) options.on_event(ev);
    if (auto* exited = std::get_if<exited_event>(&ev)) return *exited;
    return std::nullopt;
}

} // namespace pfd
