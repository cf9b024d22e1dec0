#include "pfd/error.hpp"
#include "program_launch.hpp"
#include "spawner.hpp"
#include "unique_fd.hpp"

#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pfd::test::make_pipe;
using pfd::test::open_fd_count;
using pfd::test::pipe_ends;
using pfd::test::read_to_eof;
using std::chrono::milliseconds;

namespace {

pfd::unique_fd open_devnull()
{
    pfd::unique_fd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    REQUIRE(fd);
    return fd;
}

/// True when this process has no child at all, running or zombie.
bool no_children()
{
    int st;
    errno = 0;
    pid_t r = ::waitpid(-1, &st, WNOHANG);
    return r == -1 && errno == ECHILD;
}

void send_signal(int pidfd, int signo)
{
    REQUIRE(::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0) == 0);
}

/// A spawned child that is killed and reaped if the test leaves early.
class running_child {
public:
    explicit running_child(pfd::child_process c) : child_(std::move(c)) {}
    running_child(const running_child&) = delete;
    running_child& operator=(const running_child&) = delete;
    ~running_child()
    {
        if (reaped_ || !child_.pidfd) return;
        ::syscall(SYS_pidfd_send_signal, child_.pidfd.get(), SIGKILL, nullptr, 0);
        pfd::reap(child_.pidfd.get());
    }

    pid_t pid() const { return child_.pid; }
    int pidfd() const { return child_.pidfd.get(); }

    /// Waits (bounded) for the exit and reaps; nullopt on timeout.
    std::optional<pfd::exit_status> wait(milliseconds timeout = 20s)
    {
        pollfd p{child_.pidfd.get(), POLLIN, 0};
        int n;
        do n = ::poll(&p, 1, static_cast<int>(timeout.count()));
        while (n < 0 && errno == EINTR);
        if (n != 1) return std::nullopt;
        auto status = pfd::try_reap(child_.pidfd.get());
        if (status) reaped_ = true;
        return status;
    }

    /// Waits (bounded) for the child to be killed by `signo`, checked; its
    /// status, for more checks.
    pfd::exit_status wait_killed_by(int signo)
    {
        auto status = wait();
        REQUIRE(status);
        CHECK_FALSE(status->code);
        CHECK(status->signo == signo);
        return *status;
    }

private:
    pfd::child_process child_;
    bool reaped_ = false;
};

struct captured {
    std::string out;
    pfd::exit_status status;
};

bool maps_target(const pfd::spawn_spec& spec, int target)
{
    return std::any_of(spec.fds.begin(), spec.fds.end(), [&](auto& m) { return m.second == target; });
}

/// Runs `spec` with its stdout captured through a pipe (fd 0 is /dev/null and
/// fd 2 this test's stderr unless the spec maps them) and waits for the exit.
captured run_capturing(pfd::spawn_spec spec)
{
    auto out = make_pipe();
    auto devnull = open_devnull();
    if (!maps_target(spec, 0)) spec.fds.emplace_back(devnull.get(), 0);
    spec.fds.emplace_back(out.w.get(), 1);
    if (!maps_target(spec, 2)) spec.fds.emplace_back(2, 2);
    running_child child(pfd::spawn(spec));
    out.w.reset();
    devnull.reset();
    auto text = read_to_eof(out.r.get());
    REQUIRE(text);
    auto status = child.wait();
    REQUIRE(status);
    return {*text, *status};
}

struct probe_report {
    std::map<std::string, std::string> keys;
    std::vector<std::string> args;

    const std::string& operator[](const std::string& key) const
    {
        static const std::string missing = "<missing>";
        auto it = keys.find(key);
        return it == keys.end() ? missing : it->second;
    }

    std::vector<int> fds() const
    {
        std::vector<int> out;
        std::istringstream in((*this)["fds"]);
        for (std::string n; std::getline(in, n, ',');) out.push_back(std::stoi(n));
        std::sort(out.begin(), out.end());
        return out;
    }
};

probe_report run_probe(pfd::spawn_spec spec)
{
    spec.argv.insert(spec.argv.begin(), pfd::test::probe_binary());
    auto result = run_capturing(std::move(spec));
    INFO(result.out);
    REQUIRE(result.status.code);
    REQUIRE(*result.status.code == 0);
    probe_report report;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        auto key = line.substr(0, eq);
        if (key == "arg")
            report.args.push_back(line.substr(eq + 1));
        else
            report.keys[key] = line.substr(eq + 1);
    }
    return report;
}

