#include "client_engine.hpp"

#include "env_entry.hpp"

#include "unix_socket.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

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

std::vector<int> inheritable_descriptors()
{
    auto inherited = [](int fd) {
        int flags = ::fcntl(fd, F_GETFD);
        return flags >= 0 && (flags & FD_CLOEXEC) == 0;
    };
    std::vector<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) { // no /proc: look at the low numbers, where shells put theirs
        for (int fd = 0; fd < 1024; ++fd)
            if (inherited(fd)) fds.push_back(fd);
        return fds;
    }
    while (const dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        long fd = std::strtol(entry->d_name, &end, 10);
        if (*end == '\0' && end != entry->d_name && fd != ::dirfd(dir) && inherited(static_cast<int>(fd)))
            fds.push_back(static_cast<int>(fd));
    }
    ::closedir(dir);
    std::sort(fds.begin(), fds.end());
    return fds;
}

mode_t current_umask() noexcept
{
    mode_t mask = ::umask(0);
    ::umask(mask);
    return mask;
}

std::vector<std::string> current_environment()
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        bool seen = std::any_of(env.begin(), env.end(), [&](auto& x) { return env_name(x) == env_name(entry); });
        if (!seen) env.emplace_back(entry);
    }
    return env;
}

void exec_plan::attach(const std::map<int, int>& plan, int directory)
{
    request.fds.clear();
    attached.clear();
    request.cwd_fd = directory >= 0;
    if (request.cwd_fd) attached.push_back(directory);
    for (auto [target, here] : plan) {
        request.fds.push_back(target);
        attached.push_back(here);
    }
}

void check_daemon_uid(int sock, const std::string& path, std::span<const uid_t> trusted)
{
    uid_t uid = peer_of(sock).uid;
    if (uid == ::getuid() || uid == 0 || std::find(trusted.begin(), trusted.end(), uid) != trusted.end()) return;
    throw std::runtime_error(fmt::format("the daemon on '{}' runs as uid {}, not as you (uid {}); refusing to hand "
                                         "it anything. If you trust uid {}, add it to [discovery] trust_daemon_uids "
                                         "in your config file",
                                         path, uid, ::getuid(), uid));
}

std::optional<event> event_reader::next_any(std::string* raw)
{
    auto line = lines_.next_line();
    if (!line) return std::nullopt;
    event ev = parse_event(*line);
    if (raw) *raw = std::move(*line);
    return ev;
}

namespace {

/// An `error` event thrown as the daemon's refusal.
std::optional<event> thrown_if_error(std::optional<event> ev)
{
    if (auto* error = ev ? std::get_if<error_event>(&*ev) : nullptr) throw protocol_error(error->code, error->message);
    return ev;
}

} // namespace

std::optional<event> event_reader::next(std::string* raw)
{
    return thrown_if_error(next_any(raw));
}

daemon_connection::daemon_connection(const std::string& path, std::span<const uid_t> trusted)
    : daemon_connection(path, connect_unix(path), trusted)
{
}

daemon_connection::daemon_connection(const std::string& path, unique_fd sock, std::span<const uid_t> trusted)
    : path_(path), sock_(std::move(sock))
{
    check_daemon_uid(sock_.get(), path_, trusted);
}

void daemon_connection::send(const request& req, std::span<const int> fds)
{
    try {
        send_with_fds(sock_.get(), encode_request(req), fds);
    } catch (const std::system_error&) {
        // The daemon may have refused us before reading everything (it
        // checks who we are at once): its reason, if it sent one, is more
        // useful than EPIPE. Buffered, it is the next event, read (and
        // echoed, and thrown) as any other.
        try {
            while (read_some()) {
            }
        } catch (const std::exception&) {
        }
        if (reader_.has_pending()) return;
        throw;
    }
}

