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
/// then sends the daemon an exec with the mount's root as its directory
/// descriptor and waits to be killed. Its end closes /dev/fuse: the kernel
/// aborts the connection and every waiting request fails (ENOTCONN).
class hung_fuse_client {
public:
    hung_fuse_client(const std::string& socket, const std::string& mount_point)
    {
        auto told = make_pipe();
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            told.r.reset();
            child(told.w.get(), socket, mount_point);
        }
        told.w.reset();
        pollfd p{told.r.get(), POLLIN, 0};
        REQUIRE(::poll(&p, 1, 20000) == 1);
        char buf[512];
        ssize_t n = ::read(told.r.get(), buf, sizeof buf);
        REQUIRE(n > 0);
        if (buf[0] != '+') failure_ = std::string(buf + 1, static_cast<std::size_t>(n - 1));
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
    [[noreturn]] static void child(int told, const std::string& socket, const std::string& mount_point)
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
        try {
            auto sock = connect_raw(socket);
            int fds[] = {dir};
            pfd::send_with_fds(
                sock.get(), exec_line(fmt::format(R"("argv":["true"],"cwd":"{}","cwd_fd":true)", mount_point)) + "\n",
                fds);
            [[maybe_unused]] auto n = ::write(told, "+", 1);
            for (;;) ::pause(); // holding /dev/fuse and the connection
        } catch (const std::exception&) {
            fail("sending the request");
        }
        ::_exit(1);
    }

    pid_t pid_ = -1;
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
    int before = d.open_fds();
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
    CHECK(eventually([&] { return d.open_fds() == before; }, 20s));
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
