#include "harness.hpp"

#include "unix_socket.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <mutex>
#include <thread>

extern char** environ;

namespace pfd::test {

std::vector<std::string> merged_environment(const std::vector<std::string>& changes)
{
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (auto& change : changes) {
        auto eq = change.find('=');
        std::string name = change.substr(0, eq);
        std::erase_if(env, [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; });
        if (eq != std::string::npos) env.push_back(change);
    }
    return env;
}

std::vector<char*> exec_pointers(std::vector<std::string>& v)
{
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
}

namespace {

std::string env_or_throw(const char* name)
{
    const char* v = std::getenv(name);
    if (!v || !*v) throw std::runtime_error(std::string("test environment lacks ") + name);
    return v;
}

int pidfd_open(pid_t pid)
{
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

/// One field of /proc/PID/stat, empty if the process is gone (processes exit
/// while we scan: that must not throw).
std::string proc_field(pid_t pid, int field)
{
    unique_fd fd(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return {};
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string s(buf, static_cast<std::size_t>(n));
    auto close = s.rfind(')');
    if (close == std::string::npos || close + 2 > s.size()) return {};
    std::istringstream rest(s.substr(close + 2));
    std::string v;
    for (int i = 3; i <= field; ++i) rest >> v; // field 3 is the state
    return v;
}

template <typename F>
int count_children(pid_t parent, F&& pred)
{
    int n = 0;
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t pid = std::stoi(name);
        if (proc_field(pid, 4) == std::to_string(parent) && pred(proc_field(pid, 3))) ++n;
    }
    return n;
}

} // namespace

pipe_ends make_pipe(int flags)
{
    int p[2];
    if (::pipe2(p, flags) < 0) throw std::runtime_error("pipe2 failed");
    return {unique_fd(p[0]), unique_fd(p[1])};
}

std::string slurp(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

std::string exec_line(std::string_view fields)
{
    return R"({"pfd":1,"op":"exec",)" + std::string(fields) + "}";
}

std::optional<std::string> read_to_eof(int fd, milliseconds timeout)
{
    std::string data;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return std::nullopt;
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        char buf[65536];
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r > 0)
            data.append(buf, static_cast<std::size_t>(r));
        else if (r == 0 || errno == ECONNRESET)
            return data;
        else if (errno != EINTR && errno != EAGAIN)
            return std::nullopt;
    }
}

int open_fd_count(pid_t pid)
{
    std::string dir = pid ? "/proc/" + std::to_string(pid) + "/fd" : "/proc/self/fd";
    int n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

std::string pfd_binary()
{
    return env_or_throw("PFD_BIN");
}
std::string hostexec_binary()
{
    return env_or_throw("HOSTEXEC_BIN");
}
std::string probe_binary()
{
    return env_or_throw("PROBE_BIN");
}

std::string for_other_uids(const std::string& program)
{
    namespace fs = std::filesystem;
    static std::mutex lock;
    static const temp_dir shared;
    std::lock_guard hold(lock);
    if (::chmod(shared.path().c_str(), 0755) < 0) throw std::runtime_error("cannot open " + shared.path() + " to all");
    auto copy = [&](const fs::path& from) {
        auto to = fs::path(shared.path()) / from.filename();
        if (!fs::exists(to)) {
            fs::copy_file(from, to);
            fs::permissions(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
        }
        return to.string();
    };
    // pfd runs the pfd-session next to it.
    auto session = fs::path(program).parent_path() / "pfd-session";
    if (fs::path(program).filename() == "pfd" && fs::exists(session)) copy(session);
    return copy(program);
}

temp_dir::temp_dir()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "pfd-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

temp_dir::~temp_dir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

bool result::exited() const
{
    return WIFEXITED(status);
}
int result::code() const
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
int result::signal() const
{
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}
bool result::core() const
{
    return WIFSIGNALED(status) && WCOREDUMP(status);
}

process::process(spawn_options o)
{
    auto [in_r, in_w] = make_pipe();
    auto [out_r, out_w] = make_pipe();
    auto [err_r, err_w] = make_pipe();
    unique_fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto env = merged_environment(o.env);
    auto argv = o.argv;
    auto envp = exec_pointers(env);
    auto argvp = exec_pointers(argv);
    int stdin_src = o.stdin_pipe ? in_r.get() : devnull.get();

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (o.new_session) ::setsid();
        // Lift everything above the numbers it will take, then place it.
        std::vector<std::pair<int, int>> moves = {{stdin_src, 0}, {out_w.get(), 1}, {err_w.get(), 2}};
        moves.insert(moves.end(), o.fds.begin(), o.fds.end());
        for (auto& [src, dst] : moves) src = ::fcntl(src, F_DUPFD_CLOEXEC, 100);
        for (auto& [src, dst] : moves) ::dup2(src, dst);
        int top = 2;
        for (auto& [src, dst] : moves) top = std::max(top, dst);
        for (int fd = 3; fd <= top; ++fd) {
            bool keep = false;
            for (auto& [src, dst] : moves) keep = keep || dst == fd;
            if (!keep) ::close(fd);
        }
        ::close_range(static_cast<unsigned>(top) + 1, ~0U, 0);
        if (o.umask) ::umask(*o.umask);
        if (o.cwd && ::chdir(o.cwd->c_str()) < 0) ::_exit(126);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvpe(argvp[0], argvp.data(), envp.data());
        ::_exit(127);
    }
    pid_ = pid;
    pidfd_.reset(pidfd_open(pid));
    if (o.stdin_pipe) {
        in_ = std::move(in_w);
        ::fcntl(in_.get(), F_SETFL, O_NONBLOCK);
    }
    out_ = std::move(out_r);
    err_ = std::move(err_r);
}

process::process(process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)), in_(std::move(other.in_)),
      out_(std::move(other.out_)), err_(std::move(other.err_)), out_buf_(std::move(other.out_buf_)),
      err_buf_(std::move(other.err_buf_)), pending_in_(std::move(other.pending_in_)),
      close_after_flush_(other.close_after_flush_), status_(other.status_)
{
}

process::~process()
{
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int st;
        ::waitpid(pid_, &st, 0);
    }
}

