// The caller's context by reference: the command runs in the caller's very
// directory (sent as a descriptor, whatever its path means here) and gets
// every descriptor a local exec would hand on. Containers are played by
// bubblewrap, flatpak's sandbox: a directory of its own, a bind mount.
#include "support/harness.hpp"

#include "pfd/protocol.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace pfd::test;

TEST_CASE("a directory of the container's own: the command runs in it, not in the host's of that name", "[context]")
{
    if (!can_sandbox()) return;
    running_daemon d;
    temp_dir t;
    std::string shadowed = t / "srv";
    ::mkdir(shadowed.c_str(), 0755);
    std::ofstream(shadowed + "/marker") << "host\n";
    // The sandbox has its own (tmpfs) directory where the host has `shadowed`.
    auto r = in_sandbox(d, {"--tmpfs", shadowed},
                        "cd " + shadowed + " && echo inside > marker && $H cat marker && $H printenv PWD || echo none");
    CHECK(r.code() == 0);
    INFO(r.err);
    // No name on the host leads to it: no PWD rather than one naming the host's directory.
    CHECK(r.out == "inside\nnone\n");
    CHECK(slurp(shadowed + "/marker") == "host\n");
}

TEST_CASE("a directory bound to another path (podman -v DIR:/srv/work -w /srv/work) works there", "[context]")
{
    if (!can_sandbox()) return;
    running_daemon d;
    temp_dir work;
    std::ofstream(work / "Makefile") << "all:\n";
    auto r = in_sandbox(d, {"--tmpfs", "/srv", "--bind", work.path(), "/srv/work", "--chdir", "/srv/work"},
                        "$H ls && $H touch made");
    CHECK(r.code() == 0);
    INFO(r.err);
    CHECK(r.out == "Makefile\n");
    struct stat st {};
    CHECK(::stat((work / "made").c_str(), &st) == 0);
}

TEST_CASE("a directory bound to another path: the command's getcwd() names the host's directory", "[context]")
{
    if (!can_sandbox()) return;
    running_daemon d;
    temp_dir work;
    auto r = in_sandbox(d, {"--tmpfs", "/srv", "--bind", work.path(), "/srv/work", "--chdir", "/srv/work"},
                        "$H /bin/pwd && $H sh -c 'echo $PWD'");
    INFO(r.err);
    CHECK(r.code() == 0);
    std::string real = std::filesystem::canonical(work.path()).string();
    CHECK(r.out == real + "\n" + real + "\n");
}

