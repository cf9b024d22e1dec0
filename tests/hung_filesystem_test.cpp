// A client's directory on a file system whose server never answers (a FUSE
// mount of the client's own) holds up that request only: the daemon's I/O
// threads never wait on it, every other client is served meanwhile, and once
// the file system goes away the request ends without leaving a descriptor,
// a zombie or a registry place behind. Issue 24, part 9.
#include "support/harness.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <fmt/format.h>

using namespace pfd::test;

namespace {

/// Why this machine cannot mount a FUSE file system, or nothing.
std::optional<std::string> fuse_unusable()
{
    if (::geteuid() != 0) return "not root";
    if (::access("/dev/fuse", R_OK | W_OK) != 0) return "no usable /dev/fuse";
    return std::nullopt;
}

/// A forked child that mounts a FUSE file system over `mount_point` in a
/// mount namespace of its own and never reads /dev/fuse (so the kernel's
/// first request, FUSE_INIT, is never answered and every later one waits),
/// then sends the daemon `requests` execs with the mount's root as their
/// directory descriptor and waits to be killed (or asked for one more). Its end closes /dev/fuse: the kernel
/// aborts the connection and every waiting request fails (ENOTCONN).
class hung_fuse_client {
public:
    hung_fuse_client(const std::string& socket, const std::string& mount_point, int requests = 1)
    {
        auto told = make_pipe();
        auto go = make_pipe();
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            told.r.reset();
            go.w.reset();
            child(told.w.get(), go.r.get(), socket, mount_point, requests);
        }
        told_ = std::move(told.r);
        go_ = std::move(go.w);
        auto line = next_line();
        REQUIRE(line);
        if (line->front() != '+') failure_ = line->substr(1);
    }

    /// One more request: the daemon's answer, or nothing when none came
    /// within a few seconds (the request waits, its connection kept open).
    std::optional<std::string> one_more()
    {
        REQUIRE(::write(go_.get(), "g", 1) == 1);
        auto line = next_line();
        REQUIRE(line);
        if (line->front() != '+') return std::nullopt;
        return line->substr(1);
    }
    ~hung_fuse_client() { kill(); }

    /// Why the child could not set it up (then it has exited), or nothing.
    const std::optional<std::string>& failure() const { return failure_; }

    void kill()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    std::optional<std::string> next_line()
    {
        pollfd p{told_.get(), POLLIN, 0};
        if (::poll(&p, 1, 20000) != 1) return std::nullopt;
        char buf[4096];
        ssize_t n = ::read(told_.get(), buf, sizeof buf);
        if (n <= 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }

    [[noreturn]] static void child(int told, int go, const std::string& socket, const std::string& mount_point,
                                   int requests)
    {
        auto fail = [told](const char* what) {
            std::string line = fmt::format("-{}: {}", what, std::strerror(errno));
            [[maybe_unused]] auto n = ::write(told, line.data(), line.size());
            ::_exit(1);
        };
        if (::unshare(CLONE_NEWNS) < 0) fail("unshare(CLONE_NEWNS)");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail("making / private");
        int fuse = ::open("/dev/fuse", O_RDWR);
        if (fuse < 0) fail("open /dev/fuse");
        std::string options = fmt::format("fd={},rootmode=40000,user_id=0,group_id=0", fuse);
        if (::mount("pfd-hung", mount_point.c_str(), "fuse", MS_NOSUID | MS_NODEV, options.c_str()) < 0)
            fail("mount fuse");
        // The mount's root, without a request to the server.
        int dir = ::open(mount_point.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) fail("open the mount point");
        std::vector<pfd::unique_fd> held; // the connections stay open
        auto send = [&] {
            held.push_back(connect_raw(socket));
            int fds[] = {dir};
            std::string line = exec_line(fmt::format(R"("argv":["true"],"cwd":"{}","cwd_fd":true)", mount_point));
            pfd::send_with_fds(held.back().get(), line + "\n", fds);
        };
        try {
            for (int i = 0; i < requests; ++i) send();
            [[maybe_unused]] auto n = ::write(told, "+", 1);
            char byte;
            // Holding /dev/fuse and the connections meanwhile.
            while (::read(go, &byte, 1) == 1) {
                send();
                pollfd p{held.back().get(), POLLIN, 0};
                std::string answer = "-";
                if (::poll(&p, 1, 5000) == 1) {
                    // The answer is one line; its end need not follow.
                    char buf[2048];
                    ssize_t got = ::read(held.back().get(), buf, sizeof buf);
                    answer = "+" + std::string(buf, got > 0 ? static_cast<std::size_t>(got) : 0);
                }
                n = ::write(told, answer.data(), answer.size());
            }
            for (;;) ::pause();
        } catch (const std::exception&) {
            fail("sending a request");
        }
        ::_exit(1);
    }

    pid_t pid_ = -1;
    pfd::unique_fd told_, go_;
    std::optional<std::string> failure_;
};

/// Whether the daemon holds a descriptor of `path` (its /proc link, read
/// without asking the file system behind it).
bool holds_descriptor_of(pid_t daemon, const std::string& path)
{
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", daemon), ec)) {
        std::error_code link_ec;
        if (std::filesystem::read_symlink(entry.path(), link_ec).string() == path) return true;
    }
    return false;
}