void process::write_stdin(std::string_view data)
{
    pending_in_.append(data);
    flush_stdin();
}

void process::flush_stdin()
{
    while (in_ && !pending_in_.empty()) {
        ssize_t n = ::write(in_.get(), pending_in_.data(), pending_in_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return; // pump() writes the rest as the reader drains
            pending_in_.clear();
            in_.reset(); // the reader is gone
            return;
        }
        pending_in_.erase(0, static_cast<std::size_t>(n));
    }
    if (close_after_flush_ && pending_in_.empty()) in_.reset();
}

void process::close_stdin()
{
    close_after_flush_ = true;
    flush_stdin();
}

void process::signal(int signo) const
{
    ::kill(pid_, signo);
}

bool process::pump(milliseconds timeout)
{
    pollfd p[4] = {{out_.get(), POLLIN, 0},
                   {err_.get(), POLLIN, 0},
                   {status_ ? -1 : pidfd_.get(), POLLIN, 0},
                   {pending_in_.empty() ? -1 : in_.get(), POLLOUT, 0}};
    int n = ::poll(p, 4, static_cast<int>(timeout.count()));
    if (n == 0) return false;
    char buf[65536];
    unique_fd* fds[2] = {&out_, &err_};
    std::string* bufs[2] = {&out_buf_, &err_buf_};
    for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = ::read(fds[i]->get(), buf, sizeof buf);
        if (r > 0)
            bufs[i]->append(buf, static_cast<std::size_t>(r));
        else if (r == 0)
            fds[i]->reset();
    }
    if (p[3].revents) flush_stdin();
    if (p[2].revents & POLLIN) {
        int st;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
    }
    return true;
}