pfd::spawn_spec sh(std::string script, std::vector<std::string> args = {})
{
    pfd::spawn_spec spec;
    spec.argv = {"/bin/sh", "-c", std::move(script), "sh"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    return spec;
}

void write_file(const std::string& path, const std::string& content, mode_t mode)
{
    {
        std::ofstream f(path, std::ios::binary);
        f << content;
        REQUIRE(f.good());
    }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

/// Blocks SIGUSR1 and ignores SIGPIPE and SIGINT, restoring all on exit.
class hostile_signal_state {
public:
    hostile_signal_state()
    {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask_);
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ignore, &old_pipe_);
        ::sigaction(SIGINT, &ignore, &old_int_);
    }
    ~hostile_signal_state()
    {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGPIPE, &old_pipe_, nullptr);
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    hostile_signal_state(const hostile_signal_state&) = delete;
    hostile_signal_state& operator=(const hostile_signal_state&) = delete;

private:
    sigset_t old_mask_;
    struct sigaction old_pipe_ {
    }, old_int_{};
};

/// The spawn_error `spec` fails with; FAILs if it starts.
std::optional<pfd::spawn_error> spawn_failure(const pfd::spawn_spec& spec)
{
    try {
        running_child child(pfd::spawn(spec));
        FAIL_CHECK("the command started");
        child.wait();
        return std::nullopt;
    } catch (const pfd::spawn_error& e) {
        return e;
    }
}

} // namespace

TEST_CASE("the child gets exactly the descriptors it is given", "[spawner][fds]")
{
    SECTION("0, 1 and 2 only, even with a non-close-on-exec descriptor open here")
    {
        auto stray = make_pipe(0);
        auto report = run_probe({});
        CHECK(report["fds"] == "0,1,2");
    }
    SECTION("0, 1, 2 and an extra pipe at 5")
    {
        auto extra = make_pipe();
        pfd::spawn_spec spec;
        spec.fds = {{extra.w.get(), 5}};
        auto report = run_probe(spec);
        CHECK(report.fds() == std::vector<int>{0, 1, 2, 5});
    }
    SECTION("1 and a high number only: 0 and 2 stay closed")
    {
        auto out = make_pipe(), extra = make_pipe();
        pfd::spawn_spec spec;
        spec.argv = {pfd::test::probe_binary()};
        spec.fds = {{out.w.get(), 1}, {extra.w.get(), 100}};
        running_child child(pfd::spawn(spec));
        out.w.reset();
        auto text = read_to_eof(out.r.get());
        REQUIRE(text);
        auto status = child.wait();
        REQUIRE(status);
        CHECK(status->code == 0);
        INFO(*text);
        CHECK(text->starts_with("fds=1,100\n"));
    }
    SECTION("the extra descriptor at 5 is the pipe")
    {
        auto extra = make_pipe();
        auto spec = sh("echo five >&5");
        spec.fds = {{extra.w.get(), 5}};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        extra.w.reset();
        CHECK(read_to_eof(extra.r.get()) == "five\n");
    }
}