bool daemon_connection::send_signal(int signo) noexcept
{
    try {
        send_with_fds(sock_.get(), encode_request(signal_request{signo}));
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

bool daemon_connection::read_some()
{
    char buf[4096];
    for (;;) {
        received r;
        try {
            // Descriptors come only with a `terminal` event; room for a few
            // more, which a daemon has no reason to send, is harmless.
            r = recv_with_fds(sock_.get(), buf, received_, 4, false);
        } catch (const std::system_error& e) {
            // A daemon that refused us may reset the connection right after
            // its error line; what was already delivered has been read by then.
            if (e.code().value() == ECONNRESET) return false;
            throw std::system_error(e.code(), "read from daemon");
        }
        if (r.eof) return false;
        if (r.would_block) throw_errno("read from daemon", EAGAIN);
        reader_.append({buf, r.bytes});
        return true;
    }
}

unique_fd daemon_connection::take_descriptor()
{
    if (received_.empty()) return unique_fd();
    unique_fd fd = std::move(received_.front());
    received_.erase(received_.begin());
    return fd;
}

std::optional<event> daemon_connection::next_event(std::string* raw)
{
    for (;;) {
        if (auto ev = reader_.next(raw)) return ev;
        if (!read_some()) return std::nullopt;
    }
}

std::optional<std::string> daemon_connection::next_line()
{
    for (;;) {
        if (auto line = reader_.next_line()) return line;
        if (!read_some()) return std::nullopt;
    }
}

event daemon_connection::ask(const request& req, std::string* raw)
{
    send(req);
    auto answer = next_event(raw);
    if (!answer)
        throw std::runtime_error(
            fmt::format("the daemon on '{}' closed the connection without answering '{}'", path_, op_name(req)));
    return *answer;
}

signal_inbox::signal_inbox(const std::vector<int>& signals)
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals) sigaddset(&set, s);
    ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
    fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) {
        int error = errno;
        ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
        throw_errno("signalfd", error);
    }
}

signal_inbox::~signal_inbox()
{
    // Signals that arrived meanwhile are delivered now, as they would have been.
    ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

int signal_inbox::next() const noexcept
{
    signalfd_siginfo info{};
    return ::read(fd_.get(), &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
}

namespace {

std::vector<int> joined(std::vector<int> a, const std::vector<int>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

exec_run::exec_run(daemon_connection& conn, const exec_plan& plan, std::vector<int> forward, std::vector<int> report)
    : conn_(conn), forward_(std::move(forward))
{
    // A run that forwards nothing (the library's default) costs no signalfd.
    if (auto all = joined(forward_, report); !all.empty()) signals_.emplace(all);
    conn_.send(plan.request, plan.attached);
}

exec_run::happening exec_run::next(std::span<pollfd> extra)
{
    std::vector<pollfd> fds;
    for (;;) {
        if (!ended_) {
            std::string line;
            if (auto ev = conn_.buffered_event(echo ? &line : nullptr)) {
                if (echo) fmt::print(echo, "{}\n", line);
                ended_ = std::holds_alternative<exited_event>(*ev);
                return *thrown_if_error(std::move(ev));
            }
        }
        if (!caught_.empty()) {
            int signo = caught_.front();
            caught_.erase(caught_.begin());
            return signal_caught{signo};
        }
        fds.assign({{signals_ ? signals_->fd() : -1, POLLIN, 0}, {ended_ ? -1 : conn_.fd(), POLLIN, 0}});
        fds.insert(fds.end(), extra.begin(), extra.end());
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (fds[0].revents & POLLIN) {
            while (int signo = signals_->next()) {
                if (std::find(forward_.begin(), forward_.end(), signo) != forward_.end())
                    conn_.send_signal(signo);
                else
                    caught_.push_back(signo);
            }
        }
        bool extra_ready = false;
        for (std::size_t i = 0; i < extra.size(); ++i) {
            extra[i].revents = fds[i + 2].revents;
            extra_ready = extra_ready || extra[i].revents;
        }
        // Nothing whole was buffered before the poll, so an end now is a loss.
        if (!ended_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !conn_.read_some()) return connection_lost{};
        if (extra_ready && caught_.empty()) return fds_ready{};
    }
}

int exit_status_for(errc code) noexcept
{
    switch (code) {
    case errc::not_found:
        return 127;
    case errc::not_executable:
        return 126;
    default:
        return 125;
    }
}

} // namespace pfd