std::string process::read_stdout_until(std::string_view needle, milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_buf_.find(needle) == std::string::npos && out_) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms || !pump(left)) break;
    }
    return out_buf_;
}

int process::wait_status(milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms || !pump(left)) return -1;
    }
    return *status_;
}

result process::finish(milliseconds timeout)
{
    close_stdin();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    result r;
    while (out_ || err_ || !status_) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms || !pump(left)) {
            r.timed_out = true;
            ::kill(pid_, SIGKILL);
            int st;
            if (!status_ && ::waitpid(pid_, &st, 0) == pid_) status_ = st;
            break;
        }
    }
    r.status = status_.value_or(-1);
    r.out = out_buf_;
    r.err = err_buf_;
    return r;
}

result run(spawn_options options, std::string_view input, milliseconds timeout)
{
    process p(std::move(options));
    if (!input.empty()) p.write_stdin(input);
    return p.finish(timeout);
}

unique_fd idle_listener(const std::string& path)
{
    unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s.get(), 4) < 0)
        throw std::runtime_error("cannot listen on " + path + ": " + std::strerror(errno));
    return s;
}

foreign_daemon::foreign_daemon() : socket_(dir_ / "pfd.sock")
{
    // The daemon listens only in a directory of its own.
    if (::chown(dir_.path().c_str(), 65534, 65534) < 0 || ::chmod(dir_.path().c_str(), 0755) < 0)
        throw std::runtime_error("cannot hand " + dir_.path() + " to uid 65534");
    proc_.emplace(spawn_options{.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                         for_other_uids(pfd_binary()), "serve", "--socket", socket_},
                                .stdin_pipe = false});
    if (!eventually([&] { return ::access(socket_.c_str(), F_OK) == 0; }))
        throw std::runtime_error("pfd serve as uid 65534 did not come up on " + socket_);
    ::chmod(socket_.c_str(), 0666);
}

foreign_daemon::~foreign_daemon()
{
    proc_->signal(SIGTERM);
    proc_->finish();
}