TEST_CASE("a client's path that names another directory than the one it sent is not where the command runs",
          "[context][security]")
{
    // The name a client gives travels beside the directory itself; a client
    // that names another directory here (its .ssh, say) must still get the
    // one it sent, and PWD must not point at the other.
    running_daemon d;
    temp_dir t;
    ::mkdir((t / "sent").c_str(), 0755);
    ::mkdir((t / "named").c_str(), 0755);
    pfd::unique_fd dir(::open((t / "sent").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir);
    auto out = make_pipe();
    pfd::exec_request req;
    req.argv = {"sh", "-c", "pwd -P; echo \"$PWD\""};
    req.env = {"PATH=/usr/bin:/bin", "PWD=" + t / "named"};
    req.cwd = t / "named";
    req.cwd_fd = true;
    req.fds = {1};
    pfd::unique_fd sock = connect_raw(d.socket());
    int fds[] = {dir.get(), out.w.get()};
    pfd::send_with_fds(sock.get(), pfd::encode_request(req), fds);
    out.w.reset();
    auto printed = read_to_eof(out.r.get());
    REQUIRE(printed);
    std::string sent = std::filesystem::canonical(t / "sent").string();
    CHECK(*printed == sent + "\n" + sent + "\n");
}

TEST_CASE("PWD: the caller's when it names the same directory here", "[context]")
{
    running_daemon d;
    temp_dir t;
    ::mkdir((t / "real").c_str(), 0755);
    REQUIRE(::symlink((t / "real").c_str(), (t / "link").c_str()) == 0);
    auto r = run(
        {.argv = d.hostexec({"sh", "-c", "echo \"$PWD\"; pwd -P"}), .env = {"PWD=" + t / "link"}, .cwd = t / "link"});
    CHECK(r.code() == 0);
    CHECK(r.out == t / "link" + "\n" + t / "real" + "\n");
}

TEST_CASE("every descriptor a local exec hands on reaches the command", "[context]")
{
    running_daemon d;
    auto through = [&](const std::string& shell, const std::string& script) {
        return run({.argv = {shell, "-c", "H=\"$0 --socket $1\"; " + script, hostexec_binary(), d.socket()}});
    };
    SECTION("process substitution")
    {
        if (!have_program("bash")) {
            WARN("skipped: bash is not installed");
            return;
        }
        auto r = through("bash", "$H diff <(echo a) <(echo b)");
        CHECK(r.code() == 1);
        CHECK(r.out == "1c1\n< a\n---\n> b\n");
    }
    SECTION("a heredoc on descriptor 3, an output on 5")
    {
        temp_dir t;
        auto r = through("sh", "$H sh -c 'cat <&3; echo logged >&5' 3<<EOF 5>" + t / "log" + "\nfrom three\nEOF\n");
        CHECK(r.code() == 0);
        CHECK(r.out == "from three\n");
        CHECK(slurp(t / "log") == "logged\n");
    }
    SECTION("more than one message can carry is hostexec's own error, naming the way out")
    {
        auto null = pfd::unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        std::vector<std::pair<int, int>> many;
        for (int fd = 3; fd < 3 + 260; ++fd) many.emplace_back(null.get(), fd);
        auto r = run({.argv = d.hostexec({"true"}), .fds = many});
        CHECK(r.code() == 125);
        CHECK(r.err.find("263 open descriptors") != std::string::npos);
        CHECK(r.err.find("--no-inherit-fds") != std::string::npos);
        auto fewer = run({.argv = d.hostexec({"--no-inherit-fds", "true"}), .fds = many});
        CHECK(fewer.code() == 0);
    }
}

TEST_CASE("a command from a container gets the host's environment, with the client's terminal and locale",
          "[context][env]")
{
    if (!can_sandbox()) return;
    temp_dir conf;
    // No user bus: the host's environment is a login environment
    // (session_env_test.cpp has the user manager's).
    running_daemon d({}, {"env", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/pfdt-bus"});
    std::vector<std::string> container_env = {
        "--setenv", "PFDT_CONTAINER", "no",       "--setenv",   "LD_LIBRARY_PATH",
        "/app/lib", "--setenv",       "TERM",     "xterm-pfdt", "--setenv",
        "LC_TIME",  "C.UTF-8",        "--setenv", "PATH",       "/app/bin:/usr/bin:/bin"};
    auto r = in_sandbox(d, container_env, "$H env");
    INFO(r.err);
    CHECK(r.code() == 0);
    CHECK(r.out.find("\nPATH=/app/bin") == std::string::npos);
    CHECK(r.out.find("\nTERM=xterm-pfdt\n") != std::string::npos);
    CHECK(r.out.find("\nLC_TIME=C.UTF-8\n") != std::string::npos);
    CHECK(r.out.find("PFDT_CONTAINER") == std::string::npos);
    CHECK(r.out.find("LD_LIBRARY_PATH") == std::string::npos);

    // Asked for by name, per call.
    auto asked = in_sandbox(d, container_env, "$H --env-forward=PFDT_CONTAINER --env=PFDT_SET=1 env");
    CHECK(asked.out.find("\nPFDT_CONTAINER=no\n") != std::string::npos);
    CHECK(asked.out.find("\nPFDT_SET=1\n") != std::string::npos);
    CHECK(asked.out.find("LD_LIBRARY_PATH") == std::string::npos);

    // [container] environment = "client": the client's, whole.
    std::ofstream(conf / "c.toml") << "[container]\nenvironment = \"client\"\n";
    running_daemon whole({"--config", conf / "c.toml"});
    auto all = in_sandbox(whole, container_env, "$H env");
    CHECK(all.out.find("\nPFDT_CONTAINER=no\n") != std::string::npos);
    CHECK(all.out.find("\nLD_LIBRARY_PATH=/app/lib\n") != std::string::npos);
}

TEST_CASE("a client in the daemon's own namespace keeps its whole environment, whatever it says", "[context][env]")
{
    running_daemon d;
    auto r = run({.argv = d.hostexec({"env"}), .env = {"container=podman", "PFDT_MINE=1"}});
    CHECK(r.code() == 0);
    CHECK(r.out.find("\nPFDT_MINE=1\n") != std::string::npos);
}

TEST_CASE("pfd ps tells which commands came from a container", "[context][env]")
{
    if (!can_sandbox()) return;
    running_daemon d;
    // Detached, the command keeps the descriptors it got: it lets ours go.
    auto inside = in_sandbox(d, {}, "$H -d sh -c 'exec sleep 30 </dev/null >/dev/null 2>&1'");
    REQUIRE(inside.code() == 0);
    process here({.argv = d.hostexec({"sh", "-c", "echo ready; read x"})});
    REQUIRE(here.read_stdout_until("ready\n") == "ready\n");
    auto ps = run({.argv = {pfd_binary(), "ps", "--socket", d.socket()}});
    CHECK(ps.code() == 0);
    INFO(ps.out);
    CHECK(ps.out.find(" FROM ") != std::string::npos);
    CHECK(ps.out.find(" container ") != std::string::npos);
    CHECK(ps.out.find(" host ") != std::string::npos);
    auto json = run({.argv = {pfd_binary(), "ps", "--json", "--socket", d.socket()}});
    CHECK(json.out.find("\"origin\":\"container\"") != std::string::npos);
    here.write_stdin("\n");
    CHECK(here.finish().code() == 0);
    auto id = std::stoull(inside.out);
    CHECK(run({.argv = {pfd_binary(), "cancel", std::to_string(id), "--socket", d.socket()}}).code() == 0);
}

TEST_CASE("hostexec -C in a container starts no daemon there and says where to start one", "[context]")
{
    temp_dir run_dir;
    std::vector<std::string> env = {"XDG_RUNTIME_DIR=" + run_dir.path(), "PFD_SOCKET", "PFD_PROJECT",
                                    "container=podman"};
    auto r = run({.argv = {hostexec_binary(), "-C", "true"}, .env = env});
    CHECK(r.code() == 125);
    CHECK(r.err.find("would run inside this container (podman)") != std::string::npos);
    CHECK(r.err.find("docs/containers.md") != std::string::npos);
    struct stat st {};
    CHECK(::stat((run_dir / "pfd.sock").c_str(), &st) < 0);
}

namespace {

/// A user in a container (as $container says; podman also leaves
/// /run/.containerenv) with empty runtime, state and config directories.
struct container_user {
    temp_dir run, state, config;
    /// A daemon the code under test should not have started is not left behind.
    ~container_user()
    {
        if (exists(run / "pfd.sock")) pfd({"stop"});
    }
    std::vector<std::string> env() const
    {
        return {"XDG_RUNTIME_DIR=" + run.path(),
                "XDG_STATE_HOME=" + state.path(),
                "XDG_CONFIG_HOME=" + config.path(),
                "PFD_SOCKET",
                "PFD_PROJECT",
                "container=podman"};
    }
    result pfd(std::vector<std::string> args) const
    {
        args.insert(args.begin(), pfd_binary());
        return pfd::test::run({.argv = std::move(args), .env = env(), .cwd = "/"});
    }
    /// hostexec -C's refusal, the first line of it, without "hostexec: ".
    std::string hostexec_refusal() const
    {
        auto r = pfd::test::run({.argv = {hostexec_binary(), "-C", "true"}, .env = env(), .cwd = "/"});
        REQUIRE(r.err.starts_with("hostexec: "));
        return r.err.substr(10, r.err.find('\n') - 10);
    }
};

} // namespace

TEST_CASE("pfd start, serve and restart in a container start no daemon there, in hostexec -C's words", "[context]")
{
    container_user u;
    std::string refusal = u.hostexec_refusal();
    CHECK(refusal.find("would run inside this container (podman)") != std::string::npos);
    for (std::string verb : {"start", "serve", "restart"}) {
        auto r = u.pfd({verb});
        INFO(verb << ": " << r.err);
        CHECK(r.code() == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "pfd: " + refusal + "\npfd: 'pfd " + verb +
                           " --in-container' starts one in this container all the same\n");
        CHECK_FALSE(exists(u.run / "pfd.sock"));
    }
}

TEST_CASE("pfd start --in-container starts one in the container; pfd start then finds it running", "[context]")
{
    container_user u;
    auto started = u.pfd({"start", "--in-container"});
    INFO(started.err);
    REQUIRE(started.code() == 0);
    CHECK(exists(u.run / "pfd.sock"));
    // Running already (as a host's daemon shared into the container is): said, not refused.
    auto again = u.pfd({"start"});
    CHECK(again.code() == 0);
    CHECK(again.err.empty());
    CHECK(again.out.starts_with("pfd: a daemon already runs on '" + (u.run / "pfd.sock") + "' (pid "));
    CHECK(again.out.ends_with("); nothing to start\n"));
    // A restart hands over to a successor that is allowed in here too.
    auto restarted = u.pfd({"restart"});
    INFO(restarted.err);
    CHECK(restarted.code() == 0);
    CHECK(u.pfd({"status"}).code() == 0);
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("pfd serve --in-container serves in the container", "[context]")
{
    container_user u;
    auto ready = make_pipe();
    process serve({.argv = {pfd_binary(), "serve", "--in-container", "--ready-fd", "3"},
                   .env = u.env(),
                   .fds = {{ready.w.get(), 3}}});
    ready.w.reset();
    CHECK(read_line(ready.r.get()) == "\n");
    CHECK(exists(u.run / "pfd.sock"));
    serve.signal(SIGTERM);
    CHECK(serve.finish().code() == 0);
}

TEST_CASE("pfd start refuses where a container engine left its mark", "[context]")
{
    if (!can_sandbox()) return;
    temp_dir run_dir, state, mark;
    std::ofstream(mark / "containerenv") << "engine=\"podman\"\n";
    std::vector<std::string> argv = {"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"};
    argv.insert(argv.end(), {"--tmpfs", "/run", "--ro-bind", mark / "containerenv", "/run/.containerenv"});
    argv.insert(argv.end(), {"--bind", run_dir.path(), run_dir.path(), "--unsetenv", "container"});
    argv.insert(argv.end(), {"--die-with-parent", "--", pfd_binary(), "start"});
    auto r = run(
        {.argv = argv,
         .env = {"XDG_RUNTIME_DIR=" + run_dir.path(), "XDG_STATE_HOME=" + state.path(), "PFD_SOCKET", "PFD_PROJECT"}});
    INFO(r.err);
    CHECK(r.code() == 1);
    CHECK(r.err.find("would run inside this container (podman)") != std::string::npos);
    CHECK_FALSE(exists(run_dir / "pfd.sock"));
}

TEST_CASE("a terminal the host can name: the daemon opens it, even for a client with its own /dev/pts",
          "[context][tty]")
{
    if (!can_sandbox({"script"})) return;
    running_daemon d;
    // bwrap's --dev gives the sandbox a /dev/pts of its own; script(1) runs
    // hostexec on a terminal of that instance, which the host cannot name.
    // The command (on the host) checks that its terminal's name leads to it.
    auto r = in_sandbox(d, {},
                        "script -qec \"stty rows 33 cols 99; $H sh -c 'n=\\$(tty) && test -c \\$n && echo named "
                        "\\$n' && $H stty size\" /dev/null");
    INFO(r.out << r.err);
    CHECK(r.code() == 0);
    CHECK(r.out.find("named /dev/pts/") != std::string::npos);
    CHECK(r.out.find("33 99\r\n") != std::string::npos);
}

TEST_CASE("in a sandbox: exit codes, death by a signal, bytes both ways, process substitution", "[context]")
{
    if (!can_sandbox()) return;
    running_daemon d;
    auto codes = in_sandbox(d, {}, "$H sh -c 'exit 42'; echo \"rc=$?\"; $H sh -c 'kill -TERM $$'; echo \"rc=$?\"");
    CHECK(codes.out == "rc=42\nrc=143\n");
    auto bytes = in_sandbox(d, {}, "printf 'a\\0b\\377' | $H od -An -tx1");
    CHECK(bytes.out == " 61 00 62 ff\n");
    if (!have_program("bash")) {
        WARN("skipped the rest: bash is not installed");
        return;
    }
    auto substituted = in_sandbox(d, {},
                                  "exec bash -c '$0 --socket $1 diff <(echo a) <(echo b); echo \"rc=$?\"' "
                                  "\"$0\" \"$1\"");
    CHECK(substituted.out == "1c1\n< a\n---\n> b\nrc=1\n");
}