TEST_CASE("descriptor mappings whose targets collide with sources are honoured", "[spawner][fds]")
{
    SECTION("a swap: a's source number is b's target and the other way round")
    {
        auto a = make_pipe(), b = make_pipe();
        const int na = a.w.get(), nb = b.w.get();
        auto spec = sh("echo to-$1 > /proc/self/fd/$1 && echo to-$2 > /proc/self/fd/$2",
                       {std::to_string(nb), std::to_string(na)});
        spec.fds = {{na, nb}, {nb, na}};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        a.w.reset();
        b.w.reset();
        CHECK(read_to_eof(a.r.get()) == "to-" + std::to_string(nb) + "\n");
        CHECK(read_to_eof(b.r.get()) == "to-" + std::to_string(na) + "\n");
    }
    SECTION("a three-way rotation")
    {
        pipe_ends p[3] = {make_pipe(), make_pipe(), make_pipe()};
        const int n[3] = {p[0].w.get(), p[1].w.get(), p[2].w.get()};
        auto spec = sh("for fd; do echo to-$fd > /proc/self/fd/$fd || exit 1; done",
                       {std::to_string(n[0]), std::to_string(n[1]), std::to_string(n[2])});
        spec.fds = {{n[0], n[1]}, {n[1], n[2]}, {n[2], n[0]}};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        for (auto& e : p) e.w.reset();
        CHECK(read_to_eof(p[0].r.get()) == "to-" + std::to_string(n[1]) + "\n");
        CHECK(read_to_eof(p[1].r.get()) == "to-" + std::to_string(n[2]) + "\n");
        CHECK(read_to_eof(p[2].r.get()) == "to-" + std::to_string(n[0]) + "\n");
    }
    SECTION("stdout and stderr given crosswise")
    {
        auto out = make_pipe(), err = make_pipe();
        auto spec = sh("echo on-1; echo on-2 >&2");
        auto devnull = open_devnull();
        spec.fds = {{devnull.get(), 0}, {out.w.get(), 2}, {err.w.get(), 1}};
        running_child child(pfd::spawn(spec));
        out.w.reset();
        err.w.reset();
        CHECK(read_to_eof(out.r.get()) == "on-2\n");
        CHECK(read_to_eof(err.r.get()) == "on-1\n");
        auto status = child.wait();
        REQUIRE(status);
        CHECK(status->code == 0);
    }
    SECTION("one source at two targets")
    {
        auto out = make_pipe();
        auto spec = sh("echo one >&3; echo two >&4");
        spec.fds = {{out.w.get(), 3}, {out.w.get(), 4}};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        out.w.reset();
        CHECK(read_to_eof(out.r.get()) == "one\ntwo\n");
    }
}

TEST_CASE("the child starts with no blocked and no ignored signal", "[spawner][signals]")
{
    pfd::spawn_spec spec;
    spec.argv = {pfd::test::probe_binary()};
    auto out = make_pipe();
    auto devnull = open_devnull();
    spec.fds = {{devnull.get(), 0}, {out.w.get(), 1}, {2, 2}};
    std::optional<running_child> child;
    {
        hostile_signal_state hostile;
        child.emplace(pfd::spawn(spec));
    }
    out.w.reset();
    auto text = read_to_eof(out.r.get());
    REQUIRE(text);
    REQUIRE(child->wait());
    INFO(*text);
    CHECK(text->find("\nblocked=0000000000000000\n") != std::string::npos);
    CHECK(text->find("\nignored=0000000000000000\n") != std::string::npos);

    // And this process got its own state back.
    sigset_t now;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
    CHECK_FALSE(sigismember(&now, SIGUSR1));
    struct sigaction act {};
    ::sigaction(SIGINT, nullptr, &act);
    CHECK(act.sa_handler != SIG_IGN);
}

TEST_CASE("the child leads its own process group, or session", "[spawner][session]")
{
    SECTION("a new process group by default")
    {
        auto report = run_probe({});
        CHECK(report["pgid_is_pid"] == "1");
        CHECK(report["sid_is_pid"] == "0");
    }
    SECTION("the pid returned is the process group id")
    {
        auto in = make_pipe();
        auto spec = sh("read x");
        spec.fds = {{in.r.get(), 0}};
        running_child child(pfd::spawn(spec));
        CHECK(child.pid() > 0);
        CHECK(::getpgid(child.pid()) == child.pid());
        CHECK(::getsid(child.pid()) == ::getsid(0));
        in.w.reset();
        REQUIRE(child.wait());
    }
    SECTION("a new session with a terminal on fd 0 as its controlling terminal")
    {
        pfd::unique_fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        REQUIRE(master);
        REQUIRE(::grantpt(master.get()) == 0);
        REQUIRE(::unlockpt(master.get()) == 0);
        char name[128];
        REQUIRE(::ptsname_r(master.get(), name, sizeof name) == 0);
        pfd::unique_fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
        REQUIRE(slave);

        pfd::spawn_spec spec;
        spec.new_session = true;
        spec.controlling_terminal = 0;
        spec.fds = {{slave.get(), 0}};
        auto report = run_probe(spec);
        CHECK(report["sid_is_pid"] == "1");
        CHECK(report["pgid_is_pid"] == "1");
        CHECK(report["tty"] == name);
    }
    SECTION("a new session without a terminal on fd 0 fails cleanly")
    {
        const int before = open_fd_count();
        pfd::spawn_spec spec;
        spec.argv = {"/bin/true"};
        spec.new_session = true;
        spec.controlling_terminal = 0;
        auto devnull = open_devnull();
        spec.fds = {{devnull.get(), 0}};
        auto error = spawn_failure(spec);
        REQUIRE(error);
        CHECK(error->code() == pfd::errc::spawn_failed);
        CHECK(error->error() == ENOTTY);
        devnull.reset();
        CHECK(open_fd_count() == before);
        CHECK(no_children());
    }
}