bool exists(const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool have_program(const char* name)
{
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
        if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
    return false;
}

scoped_env::scoped_env(std::string name, const std::optional<std::string>& value) : name_(std::move(name))
{
    if (const char* old = std::getenv(name_.c_str())) previous_ = old;
    if (value)
        ::setenv(name_.c_str(), value->c_str(), 1);
    else
        ::unsetenv(name_.c_str());
}

scoped_env::~scoped_env()
{
    if (previous_)
        ::setenv(name_.c_str(), previous_->c_str(), 1);
    else
        ::unsetenv(name_.c_str());
}

std::vector<std::string> user_env::env() const
{
    return {"XDG_RUNTIME_DIR=" + run.path(),
            "XDG_CONFIG_HOME=" + config.path(),
            "XDG_STATE_HOME=" + state.path(),
            "XDG_DATA_HOME=" + data.path(),
            "PFD_SOCKET",
            "PFD_PROJECT"};
}

result user_env::run_in(std::vector<std::string> argv) const
{
    spawn_options o;
    o.argv = std::move(argv);
    o.env = env();
    o.cwd = work.path();
    return test::run(std::move(o));
}

result user_env::pfd(std::vector<std::string> args) const
{
    args.insert(args.begin(), pfd_binary());
    return run_in(std::move(args));
}

result user_env::hostexec(std::vector<std::string> args) const
{
    args.insert(args.begin(), hostexec_binary());
    return run_in(std::move(args));
}

std::string user_env::write_config(const std::string& text) const
{
    ::mkdir((config / "pfd").c_str(), 0700);
    std::ofstream(config / "pfd/config.toml") << text;
    return config / "pfd/config.toml";
}

bool eventually(const std::function<bool()>& condition, milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

running_daemon::running_daemon(std::vector<std::string> extra_args, std::vector<std::string> prefix)
{
    socket_ = dir_ / "pfd.sock";
    auto [ready_r, ready_w] = make_pipe();
    spawn_options o;
    // A prefix may run the daemon as another uid: it runs a copy that uid can reach.
    auto pfd = prefix.empty() ? pfd_binary() : for_other_uids(pfd_binary());
    o.argv = std::move(prefix);
    for (auto& a : std::vector<std::string>{pfd, "serve", "--socket", socket_, "--ready-fd", "3"}) o.argv.push_back(a);
    o.argv.insert(o.argv.end(), extra_args.begin(), extra_args.end());
    o.stdin_pipe = false;
    o.fds = {{ready_w.get(), 3}};
    o.new_session = true;
    proc_.emplace(std::move(o));
    ready_w.reset();
    pollfd p{ready_r.get(), POLLIN, 0};
    char c = 0;
    if (::poll(&p, 1, 20000) != 1 || ::read(ready_r.get(), &c, 1) != 1 || c != '\n') {
        auto r = proc_->finish(1s);
        throw std::runtime_error("pfd serve did not become ready: " + r.err);
    }
}

running_daemon::~running_daemon()
{
    if (!stopped_) stop();
}

std::vector<std::string> running_daemon::hostexec(std::vector<std::string> args) const
{
    std::vector<std::string> argv{hostexec_binary(), "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

result running_daemon::run(std::vector<std::string> args, std::string_view input) const
{
    spawn_options o;
    o.argv = hostexec(std::move(args));
    return test::run(std::move(o), input);
}

int running_daemon::open_fds() const
{
    return open_fd_count(pid());
}

long running_daemon::resident_kib() const
{
    std::ifstream status("/proc/" + std::to_string(pid()) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return -1;
}

int running_daemon::zombies() const
{
    return count_children(pid(), [](const std::string& state) { return state == "Z"; });
}

int running_daemon::children() const
{
    return count_children(pid(), [](const std::string&) { return true; });
}

result running_daemon::stop(milliseconds timeout)
{
    if (stopped_) return *stopped_;
    proc_->signal(SIGTERM);
    stopped_ = proc_->finish(timeout);
    return *stopped_;
}

std::string running_daemon::log() const
{
    return stopped_ ? stopped_->err : std::string{};
}

unique_fd connect_raw(const std::string& socket)
{
    return connect_unix(socket);
}

std::string read_line(int fd, milliseconds timeout)
{
    std::string s;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (s.find('\n') == std::string::npos) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left <= 0ms || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
        char c;
        ssize_t n = ::read(fd, &c, 1);
        if (n <= 0) break;
        s += c;
    }
    return s;
}

std::string read_all(int fd, milliseconds timeout)
{
    std::string s;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left <= 0ms || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        s.append(buf, static_cast<std::size_t>(n));
    }
    return s;
}

std::optional<std::string> bwrap_unusable()
{
    if (!have_program("bwrap")) return "bwrap is not installed";
    spawn_options probe_options;
    probe_options.argv = {"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "true"};
    auto probe = run(std::move(probe_options));
    if (probe.code() != 0) return "bwrap cannot make a sandbox here: " + probe.err;
    return std::nullopt;
}

bool can_sandbox(std::initializer_list<const char*> programs)
{
    auto why = bwrap_unusable();
    for (const char* program : programs)
        if (!why && !have_program(program)) why = std::string(program) + " is not installed";
    if (why) WARN("skipped: " << *why);
    return !why;
}

result in_sandbox(const running_daemon& d, std::vector<std::string> options, const std::string& script)
{
    std::vector<std::string> argv = {"bwrap", "--ro-bind", "/",     "/",          "--dev",
                                     "/dev",  "--proc",    "/proc", "--unsetenv", "container"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"--unshare-pid", "--die-with-parent", "--", "sh", "-c", "H=\"$0 --socket $1\"; " + script,
                             hostexec_binary(), d.socket()});
    spawn_options o;
    o.argv = std::move(argv);
    return run(std::move(o));
}

} // namespace pfd::test