/// The daemon's descriptors once no connection or command of an earlier
/// request is left (its listening socket is its only socket).
int settled_fds(const running_daemon& d)
{
    auto quiet = [&] {
        int sockets = 0;
        std::error_code ec;
        for (auto& entry : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", d.pid()), ec)) {
            std::error_code link_ec;
            std::string link = std::filesystem::read_symlink(entry.path(), link_ec).string();
            if (link.starts_with("socket:")) ++sockets;
            if (link == "anon_inode:[pidfd]") return false;
        }
        return sockets == 1;
    };
    REQUIRE(eventually(quiet));
    return d.open_fds();
}

} // namespace

TEST_CASE("a directory on a FUSE file system that never answers holds up only its own request", "[fuse]")
{
    if (auto why = fuse_unusable()) {
        WARN("skipped: " << *why);
        return;
    }
    running_daemon d;
    // Warmed up: whatever the daemon keeps open after its first exec (a
    // mount table, a thread) is counted in before.
    REQUIRE(d.run({"true"}).code() == 0);
    int before = settled_fds(d);
    temp_dir mount_point; // mounted on only in the child's namespace

    hung_fuse_client client(d.socket(), mount_point.path());
    if (client.failure()) {
        WARN("skipped: cannot mount a FUSE file system here: " << *client.failure());
        return;
    }
    // The daemon has the request (and the descriptor of the mount's root).
    REQUIRE(eventually([&] { return holds_descriptor_of(d.pid(), mount_point.path()); }));

    // Everyone else is served meanwhile, promptly: before, the daemon's only
    // I/O thread waited in fstat() on the descriptor for good.
    result other = run(spawn_options{.argv = d.hostexec({"true"})}, {}, 10s);
    CHECK_FALSE(other.timed_out);
    CHECK(other.code() == 0);
    result status = run(spawn_options{.argv = {pfd_binary(), "status", "--socket", d.socket()}}, {}, 10s);
    CHECK_FALSE(status.timed_out);
    CHECK(status.code() == 0);
    // The waiting request holds one place for a start off the I/O thread;
    // the others are still there.
    result more = run(spawn_options{.argv = d.hostexec({"sh", "-c", "exit 3"})}, {}, 10s);
    CHECK_FALSE(more.timed_out);
    CHECK(more.code() == 3);

    // The file system's server goes: the connection is aborted, the waiting
    // request fails, and nothing of it stays in the daemon.
    client.kill();
    bool released = eventually([&] { return d.open_fds() == before; }, 20s);
    INFO("descriptors before " << before << ", now " << d.open_fds() << ": "
                               << run(spawn_options{.argv = {"ls", "-l", fmt::format("/proc/{}/fd", d.pid())}}).out);
    CHECK(released);
    CHECK(d.zombies() == 0);
    result after = run(spawn_options{.argv = d.hostexec({"true"})}, {}, 10s);
    CHECK_FALSE(after.timed_out);
    CHECK(after.code() == 0);
    CHECK(eventually([&] { return d.open_fds() == before; }));
    CHECK(d.zombies() == 0);
    result ps = run(spawn_options{.argv = {pfd_binary(), "ps", "--socket", d.socket()}}, {}, 10s);
    INFO(ps.out << ps.err);
    CHECK(ps.code() == 0);
    CHECK(ps.out.find("true") == std::string::npos);
    auto start = std::chrono::steady_clock::now();
    result stopped = d.stop();
    INFO(stopped.err);
    CHECK(stopped.code() == 0);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("at most 8 requests wait for the slow-starts thread; more are answered busy at once", "[fuse]")
{
    if (auto why = fuse_unusable()) {
        WARN("skipped: " << *why);
        return;
    }
    running_daemon d;
    REQUIRE(d.run({"true"}).code() == 0);
    int before = settled_fds(d);
    temp_dir mount_point;
    hung_fuse_client client(d.socket(), mount_point.path(), 8);
    if (client.failure()) {
        WARN("skipped: cannot mount a FUSE file system here: " << *client.failure());
        return;
    }
    // The 8 may still be on their way to the thread: one or two more may
    // wait too before the first is refused.
    std::optional<std::string> answer;
    for (int i = 0; i < 4 && !answer; ++i) answer = client.one_more();
    REQUIRE(answer);
    CHECK(answer->find(R"("code":"busy")") != std::string::npos);
    CHECK(answer->find("FUSE") != std::string::npos);
    result other = run(spawn_options{.argv = d.hostexec({"true"})}, {}, 10s);
    CHECK_FALSE(other.timed_out);
    CHECK(other.code() == 0);

    client.kill();
    bool released = eventually([&] { return d.open_fds() == before; }, 20s);
    INFO("descriptors before " << before << ", now " << d.open_fds() << ": "
                               << run(spawn_options{.argv = {"ls", "-l", fmt::format("/proc/{}/fd", d.pid())}}).out);
    CHECK(released);
    CHECK(d.zombies() == 0);
    result ps = run(spawn_options{.argv = {pfd_binary(), "status", "--json", "--socket", d.socket()}}, {}, 10s);
    INFO(ps.out);
    CHECK(ps.out.find(R"("running":0)") != std::string::npos);
}