TEST_CASE("umask, nofile and cwd are the ones given", "[spawner][context]")
{
    SECTION("umask")
    {
        for (mode_t mask : {mode_t{0027}, mode_t{0}, mode_t{0777}}) {
            pfd::spawn_spec spec;
            spec.umask = mask;
            char expected[16];
            std::snprintf(expected, sizeof expected, "%04o", static_cast<unsigned>(mask));
            CHECK(run_probe(spec)["umask"] == expected);
        }
    }
    SECTION("nofile given")
    {
        rlimit mine{};
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
        REQUIRE(mine.rlim_cur > 100);
        pfd::spawn_spec spec;
        spec.nofile = rlimit{100, mine.rlim_max};
        CHECK(run_probe(spec)["nofile"] == "100");
        rlimit after{};
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
        CHECK(after.rlim_cur == mine.rlim_cur);
    }
    SECTION("nofile not given is inherited")
    {
        rlimit mine{};
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
        CHECK(run_probe({})["nofile"] == std::to_string(mine.rlim_cur));
    }
    SECTION("cwd")
    {
        pfd::test::temp_dir dir;
        pfd::spawn_spec spec;
        spec.cwd = dir.path();
        CHECK(run_probe(spec)["cwd"] == fs::canonical(dir.path()).string());
        CHECK(fs::current_path() != fs::canonical(dir.path()));
    }
    SECTION("a directory sent with its name: entered by the name while it names the same directory")
    {
        pfd::test::temp_dir tmp;
        fs::path dir = tmp.path();
        fs::create_directory(dir / "a");
        fs::create_directory(dir / "b");
        pfd::unique_fd a(::open((dir / "a").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(a);
        struct stat st {};
        REQUIRE(::fstat(a.get(), &st) == 0);
        pfd::spawn_spec spec;
        spec.cwd = (dir / "a").string();
        spec.cwd_fd = a.get();
        spec.cwd_identity = pfd::file_identity{st.st_dev, st.st_ino};
        CHECK(run_probe(spec)["cwd"] == fs::canonical(dir / "a").string());
        // The name now leads elsewhere (a rename raced the start): the
        // descriptor's directory, wherever it went, not the one named.
        fs::rename(dir / "a", dir / "moved");
        fs::rename(dir / "b", dir / "a");
        CHECK(run_probe(spec)["cwd"] == fs::canonical(dir / "moved").string());
    }
    SECTION("arguments reach the command byte for byte")
    {
        pfd::spawn_spec spec;
        spec.argv = {"\xe9t\xe9", "", "two words", "*"};
        auto report = run_probe(spec);
        CHECK(report.args == std::vector<std::string>{"\xe9t\xe9", "", "two words", "*"});
    }
    SECTION("the environment is exactly the one given")
    {
        pfd::spawn_spec spec;
        spec.argv = {"env"};
        spec.env = {"A=1", "B=two words", "LATIN=\xe9t\xe9"};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        CHECK(result.out == "A=1\nB=two words\nLATIN=\xe9t\xe9\n");
    }
}

// The child must set its RLIMIT_NOFILE only after its descriptors are in
// place: the daemon raises its own limit, so what it receives may sit above
// the limit its children get back.
TEST_CASE("descriptors above the child's nofile limit are still passed", "[spawner][context]")
{
    rlimit mine{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
    REQUIRE(mine.rlim_cur > 400);
    auto extra = make_pipe();

    SECTION("a source numbered above the limit")
    {
        pfd::unique_fd high(::fcntl(extra.w.get(), F_DUPFD_CLOEXEC, 300));
        REQUIRE(high.get() >= 300);
        auto spec = sh("echo ok >&5; ulimit -n");
        spec.nofile = rlimit{64, mine.rlim_max};
        spec.fds = {{high.get(), 5}};
        auto result = run_capturing(spec);
        CHECK(result.status.code == 0);
        CHECK(result.out == "64\n");
        high.reset();
        extra.w.reset();
        CHECK(read_to_eof(extra.r.get()) == "ok\n");
    }
    SECTION("a target numbered above the limit")
    {
        pfd::spawn_spec spec;
        spec.nofile = rlimit{64, mine.rlim_max};
        spec.fds = {{extra.w.get(), 100}};
        auto report = run_probe(spec);
        CHECK(report.fds() == std::vector<int>{0, 1, 2, 100});
        CHECK(report["nofile"] == "64");
    }
}

namespace {

/// `spec` runs, exits 0 and prints `out`.
void check_runs(const pfd::spawn_spec& spec, const std::string& out)
{
    auto result = run_capturing(spec);
    CHECK(result.status.code == 0);
    CHECK(result.out == out);
}

} // namespace

TEST_CASE("the program is looked up in the command's PATH", "[spawner][path]")
{
    pfd::test::temp_dir dir;
    const std::string name = "pfd-spawner-test-cmd";
    write_file(dir / name, "#!/bin/sh\necho found \"$@\"\n", 0755);

    SECTION("PATH from the spec's environment, not this process's")
    {
        REQUIRE(std::string(std::getenv("PATH") ? std::getenv("PATH") : "").find(dir.path()) == std::string::npos);
        pfd::spawn_spec spec;
        spec.argv = {name, "x"};
        spec.env = {"PATH=/nonexistent-pfd-dir:" + dir.path()};
        check_runs(spec, "found x\n");
    }
    SECTION("a program in this process's PATH only is not found")
    {
        pfd::spawn_spec spec;
        spec.argv = {"sh", "-c", "true"};
        spec.env = {"PATH=" + dir.path()};
        auto error = spawn_failure(spec);
        REQUIRE(error);
        CHECK(error->code() == pfd::errc::not_found);
        CHECK(no_children());
    }
    SECTION("an empty element means the current directory")
    {
        for (std::string path : {"/nonexistent-pfd-dir:", ":/nonexistent-pfd-dir", "/nonexistent-pfd-dir::/bin"}) {
            INFO("PATH=" << path);
            pfd::spawn_spec spec;
            spec.argv = {name};
            spec.env = {"PATH=" + path};
            spec.cwd = dir.path();
            check_runs(spec, "found\n");
        }
    }
    SECTION("a non-executable match is skipped for a later executable one")
    {
        pfd::test::temp_dir first;
        write_file(first / name, "#!/bin/sh\necho wrong\n", 0644);
        pfd::spawn_spec spec;
        spec.argv = {name};
        spec.env = {"PATH=" + first.path() + ":" + dir.path()};
        check_runs(spec, "found\n");
    }
    SECTION("a program given is executed as it is, argv[0] only names it")
    {
        pfd::spawn_spec spec;
        spec.program = dir / name;
        spec.argv = {"pfd-no-such-command", "y"};
        spec.env = {"PATH=/nonexistent-pfd-dir"};
        check_runs(spec, "found y\n");
    }
    SECTION("a script without #! runs through /bin/sh")
    {
        const std::string bare = "pfd-spawner-test-bare";
        write_file(dir / bare, "echo bare \"$@\"\n", 0755);
        SECTION("by path")
        {
            pfd::spawn_spec spec;
            spec.argv = {dir / bare, "a b", "c"};
            check_runs(spec, "bare a b c\n");
        }
        SECTION("through PATH")
        {
            pfd::spawn_spec spec;
            spec.argv = {bare, "d"};
            spec.env = {"PATH=" + dir.path()};
            check_runs(spec, "bare d\n");
        }
    }
}

TEST_CASE("spawn failures are reported with their code and leave nothing behind", "[spawner][errors]")
{
    pfd::test::temp_dir dir;
    write_file(dir / "not-executable", "#!/bin/sh\necho ran\n", 0644);
    fs::create_directory(dir / "a-directory");
    write_file(dir / "a-file", "", 0644);
    REQUIRE(no_children());

    struct failing {
        const char* what;
        pfd::spawn_spec spec;
        pfd::errc code;
        int error;
    };
    auto with = [](std::vector<std::string> argv, std::vector<std::string> env = {}, std::string cwd = "/") {
        pfd::spawn_spec spec;
        spec.argv = std::move(argv);
        spec.env = std::move(env);
        spec.cwd = std::move(cwd);
        return spec;
    };
    const failing cases[] = {
        {"missing command in PATH", with({"pfd-no-such-command"}, {"PATH=/usr/bin:/bin"}), pfd::errc::not_found,
         ENOENT},
        {"missing absolute path", with({dir / "missing"}), pfd::errc::not_found, ENOENT},
        {"path through a file", with({dir / "a-file/x"}), pfd::errc::not_found, ENOTDIR},
        {"non-executable file", with({dir / "not-executable"}), pfd::errc::not_executable, EACCES},
        {"non-executable file through PATH", with({"not-executable"}, {"PATH=" + dir.path()}),
         pfd::errc::not_executable, EACCES},
        {"a directory", with({dir / "a-directory"}), pfd::errc::not_executable, EACCES},
        {"a directory through PATH", with({"a-directory"}, {"PATH=" + dir.path()}), pfd::errc::not_executable, EACCES},
        {"missing cwd", with({"/bin/true"}, {}, dir / "missing"), pfd::errc::bad_cwd, ENOENT},
        {"cwd is a file", with({"/bin/true"}, {}, dir / "a-file"), pfd::errc::bad_cwd, ENOTDIR},
        {"empty argv", with({}), pfd::errc::spawn_failed, EINVAL},
        {"empty argv[0]", with({""}), pfd::errc::spawn_failed, EINVAL},
    };
    for (auto& c : cases) {
        INFO(c.what);
        auto in = make_pipe();
        auto out = make_pipe();
        auto spec = c.spec;
        spec.fds = {{in.r.get(), 0}, {out.w.get(), 1}, {2, 2}};
        const int before = open_fd_count();
        auto error = spawn_failure(spec);
        REQUIRE(error);
        CHECK(pfd::to_string(error->code()) == pfd::to_string(c.code));
        CHECK(error->error() == c.error);
        CHECK(std::string(error->what()).size() > 0);
        CHECK(open_fd_count() == before);
        CHECK(no_children());
        // Nothing ran: the output pipe has no writer left and nothing in it.
        out.w.reset();
        CHECK(read_to_eof(out.r.get(), 5s) == "");
    }
}

TEST_CASE("a source descriptor that is not open fails cleanly", "[spawner][errors]")
{
    // A high number nothing here opens: a freed low number would be handed
    // straight back by the spawner's own pipe2() and alias its report pipe.
    int closed = 700;
    while (::fcntl(closed, F_GETFD) != -1) ++closed;
    const int before = open_fd_count();
    pfd::spawn_spec spec;
    spec.argv = {"/bin/true"};
    spec.fds = {{closed, 0}};
    auto error = spawn_failure(spec);
    REQUIRE(error);
    CHECK(error->code() == pfd::errc::spawn_failed);
    CHECK(error->error() == EBADF);
    CHECK(open_fd_count() == before);
    CHECK(no_children());
}

TEST_CASE("try_reap and reap report how the child ended", "[spawner][reap]")
{
    SECTION("nullopt while running, the exit code after")
    {
        auto in = make_pipe();
        auto spec = sh("read x; exit 42");
        spec.fds = {{in.r.get(), 0}};
        running_child child(pfd::spawn(spec));
        in.r.reset();
        CHECK_FALSE(pfd::try_reap(child.pidfd()));
        CHECK_FALSE(pfd::try_reap(child.pidfd()));
        in.w.reset(); // EOF on the child's stdin lets it exit
        auto status = child.wait();
        REQUIRE(status);
        REQUIRE(status->code);
        CHECK(*status->code == 42);
        CHECK(status->signo == 0);
        CHECK_FALSE(status->core);
        // Reaped: the pidfd no longer has a child to wait for.
        CHECK_THROWS_AS(pfd::try_reap(child.pidfd()), std::system_error);
        CHECK(no_children());
    }
    SECTION("killed by SIGSEGV, core or not")
    {
        pfd::test::temp_dir dir; // where a core file would go
        auto spec = sh("kill -SEGV $$");
        spec.cwd = dir.path();
        running_child child(pfd::spawn(spec));
        child.wait_killed_by(SIGSEGV);
    }
    SECTION("killed by SIGSEGV without a core limit: no core")
    {
        auto spec = sh("ulimit -c 0; kill -SEGV $$");
        running_child child(pfd::spawn(spec));
        CHECK_FALSE(child.wait_killed_by(SIGSEGV).core);
    }
    SECTION("killed by SIGKILL while running")
    {
        auto in = make_pipe();
        auto spec = sh("read x");
        spec.fds = {{in.r.get(), 0}};
        running_child child(pfd::spawn(spec));
        CHECK_FALSE(pfd::try_reap(child.pidfd()));
        send_signal(child.pidfd(), SIGKILL);
        CHECK_FALSE(child.wait_killed_by(SIGKILL).core);
    }
    SECTION("reap blocks until the exit")
    {
        auto spec = sh("exit 7");
        auto child = pfd::spawn(spec);
        auto status = pfd::reap(child.pidfd.get());
        CHECK(status.code == 7);
        CHECK(no_children());
    }
    SECTION("the pidfd is close-on-exec")
    {
        auto spec = sh("exit 0");
        running_child child(pfd::spawn(spec));
        int flags = ::fcntl(child.pidfd(), F_GETFD);
        REQUIRE(flags >= 0);
        CHECK((flags & FD_CLOEXEC) != 0);
        REQUIRE(child.wait());
    }
}

TEST_CASE("the child's output reaches end of file when it exits", "[spawner][fds]")
{
    // `later` is not close-on-exec and open while `sleeper` starts: only the
    // spawner's closing keeps it out of the sleeper.
    auto later = make_pipe(0);
    auto sleeper_in = make_pipe();
    auto sleeper_spec = sh("read x; exit 0");
    auto devnull = open_devnull();
    sleeper_spec.fds = {{sleeper_in.r.get(), 0}, {devnull.get(), 1}, {devnull.get(), 2}};
    running_child sleeper(pfd::spawn(sleeper_spec));
    sleeper_in.r.reset();

    auto writer_spec = sh("echo done");
    writer_spec.fds = {{devnull.get(), 0}, {later.w.get(), 1}, {2, 2}};
    running_child writer(pfd::spawn(writer_spec));
    later.w.reset();

    CHECK(read_to_eof(later.r.get()) == "done\n");
    auto status = writer.wait();
    REQUIRE(status);
    CHECK(status->code == 0);
    CHECK_FALSE(pfd::try_reap(sleeper.pidfd()));

    sleeper_in.w.reset();
    status = sleeper.wait();
    REQUIRE(status);
    CHECK(status->code == 0);
    CHECK(no_children());
}

TEST_CASE("a \"#!\" line is split as the kernel splits it", "[spawner]")
{
    auto split = [](std::string_view head) { return pfd::parse_shebang(head); };
    auto plain = split("#!/bin/sh\necho\n");
    REQUIRE(plain);
    CHECK(plain->interpreter == "/bin/sh");
    CHECK_FALSE(plain->argument);
    auto with_arg = split("#! \t/usr/bin/env  python3 -u \t\nrest");
    REQUIRE(with_arg);
    CHECK(with_arg->interpreter == "/usr/bin/env");
    CHECK(with_arg->argument == "python3 -u"); // one argument, as the kernel passes it
    CHECK_FALSE(split("#!\n"));
    CHECK_FALSE(split("#!   \t\n"));
    CHECK_FALSE(split("echo no\n"));
    CHECK(split("#!/bin/sh")->interpreter == "/bin/sh"); // no newline, but whole
    CHECK_FALSE(split("#!" + std::string(254, 'x')));    // the name runs past what the kernel reads
}

TEST_CASE("scripts run with the name they were found by as $0, by a descriptor and by a name of root's", "[spawner]")
{
    pfd::test::temp_dir dir;
    std::ofstream(dir / "s") << "#!/bin/sh\necho \"$0 $1\"\n";
    REQUIRE(::chmod((dir / "s").c_str(), 0755) == 0);
    pfd::spawn_spec spec;
    spec.argv = {"./s", "one"};
    spec.cwd = dir.path();
    CHECK(run_capturing(spec).out == "./s one\n");
    spec.argv = {"s", "two"};
    spec.env = {"PATH=" + dir.path()};
    CHECK(run_capturing(spec).out == (dir / "s") + " two\n");
    // A script of root's in /usr/bin, if there is one (Debian's `which` is).
    if (std::ifstream which("/usr/bin/which"); which.get() == '#' && which.get() == '!') {
        pfd::spawn_spec system;
        system.argv = {"which", "sh"};
        system.env = {"PATH=/usr/bin:/bin"};
        CHECK(run_capturing(system).out.find("/sh\n") != std::string::npos);
    }
}
