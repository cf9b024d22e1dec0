// Discovery, pfd start/stop and hostexec -C: finding, starting and stopping
// the daemon without anyone thinking about it.
#include "pfd/discovery.hpp"
#include "config.hpp"
#include "background_daemon.hpp"
#include "project_trust.hpp"
#include "support/harness.hpp"
#include "support/terminal.hpp"
#include "unix_socket.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace pfd;
using namespace pfd::test;

namespace {

} // namespace

TEST_CASE("discovery: flag, then PFD_SOCKET, then local, project and runtime in order", "[discovery]")
{
    temp_dir run, work;
    scoped_env xdg("XDG_RUNTIME_DIR", run.path());
    scoped_env sock("PFD_SOCKET", std::nullopt);
    scoped_env proj("PFD_PROJECT", std::nullopt);
    discovery_request r;
    r.cwd = work.path();

    CHECK(discover(r).socket == run / "pfd.sock");
    CHECK(discover(r).how == "runtime");

    // What a trusted .pfd.toml names (resolve_context finds and checks it).
    r.file_project = "myproj";
    CHECK(discover(r).socket == run / "pfd.myproj.sock");
    CHECK(discover(r).project == "myproj");

    {
        scoped_env env_project("PFD_PROJECT", "other");
        CHECK(discover(r).socket == run / "pfd.other.sock");
        auto flagged = r;
        flagged.project_flag = "flagged";
        CHECK(discover(flagged).socket == run / "pfd.flagged.sock");
    }

    auto local = idle_listener(work / "pfd.sock");
    CHECK(discover(r).how == "project"); // "local" is not in the default order
    r.order = {"local", "project", "runtime"};
    CHECK(discover(r).socket == work / "pfd.sock");
    CHECK(discover(r).how == "local");
    ::chmod(work.path().c_str(), 0770); // others may write there: not trusted
    CHECK(discover(r).how == "project");
    ::chmod(work.path().c_str(), 0700);

    auto reordered = r;
    reordered.order = {"runtime", "local"};
    CHECK(discover(reordered).socket == run / "pfd.sock");

    {
        scoped_env env_socket("PFD_SOCKET", "/x/env.sock");
        CHECK(discover(r).socket == "/x/env.sock");
        auto flagged = r;
        flagged.socket_flag = "/x/flag.sock";
        CHECK(discover(flagged).socket == "/x/flag.sock");
    }
}

TEST_CASE("discovery: a project without a name takes its directory's; bad names are refused", "[discovery]")
{
    temp_dir run, parent;
    scoped_env xdg("XDG_RUNTIME_DIR", run.path());
    scoped_env sock("PFD_SOCKET", std::nullopt);
    scoped_env proj("PFD_PROJECT", std::nullopt);
    std::string dir = parent / "web-app_2";
    CHECK(project_name({dir + "/.pfd.toml", "[limits]\nfds = 8\n"}) == "web-app_2");
    CHECK(project_name({dir + "/.pfd.toml", "project = \"named\"\n"}) == "named");
    discovery_request r;
    r.cwd = dir;
    r.file_project = "web-app_2";
    CHECK(discover(r).socket == run / "pfd.web-app_2.sock");

    for (std::string bad : std::vector<std::string>{".hidden", "a/b", "", std::string(65, 'x'), "sp ace"}) {
        INFO("name '" << bad << "'");
        CHECK_FALSE(is_valid_project_name(bad));
    }
    CHECK(is_valid_project_name(std::string(64, 'x')));
    scoped_env env_project("PFD_PROJECT", "../escape");
    CHECK_THROWS_WITH(discover(r), Catch::Contains("../escape") && Catch::Contains("PFD_PROJECT"));
}

bool state_is_zombie(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), {});
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

TEST_CASE("hostexec -C starts the daemon once; pfd stop removes socket and pidfile", "[lifecycle]")
{
    user_env u;
    auto refused = run({.argv = {hostexec_binary(), "true"}, .env = u.env()});
    CHECK(refused.code() == 125);
    CHECK(refused.err.find("pfd start") != std::string::npos);
    CHECK(refused.err.find("systemctl --user enable --now pfd.socket") != std::string::npos);

    auto first = run({.argv = {hostexec_binary(), "-C", "echo", "hello"}, .env = u.env()});
    CHECK(first.code() == 0);
    CHECK(first.out == "hello\n");
    CHECK(exists(u.run / "pfd.sock"));
    CHECK(exists(u.run / "pfd.pid"));
    CHECK(exists(u.state / "pfd/pfd.sock.log"));
    auto again = run({.argv = {hostexec_binary(), "echo", "again"}, .env = u.env()});
    CHECK(again.out == "again\n");

    auto start = u.pfd({"start"}); // already running: nothing to do
    CHECK(start.code() == 0);
    auto stop = u.pfd({"stop"});
    CHECK(stop.code() == 0);
    CHECK(stop.out.find("pfd: stopped pid ") != std::string::npos);
    CHECK_FALSE(exists(u.run / "pfd.sock"));
    CHECK_FALSE(exists(u.run / "pfd.pid"));
}

TEST_CASE("twenty clients auto-starting at once end with one daemon and twenty results", "[lifecycle]")
{
    user_env u;
    std::vector<process> clients;
    for (int i = 0; i < 20; ++i)
        clients.emplace_back(
            spawn_options{.argv = {hostexec_binary(), "-C", "sh", "-c", "echo $0", std::to_string(i)}, .env = u.env()});
    for (int i = 0; i < 20; ++i) {
        auto r = clients[static_cast<std::size_t>(i)].finish();
        INFO("client " << i << ": " << r.err);
        CHECK(r.code() == 0);
        CHECK(r.out == std::to_string(i) + "\n");
        CHECK(r.err.empty()); // a start that lost the race has nothing to say
    }
    // Every `pfd start` but the daemon has exited by now.
    int daemons = 0;
    for (pid_t pid : find_processes(u.run / "pfd.sock")) {
        std::error_code ec;
        auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
        if (!ec && exe.ends_with("/pfd")) ++daemons;
    }
    CHECK(daemons == 1);
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("a project's daemon is found from anywhere under the project", "[lifecycle]")
{
    user_env u;
    temp_dir proj;
    std::ofstream(proj / ".pfd.toml") << "project = \"myproj\"\n[limits]\nfds = 8\n";
    REQUIRE(u.pfd({"trust", proj / ".pfd.toml"}).code() == 0);
    ::mkdir((proj / "src").c_str(), 0700);
    auto r = run({.argv = {hostexec_binary(), "-C", "pwd"}, .env = u.env(), .cwd = proj / "src"});
    CHECK(r.code() == 0);
    CHECK(exists(u.run / "pfd.myproj.sock"));
    CHECK(exists(u.run / "pfd.myproj.pid"));
    CHECK_FALSE(exists(u.run / "pfd.sock"));
    // The project's own policy is the daemon's.
    std::ofstream(proj / ".pfd.toml") << "project = \"myproj\"\n[policy]\ndeny_commands = [\"date\"]\n";
    REQUIRE(u.pfd({"trust", proj / ".pfd.toml"}).code() == 0); // an edit needs trusting again
    REQUIRE(run({.argv = {pfd_binary(), "reload"}, .env = u.env(), .cwd = proj.path()}).code() == 0);
    auto refused = run({.argv = {hostexec_binary(), "date"}, .env = u.env(), .cwd = proj / "src"});
    CHECK(refused.code() == 125);
    CHECK(refused.err.find("not allowed here") != std::string::npos);
    // A second project beside it gets its own daemon, with its own (default) policy.
    auto other = run({.argv = {hostexec_binary(), "-C", "--project", "other", "date"}, .env = u.env()});
    CHECK(other.code() == 0);
    CHECK(exists(u.run / "pfd.other.sock"));
    auto stop = run({.argv = {pfd_binary(), "stop"}, .env = u.env(), .cwd = proj.path()});
    CHECK(stop.code() == 0);
    CHECK_FALSE(exists(u.run / "pfd.myproj.sock"));
    CHECK(u.pfd({"stop", "--project", "other"}).code() == 0);
}

TEST_CASE("a live daemon's socket is never taken; a stale one is replaced", "[lifecycle]")
{
    running_daemon d;
    auto second = run({.argv = {pfd_binary(), "serve", "--socket", d.socket()}});
    CHECK(second.code() == 1);
    CHECK(second.err.find("already") != std::string::npos);
    CHECK(d.run({"true"}).code() == 0);

    user_env u;
    {
        auto stale = idle_listener(u.run / "pfd.sock");
    } // closed: nobody listens any more
    REQUIRE(exists(u.run / "pfd.sock"));
    CHECK(u.pfd({"start"}).code() == 0);
    auto r = run({.argv = {hostexec_binary(), "echo", "fresh"}, .env = u.env()});
    CHECK(r.out == "fresh\n");
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("systemd: socket activation through LISTEN_FDS", "[systemd]")
{
    if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
        WARN("skipped: needs systemd-socket-activate");
        return;
    }
    temp_dir dir;
    std::string socket = dir / "pfd.sock";
    process activator({.argv = {"systemd-socket-activate", "-l", socket, pfd_binary(), "serve", "--socket", socket},
                       .stdin_pipe = false});
    // The socket exists once bound, a moment before it listens: wait until
    // a connection is taken (the first one starts the daemon, which sees it
    // close unsent, as any client that goes away).
    REQUIRE(eventually([&] { return pfd::try_connect_unix(socket).second == 0; }));
    auto r = run({.argv = {hostexec_binary(), "--socket", socket, "sh", "-c",
                           "echo activated; env | grep -c ^LISTEN_ || true"}});
    CHECK(r.code() == 0);
    CHECK(r.out == "activated\n0\n");
    activator.signal(SIGTERM);
    auto done = activator.finish();
    CHECK(done.code() == 0);
}

TEST_CASE("systemd: READY=1 and STOPPING=1 through NOTIFY_SOCKET", "[systemd]")
{
    temp_dir dir;
    std::string notify = dir / "notify";
    unique_fd listener(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", notify.c_str());
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    auto next_message = [&] {
        pollfd p{listener.get(), POLLIN, 0};
        if (::poll(&p, 1, 20000) != 1) return std::string("<nothing>");
        char buf[512];
        auto n = ::recv(listener.get(), buf, sizeof buf, 0);
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    };
    process daemon({.argv = {pfd_binary(), "serve", "--socket", dir / "pfd.sock"},
                    .env = {"NOTIFY_SOCKET=" + notify},
                    .stdin_pipe = false});
    auto ready = next_message();
    CHECK(ready.find("READY=1") != std::string::npos);
    CHECK(ready.find("STATUS=serving " + (dir / "pfd.sock")) != std::string::npos);
    auto r = run({.argv = {hostexec_binary(), "--socket", dir / "pfd.sock", "sh", "-c", "echo ${NOTIFY_SOCKET-unset}"},
                  .env = {"NOTIFY_SOCKET=/leaked"}});
    CHECK(r.out == "unset\n"); // the activation protocol never reaches commands
    daemon.signal(SIGTERM);
    CHECK(next_message().find("STOPPING=1") != std::string::npos);
    CHECK(daemon.finish().code() == 0);
}

TEST_CASE("pfd install-units writes a user socket and service with the right paths", "[systemd]")
{
    temp_dir dir;
    auto r = run({.argv = {pfd_binary(), "install-units", dir.path()}});
    CHECK(r.code() == 0);
    std::ifstream socket_unit(dir / "pfd.socket"), service_unit(dir / "pfd.service");
    std::string socket_text((std::istreambuf_iterator<char>(socket_unit)), {});
    std::string service_text((std::istreambuf_iterator<char>(service_unit)), {});
    CHECK(socket_text.find("ListenStream=%t/pfd.sock") != std::string::npos);
    CHECK(socket_text.find("SocketMode=0600") != std::string::npos);
    CHECK(service_text.find("Type=notify") != std::string::npos);
    auto pfd_real = std::filesystem::canonical(pfd_binary()).string();
    CHECK(service_text.find("ExecStart=" + pfd_real + " serve --socket %t/pfd.sock") != std::string::npos);
    CHECK(service_text.find("ExecReload=" + pfd_real + " reload --socket %t/pfd.sock") != std::string::npos);

    // The units meson install installs, from the same templates: their text
    // with this binary's path.
    std::string data = std::string(PFD_SOURCE_DIR) + "/data/";
    CHECK(socket_text == slurp(data + "pfd.socket.in"));
    std::string service_template = slurp(data + "pfd.service.in");
    for (auto at = service_template.find("@PFD@"); at != std::string::npos; at = service_template.find("@PFD@"))
        service_template.replace(at, 5, pfd_real);
    CHECK(service_text == service_template);
}

TEST_CASE("hostexec refuses a daemon that runs as another user", "[lifecycle][root]")
{
    if (::getuid() != 0) {
        WARN("skipped: needs root to run a daemon as another uid");
        return;
    }
    temp_dir conf;
    foreign_daemon daemon; // as nobody (it serves root, as every daemon does)
    const std::string& socket = daemon.socket();
    auto refused = run({.argv = {hostexec_binary(), "--socket", socket, "echo", "leaked"}});
    CHECK(refused.code() == 125);
    CHECK(refused.out.empty());
    CHECK(refused.err.find("runs as uid 65534, not as you (uid 0)") != std::string::npos);
    CHECK(refused.err.find("[discovery] trust_daemon_uids") != std::string::npos);

    ::mkdir((conf / "pfd").c_str(), 0700);
    std::ofstream(conf / "pfd/config.toml") << "[discovery]\ntrust_daemon_uids = [65534]\n";
    auto trusted = run({.argv = {hostexec_binary(), "--socket", socket, "echo", "trusted"},
                        .env = {"XDG_CONFIG_HOME=" + conf.path()},
                        .cwd = "/"}); // the daemon's uid may not enter the test's directory
    INFO("stderr: " << trusted.err);
    CHECK(trusted.out == "trusted\n");
}

TEST_CASE("reload applies a good configuration and keeps the running one on error", "[lifecycle][config]")
{
    temp_dir conf;
    std::string file = conf / "pfd.toml";
    std::ofstream(file) << "[limits]\nfds = 2\n";
    running_daemon d({"--config", file});
    auto pfd = [&](std::vector<std::string> args) {
        args.insert(args.begin(), pfd_binary());
        args.insert(args.end(), {"--socket", d.socket()});
        return run({.argv = args});
    };
    CHECK(d.run({"true"}).code() == 125); // three descriptors, two allowed

    std::ofstream(file) << "[limits]\nfds = 64\n";
    auto good = pfd({"reload"});
    CHECK(good.code() == 0);
    CHECK(good.out == "pfd: configuration reloaded\n");
    CHECK(d.run({"true"}).code() == 0);

    std::ofstream(file) << "[limits]\nfds = 2\nbogus = 1\n";
    auto bad = pfd({"reload"});
    CHECK(bad.code() == 1);
    CHECK(bad.err.find(file + ":3: unknown key 'bogus' in [limits]") != std::string::npos);
    CHECK(d.run({"true"}).code() == 0); // still the good configuration

    SECTION("SIGHUP reloads too")
    {
        std::ofstream(file) << "[limits]\nfds = 2\n";
        ::kill(d.pid(), SIGHUP);
        CHECK(eventually([&] { return d.run({"true"}).code() == 125; }));
    }
}

TEST_CASE("a relative --config is the one where the daemon was started, for reload and restart too",
          "[lifecycle][config]")
{
    user_env u;
    std::ofstream(u.work / "mine.toml") << "[limits]\nfds = 2\n";
    REQUIRE(u.pfd({"start", "--config", "mine.toml"}).code() == 0);
    CHECK(u.hostexec({"true"}).code() == 125); // three descriptors, two allowed
    // The daemon runs in / by now.
    std::ofstream(u.work / "mine.toml") << "[limits]\nfds = 64\n";
    auto reload = u.pfd({"reload"});
    INFO(reload.err);
    CHECK(reload.code() == 0);
    CHECK(u.hostexec({"true"}).code() == 0);
    std::ofstream(u.work / "mine.toml") << "[limits]\nfds = 2\n";
    auto restart = u.pfd({"restart"});
    INFO(restart.err);
    CHECK(restart.code() == 0);
    CHECK(u.hostexec({"true"}).code() == 125);
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("pfd status tells pid, socket, uptime, version, sessions, latency and RSS", "[lifecycle]")
{
    running_daemon d;
    auto none = run({.argv = {pfd_binary(), "status", "--socket", d.dir() / "other.sock"}});
    CHECK(none.code() == 3);
    for (int i = 0; i < 3; ++i) REQUIRE(d.run({"true"}).code() == 0);
    process busy({.argv = d.hostexec({"sh", "-c", "echo ready; read x"})});
    REQUIRE(busy.read_stdout_until("ready\n") == "ready\n");

    auto json = run({.argv = {pfd_binary(), "status", "--json", "--socket", d.socket()}});
    REQUIRE(json.code() == 0);
    auto has = [&](const std::string& text) {
        INFO(json.out);
        CHECK(json.out.find(text) != std::string::npos);
    };
    has("\"event\":\"status\"");
    has("\"pid\":" + std::to_string(d.pid()));
    has("\"socket\":\"" + d.socket() + "\"");
    has("\"running\":1");
    has("\"served\":4");
    has("\"latency_mean_us\":");
    has("\"latency_p99_us\":");
    has("\"rss_kib\":");
    has("\"uptime_ms\":");

    auto human = run({.argv = {pfd_binary(), "status", "--socket", d.socket()}});
    CHECK(human.code() == 0);
    CHECK(human.out.find("pid " + std::to_string(d.pid())) != std::string::npos);
    CHECK(human.out.find("1 running, 4 served") != std::string::npos);
    busy.write_stdin("\n");
    CHECK(busy.finish().code() == 0);
}

TEST_CASE("[discovery] autostart, autostart_command and fallback", "[lifecycle][config]")
{
    user_env u;
    temp_dir conf;
    ::mkdir((conf / "pfd").c_str(), 0700);
    auto env = u.env();
    env.push_back("XDG_CONFIG_HOME=" + conf.path());

    SECTION("autostart with a command of our own, as from inside a container")
    {
        std::ofstream(conf / "pfd/config.toml")
            << "[discovery]\nautostart = true\nautostart_command = [\"sh\", \"-c\", "
               "\"echo used > '"
            << (conf / "marker") << "'; exec \\\"$0\\\" start \\\"$@\\\"\", \"" << pfd_binary() << "\"]\n";
        auto r = run({.argv = {hostexec_binary(), "echo", "started"}, .env = env});
        CHECK(r.code() == 0);
        CHECK(r.out == "started\n");
        std::ifstream marker(conf / "marker");
        std::string used;
        marker >> used;
        CHECK(used == "used");
        CHECK(run({.argv = {pfd_binary(), "stop"}, .env = env}).code() == 0);
    }
    SECTION("fallback = local runs the command here when no daemon answers")
    {
        std::ofstream(conf / "pfd/config.toml") << "[discovery]\nfallback = \"local\"\n";
        auto r = run({.argv = {hostexec_binary(), "sh", "-c", "echo local-$PPID; exit 4"}, .env = env});
        CHECK(r.code() == 4);
        CHECK(r.out.starts_with("local-"));
        CHECK_FALSE(exists(u.run / "pfd.sock"));
        auto missing = run({.argv = {hostexec_binary(), "pfd-no-such-command"}, .env = env});
        CHECK(missing.code() == 127);
        // No command: the login shell $SHELL names here (none is asked of a daemon).
        auto shell_env = env;
        shell_env.push_back("SHELL=/bin/sh");
        auto login = run({.argv = {hostexec_binary()}, .env = shell_env}, "echo \"[$0]\"; exit 4\n");
        CHECK(login.code() == 4);
        CHECK(login.out == "[-sh]\n");
    }
}

namespace {

/// The pid `pfd status --json` reports, or -1.
pid_t status_pid(const user_env& u, const std::string& pfd = pfd_binary())
{
    auto r = run({.argv = {pfd, "status", "--json"}, .env = u.env()});
    auto at = r.out.find("\"pid\":");
    return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + 6);
}

} // namespace

TEST_CASE("pfd restart hands the socket over: no client refused, running commands go on", "[lifecycle][restart]")
{
    user_env u;
    REQUIRE(u.pfd({"start"}).code() == 0);
    pid_t before = status_pid(u);
    REQUIRE(before > 0);

    process long_running({.argv = {hostexec_binary(), "sh", "-c", "echo ready; read x; echo done-$x"}, .env = u.env()});
    REQUIRE(long_running.read_stdout_until("ready\n") == "ready\n");

    // Clients keep coming while the daemon is replaced.
    std::vector<process> clients;
    for (int i = 0; i < 10; ++i)
        clients.emplace_back(spawn_options{.argv = {hostexec_binary(), "echo", std::to_string(i)}, .env = u.env()});
    auto restart = u.pfd({"restart"});
    std::ifstream log(u.state / "pfd/pfd.sock.log");
    INFO("pfd restart said: " << restart.out << restart.err);
    INFO("daemon log: " << std::string((std::istreambuf_iterator<char>(log)), {}));
    CHECK(restart.code() == 0);
    for (int i = 10; i < 20; ++i)
        clients.emplace_back(spawn_options{.argv = {hostexec_binary(), "echo", std::to_string(i)}, .env = u.env()});
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto r = clients[i].finish();
        INFO("client " << i << ": " << r.err);
        CHECK(r.code() == 0);
        CHECK(r.out == std::to_string(i) + "\n");
    }

    pid_t after = status_pid(u);
    CHECK(after > 0);
    CHECK(after != before);
    // The old daemon still runs the long command and reports its end.
    CHECK(::kill(before, 0) == 0);
    long_running.write_stdin("1\n");
    auto r = long_running.finish();
    CHECK(r.code() == 0);
    CHECK(r.out == "ready\ndone-1\n");
    CHECK(eventually([&] { return ::kill(before, 0) != 0 || state_is_zombie(before); }));
    CHECK(exists(u.run / "pfd.sock"));
    CHECK(u.pfd({"stop"}).code() == 0);
    CHECK_FALSE(exists(u.run / "pfd.sock"));
}

TEST_CASE("a client of another build replaces a daemon whose binary was upgraded on disk", "[lifecycle][restart]")
{
    user_env u;
    temp_dir bin;
    std::string pfd = bin / "pfd";
    std::filesystem::copy_file(pfd_binary(), pfd);
    std::filesystem::permissions(pfd, std::filesystem::perms::owner_all);
    REQUIRE(run({.argv = {pfd, "start"}, .env = u.env()}).code() == 0);
    pid_t before = status_pid(u, pfd);
    REQUIRE(before > 0);

    auto send_exec = [&](const std::string& client) {
        auto sock = connect_raw(u.run / "pfd.sock");
        std::string line = R"({"pfd":1,"op":"exec","argv":["true"],"cwd":"/","client":")" + client + "\"}\n";
        REQUIRE(::write(sock.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        return read_all(sock.get());
    };
    // Another build, but the binary on disk is the running one: nothing to upgrade to.
    CHECK(send_exec("hostexec/9.9 other-build").find("\"exited\"") != std::string::npos);
    CHECK(status_pid(u, pfd) == before);

    // "Upgrade": a new file at the same path (new inode).
    std::filesystem::copy_file(pfd_binary(), pfd + ".new");
    std::filesystem::permissions(pfd + ".new", std::filesystem::perms::owner_all);
    std::filesystem::rename(pfd + ".new", pfd);
    CHECK(send_exec("hostexec/9.9 other-build").find("\"exited\"") != std::string::npos);
    bool replaced = eventually([&] {
        pid_t now = status_pid(u, pfd);
        return now > 0 && now != before;
    });
    std::ifstream log(u.state / "pfd/pfd.sock.log");
    INFO("daemon log: " << std::string((std::istreambuf_iterator<char>(log)), {}));
    CHECK(replaced);
    CHECK(run({.argv = {pfd, "stop"}, .env = u.env()}).code() == 0);
}

namespace {

/// An `exec` of `true` claiming client build `build`, sent as uid 65534
/// (a forked child that drops to it): whether it ran.
bool exec_as_other_uid(const std::string& socket, const std::string& build)
{
    std::string line = exec_line(R"("argv":["true"],"cwd":"/","client":"hostexec/9.9 )" + build + "\"") + "\n";
    pid_t child = ::fork();
    if (child == 0) {
        if (::setgroups(0, nullptr) < 0 || ::setresgid(65534, 65534, 65534) < 0 || ::setresuid(65534, 65534, 65534) < 0)
            ::_exit(2);
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
            ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            ::_exit(3);
        std::string reply;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
        ::_exit(reply.find("\"exited\"") != std::string::npos ? 0 : 4);
    }
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

TEST_CASE("only the owner's clients' build ids count: another allowed uid cannot make the daemon replace itself",
          "[lifecycle][restart][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: needs root to be a second, allowed uid");
        return;
    }
    user_env u;
    u.write_config("[policy]\nallow_uids = [65534]\n");
    temp_dir bin;
    std::string pfd = bin / "pfd";
    std::filesystem::copy_file(pfd_binary(), pfd);
    std::filesystem::permissions(pfd, std::filesystem::perms::owner_all);
    REQUIRE(run({.argv = {pfd, "start"}, .env = u.env()}).code() == 0);
    pid_t before = status_pid(u, pfd);
    REQUIRE(before > 0);
    REQUIRE(::chmod(u.run.path().c_str(), 0711) == 0);
    REQUIRE(::chmod((u.run / "pfd.sock").c_str(), 0666) == 0);
    // "Upgrade": a new file at the same path (new inode).
    std::filesystem::copy_file(pfd_binary(), pfd + ".new");
    std::filesystem::permissions(pfd + ".new", std::filesystem::perms::owner_all);
    std::filesystem::rename(pfd + ".new", pfd);

    CHECK(exec_as_other_uid(u.run / "pfd.sock", "other-build"));
    // A reload runs on the daemon's control strand after whatever that
    // client's build set off there: a hand-over would be over by now.
    auto reload = run({.argv = {pfd, "reload"}, .env = u.env()});
    std::string log = slurp(u.state / "pfd/pfd.sock.log");
    INFO("pfd reload: " << reload.err);
    CHECK(reload.code() == 0);
    INFO("daemon log: " << log);
    CHECK(status_pid(u, pfd) == before);
    CHECK(log.find("replacing this daemon") == std::string::npos);

    // The owner's client of that build does replace it.
    auto sock = connect_raw(u.run / "pfd.sock");
    std::string line = exec_line(R"("argv":["true"],"cwd":"/","client":"hostexec/9.9 other-build")") + "\n";
    REQUIRE(::write(sock.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    CHECK(read_all(sock.get()).find("\"exited\"") != std::string::npos);
    CHECK(eventually([&] {
        pid_t now = status_pid(u, pfd);
        return now > 0 && now != before;
    }));
    CHECK(run({.argv = {pfd, "stop"}, .env = u.env()}).code() == 0);
}

TEST_CASE("without XDG_RUNTIME_DIR: /run/user/UID if ours, else a checked private /tmp/pfd-UID", "[discovery]")
{
    scoped_env xdg("XDG_RUNTIME_DIR", std::nullopt);
    temp_dir run_user, tmp;
    std::string uid = std::to_string(::getuid());

    std::string made = runtime_dir(run_user.path(), tmp.path());
    CHECK(made == tmp / ("pfd-" + uid));
    struct stat st {};
    REQUIRE(::lstat(made.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(runtime_dir(run_user.path(), tmp.path()) == made); // and again, existing

    ::mkdir((run_user / uid).c_str(), 0700);
    CHECK(runtime_dir(run_user.path(), tmp.path()) == run_user / uid);

    temp_dir bad;
    std::string dir = bad / ("pfd-" + uid);
    ::mkdir(dir.c_str(), 0755);
    ::chmod(dir.c_str(), 0755);
    CHECK_THROWS_WITH(runtime_dir(run_user / "none", bad.path()), Catch::Contains("not a private directory"));
    ::rmdir(dir.c_str());
    ::symlink(tmp.path().c_str(), dir.c_str()); // someone else's trap
    CHECK_THROWS_WITH(runtime_dir(run_user / "none", bad.path()), Catch::Contains("symlink"));
}

TEST_CASE("a daemon started by hostexec -C keeps none of its starter's descriptors", "[lifecycle]")
{
    user_env u;
    // Descriptor 3 is the caller's stdout pipe: a daemon that inherited it
    // would hold the pipe open, and whoever reads it to its end would wait
    // until the daemon exits.
    auto r = run({.argv = {"sh", "-c", "exec 3>&1; exec " + hostexec_binary() + " -C echo started"}, .env = u.env()},
                 {}, 15s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.out == "started\n");
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("pfd stop signals no pid number read from a file", "[lifecycle]")
{
    if (!have_program("flock")) {
        WARN("skipped: needs flock(1) to hold a forged pidfile's lock");
        return;
    }
    user_env u;
    // A forged pidfile, its lock held, naming an unrelated process (or, from
    // a daemon in another pid namespace, this namespace's pid 1).
    process victim({.argv = {"sleep", "60"}, .stdin_pipe = false});
    std::ofstream(u.run / "pfd.pid") << victim.pid() << "\n";
    // -o: flock itself holds the lock, not the sleep it starts.
    process holder({.argv = {"flock", "-o", u.run / "pfd.pid", "sleep", "60"}, .stdin_pipe = false});
    REQUIRE(eventually([&] { return running_pid(u.run / "pfd.pid") == victim.pid(); }));
    auto r = u.pfd({"stop"});
    CHECK(r.code() == 1);
    CHECK(r.err.find("not signalling a number") != std::string::npos);
    CHECK_FALSE(state_is_zombie(victim.pid()));
    CHECK(::kill(victim.pid(), 0) == 0);

    // A real daemon is stopped through its socket, and waited for.
    holder.signal(SIGTERM);
    holder.wait_status(); // its `sleep` keeps the pipes, not the lock
    REQUIRE(run({.argv = {hostexec_binary(), "-C", "true"}, .env = u.env()}).code() == 0);
    auto stopped = u.pfd({"stop"});
    CHECK(stopped.code() == 0);
    CHECK(stopped.out.find("pfd: stopped pid ") != std::string::npos);
    CHECK_FALSE(exists(u.run / "pfd.pid"));
    CHECK(::kill(victim.pid(), 0) == 0);
}

TEST_CASE("pfd listens only in a directory of its own, and writes through no planted symlink", "[lifecycle]")
{
    temp_dir dir, elsewhere;
    std::string victim = elsewhere / "victim";
    std::ofstream(victim) << "precious\n";

    // A directory others may write: they could replace the socket or plant
    // what lies beside it. Refused before anything is written there.
    ::chmod(dir.path().c_str(), 0777);
    REQUIRE(::symlink(victim.c_str(), (dir / "pfd.pid").c_str()) == 0);
    auto shared = run({.argv = {pfd_binary(), "serve", "--socket", dir / "pfd.sock"}});
    CHECK(shared.code() == 1);
    CHECK(shared.err.find("refusing to listen on '" + dir / "pfd.sock" + "': its directory '" + dir.path() +
                          "' is writable by group or others (mode 777)") != std::string::npos);
    CHECK(slurp(victim) == "precious\n");

    // Our own directory, with a symlink planted before it became ours: the
    // pidfile is not written through it.
    ::chmod(dir.path().c_str(), 0700);
    auto planted = run({.argv = {pfd_binary(), "serve", "--socket", dir / "pfd.sock"}});
    CHECK(planted.code() == 1);
    CHECK(planted.err.find("cannot open pidfile '" + dir / "pfd.pid" + "'") != std::string::npos);
    CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("a socket's missing directory is made, private, for a socket of its own to share", "[lifecycle]")
{
    temp_dir dir;
    std::string socket = dir / "pfd/pfd.sock";
    auto started = run({.argv = {pfd_binary(), "start", "--socket", socket}});
    CHECK(started.code() == 0);
    struct stat st {};
    REQUIRE(::stat((dir / "pfd").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(run({.argv = {hostexec_binary(), "--socket", socket, "true"}}).code() == 0);
    CHECK(run({.argv = {pfd_binary(), "stop", "--socket", socket}}).code() == 0);
}

TEST_CASE("without HOME or XDG_STATE_HOME the log stays in the user's runtime directory", "[lifecycle]")
{
    temp_dir run_dir, data;
    std::vector<std::string> env = {"XDG_RUNTIME_DIR=" + run_dir.path(),
                                    "XDG_DATA_HOME=" + data.path(),
                                    "XDG_STATE_HOME",
                                    "HOME",
                                    "PFD_SOCKET",
                                    "PFD_PROJECT"};
    auto started = test::run({.argv = {hostexec_binary(), "-C", "true"}, .env = env});
    CHECK(started.code() == 0);
    CHECK(exists(run_dir / "pfd.sock.log")); // not a shared /tmp/pfd
    CHECK(test::run({.argv = {pfd_binary(), "stop"}, .env = env}).code() == 0);
}

TEST_CASE("pfd install-units writes an ExecStart systemd reads back as the binary's path", "[systemd]")
{
    temp_dir dir, units;
    // A path with a space, a specifier and a variable in it.
    std::string odd = dir / "my tools %h $HOME";
    ::mkdir(odd.c_str(), 0755);
    std::filesystem::copy_file(pfd_binary(), odd + "/pfd");
    ::chmod((odd + "/pfd").c_str(), 0755);
    auto r = run({.argv = {odd + "/pfd", "install-units", units.path()}});
    REQUIRE(r.code() == 0);
    std::string service = slurp(units / "pfd.service");
    auto real = std::filesystem::canonical(odd + "/pfd").string();
    std::string quoted;
    for (char c : real) quoted += c == '%' ? "%%" : c == '$' ? "$$" : std::string(1, c);
    CHECK(service.find("ExecStart=\"" + quoted + "\" serve --socket %t/pfd.sock\n") != std::string::npos);
    CHECK(service.find("NotifyAccess=all\n") != std::string::npos);
}

TEST_CASE("one successor at a time; a retiring daemon obeys SIGTERM", "[lifecycle][restart]")
{
    user_env u;
    REQUIRE(u.pfd({"start"}).code() == 0);
    pid_t first = status_pid(u);
    process long_running({.argv = {hostexec_binary(), "sh", "-c", "echo ready; read x"}, .env = u.env()});
    REQUIRE(long_running.read_stdout_until("ready\n") == "ready\n");
    REQUIRE(u.pfd({"restart"}).code() == 0);
    pid_t second = status_pid(u);
    CHECK(second != first);

    // While the first still finishes its command, the second hands over to nobody.
    auto again = u.pfd({"restart"});
    CHECK(again.code() == 1);
    CHECK(again.err.find("the previous daemon is still finishing its commands") != std::string::npos);
    CHECK(status_pid(u) == second);

    // SIGTERM reaches the retiring daemon's commands: it does not linger.
    REQUIRE(::kill(first, SIGTERM) == 0);
    int status = long_running.wait_status(); // stdin stays open: only the signal can end `read`
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(eventually([&] { return ::kill(first, 0) != 0 || state_is_zombie(first); }));
    CHECK(u.pfd({"restart"}).code() == 0); // the first is gone: a restart may go on
    CHECK(status_pid(u) != second);
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("a daemon killed outright: its clients end with 125, its commands are hung up, -C starts afresh",
          "[lifecycle]")
{
    user_env u;
    REQUIRE(run({.argv = {hostexec_binary(), "-C", "true"}, .env = u.env()}).code() == 0);
    pid_t killed = std::stoi(slurp(u.run / "pfd.pid"));
    temp_dir out;
    // Mid-load: clients whose commands run; one command says when it is hung up.
    std::vector<process> clients;
    for (int i = 0; i < 4; ++i)
        clients.emplace_back(
            spawn_options{.argv = {hostexec_binary(), "sh", "-c", "echo up; exec sleep 1000"}, .env = u.env()});
    clients.emplace_back(spawn_options{
        .argv = {hostexec_binary(), "sh", "-c",
                 "trap 'echo hup > " + out / "hup" + "; exit 3' HUP; echo up; while :; do sleep 0.05; done"},
        .env = u.env()});
    for (auto& c : clients) REQUIRE(c.read_stdout_until("up\n") == "up\n");

    REQUIRE(::kill(killed, SIGKILL) == 0);
    // Each client's output pipe reaches its end only once the command that
    // holds it is gone too: no command is left running for nobody.
    for (auto& c : clients) {
        auto r = c.finish(20s);
        INFO("stderr: " << r.err);
        CHECK_FALSE(r.timed_out);
        CHECK(r.code() == 125);
        CHECK(r.err == "hostexec: lost the connection to the daemon before the command ended\n");
    }
    CHECK(eventually([&] { return slurp(out / "hup") == "hup\n"; }));

    // The socket and pidfile it left are replaced by the next daemon.
    CHECK(exists(u.run / "pfd.sock"));
    auto fresh = run({.argv = {hostexec_binary(), "-C", "echo", "fresh"}, .env = u.env()});
    INFO("stderr: " << fresh.err);
    CHECK(fresh.code() == 0);
    CHECK(fresh.out == "fresh\n");
    CHECK(std::stoi(slurp(u.run / "pfd.pid")) != killed);
    CHECK(u.pfd({"stop"}).code() == 0);
}

TEST_CASE("pfd stop --stop-grace-ms shortens the daemon's grace and tells each step as it comes", "[lifecycle]")
{
    // A configured grace the test's bounds could never wait out twice.
    temp_dir conf;
    std::ofstream(conf / "c.toml") << "[limits]\nstop_grace_ms = 60000\n";
    running_daemon d({"--config", conf / "c.toml"});
    process stubborn(
        {.argv = d.hostexec({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done", "stubborn"})});
    REQUIRE(stubborn.read_stdout_until("ready\n") == "ready\n");
    // A watcher does not keep a stopping daemon alive.
    process watcher({.argv = {pfd_binary(), "watch", "--json", "--socket", d.socket()}});
    REQUIRE(watcher.read_stdout_until("\n") == "{\"event\":\"watching\"}\n");

    auto r = run({.argv = {pfd_binary(), "stop", "--socket", d.socket(), "--stop-grace-ms", "200"}}, {}, 20s);
    INFO("pfd stop said: " << r.out << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.code() == 0);
    std::string pid = std::to_string(d.pid());
    CHECK(r.out == "pfd: pid " + pid +
                       " is stopping; 1 command running gets 200 ms\n"
                       "pfd: SIGTERM sent to 1 command\n"
                       "pfd: SIGKILL sent to 1 command\n"
                       "pfd: stopped pid " +
                       pid + "\n");
    // The command is dead (its client dies of the same signal) and the daemon gone by itself.
    auto ended = stubborn.finish(10s);
    CHECK_FALSE(ended.timed_out);
    CHECK(ended.signal() == SIGKILL);
    CHECK(eventually([&] { return state_is_zombie(d.pid()); }, 10s));
    CHECK_FALSE(exists(d.socket()));
    auto watched = watcher.finish(10s);
    CHECK_FALSE(watched.timed_out);
    CHECK(watched.code() == 0);
}

TEST_CASE("pfd stop with no command running, and a grace out of range", "[lifecycle]")
{
    running_daemon d;
    auto bad = connect_raw(d.socket());
    std::string op = "{\"pfd\":1,\"op\":\"stop\",\"grace_ms\":3600001}\n";
    REQUIRE(::write(bad.get(), op.data(), op.size()) == static_cast<ssize_t>(op.size()));
    CHECK(read_line(bad.get()).starts_with("{\"event\":\"error\",\"code\":\"bad_request\""));

    auto r = run({.argv = {pfd_binary(), "stop", "--socket", d.socket()}}, {}, 20s);
    std::string pid = std::to_string(d.pid());
    CHECK(r.out == "pfd: pid " + pid + " is stopping; no command runs\npfd: stopped pid " + pid + "\n");
}

namespace {

/// The line of `text` that contains `needle`, or "".
std::string line_with(const std::string& text, std::string_view needle)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) return line;
    return {};
}

} // namespace

TEST_CASE("the daemon's log lines carry the local time, or a priority when stderr is the journal", "[lifecycle]")
{
    temp_dir dir;
    std::string log = dir / "stderr.log";
    std::ofstream(log).close();
    std::ofstream(dir / "c.toml") << "[daemon]\nlog_level = \"info\"\n";
    // Its stderr a file, as a service's is (the journal's stream is a socket;
    // JOURNAL_STREAM names whichever it is).
    std::vector<std::string> to_file = {"sh", "-c", "exec \"$@\" 2>>" + log, "sh"};

    SECTION("a file: ISO 8601 local time with milliseconds and the numeric offset")
    {
        scoped_env tz("TZ", "XYZ-2"); // two hours east of UTC, in POSIX form: no tzdata needed
        scoped_env journal("JOURNAL_STREAM", "1:1");
        {
            running_daemon d({"--config", dir / "c.toml"}, to_file);
            CHECK(d.stop().code() == 0);
        }
        auto serving = line_with(slurp(log), "serving");
        INFO("log: " << slurp(log));
        CHECK(std::regex_match(serving,
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0200 pfd: info: serving .*)")));
    }
    SECTION("the journal's stream: an sd-daemon priority, no time")
    {
        struct stat st {};
        REQUIRE(::stat(log.c_str(), &st) == 0);
        scoped_env journal("JOURNAL_STREAM", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
        {
            running_daemon d({"--config", dir / "c.toml"}, to_file);
            std::ofstream(dir / "c.toml") << "[daemon\n"; // the reload fails: an error line
            REQUIRE(::kill(d.pid(), SIGHUP) == 0);
            CHECK(eventually([&] { return slurp(log).find("reload failed") != std::string::npos; }));
            CHECK(d.stop().code() == 0);
        }
        auto text = slurp(log);
        INFO("log: " << text);
        CHECK(line_with(text, "serving").starts_with("<6>pfd: info: serving "));
        CHECK(line_with(text, "reload failed").starts_with("<3>pfd: error: reload failed"));
    }
}

TEST_CASE("a client's build with a newline and escapes forges no line in the daemon's log", "[lifecycle][escape]")
{
    user_env u;
    temp_dir bin;
    std::string pfd = bin / "pfd";
    std::filesystem::copy_file(pfd_binary(), pfd);
    std::filesystem::permissions(pfd, std::filesystem::perms::owner_all);
    REQUIRE(run({.argv = {pfd, "start"}, .env = u.env()}).code() == 0);
    pid_t before = status_pid(u, pfd);
    REQUIRE(before > 0);
    // An upgrade on disk, so that a client of another build is logged.
    std::filesystem::copy_file(pfd_binary(), pfd + ".new");
    std::filesystem::permissions(pfd + ".new", std::filesystem::perms::owner_all);
    std::filesystem::rename(pfd + ".new", pfd);

    // The build is what follows the last space: a newline, then a line of
    // the log's own shape (tabs for spaces), with OSC and RLO in it.
    auto sock = connect_raw(u.run / "pfd.sock");
    std::string line = R"({"pfd":1,"op":"exec","argv":["true"],"cwd":"/","client":"hostexec/9.9 x\n)"
                       R"(2026-01-01T00:00:00.000+0000\tpfd:\terror:\tFORGED\u001b]0;t\u0007\u202e"})"
                       "\n";
    REQUIRE(::write(sock.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    CHECK(read_all(sock.get()).find("\"exited\"") != std::string::npos);
    std::string log_path = u.state / "pfd/pfd.sock.log";
    CHECK(eventually([&] { return slurp(log_path).find("replacing this daemon") != std::string::npos; }));
    std::string log = slurp(log_path);
    INFO("daemon log:\n" << log);
    std::istringstream lines(log);
    int forged = 0;
    for (std::string l; std::getline(lines, l);) {
        CHECK_FALSE(l.starts_with("2026-01-01T00:00:00.000+0000"));
        if (l.find("FORGED") == std::string::npos) continue;
        ++forged;
        CHECK(
            l.find(
                R"(a client of build x\x0a2026-01-01T00:00:00.000+0000\x09pfd:\x09error:\x09FORGED\x1b]0;t\x07\u202e and a new ')") !=
            std::string::npos);
    }
    CHECK(forged == 1);
    CHECK(log.find('\x1b') == std::string::npos);
    CHECK(log.find("\xe2\x80\xae") == std::string::npos);
    CHECK(eventually([&] {
        pid_t now = status_pid(u, pfd);
        return now > 0 && now != before;
    }));
    CHECK(run({.argv = {pfd, "stop"}, .env = u.env()}).code() == 0);
}

namespace {

/// `pfd serve --socket path` as systemd starts it: `passed` as its
/// descriptor 3, LISTEN_FDS=`fds` and LISTEN_PID its own pid (sh execs pfd
/// in its place), readiness on descriptor 4.
struct activated {
    pipe_ends ready = make_pipe();
    process daemon;

    activated(int passed, const std::string& path, const std::string& fds = "1")
        : daemon({.argv = {"sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\" \"$@\"", pfd_binary(), "serve",
                           "--socket", path, "--ready-fd", "4"},
                  .env = {"LISTEN_FDS=" + fds},
                  .stdin_pipe = false,
                  .fds = {{passed, 3}, {ready.w.get(), 4}}})
    {
        ready.w.reset();
    }

    /// Whether it said it is ready, bounded.
    bool became_ready()
    {
        pollfd p{ready.r.get(), POLLIN, 0};
        char c = 0;
        return ::poll(&p, 1, 20000) == 1 && ::read(ready.r.get(), &c, 1) == 1 && c == '\n';
    }
};

/// A socket of `domain` and `type`, bound to `path` (AF_UNIX) or to a free
/// port of 127.0.0.1 (AF_INET), listening if `listening`.
unique_fd bound_socket(int domain, int type, const std::string& path, bool listening)
{
    unique_fd s(::socket(domain, type | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    if (domain == AF_UNIX) {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    if (listening) REQUIRE(::listen(s.get(), 16) == 0);
    return s;
}

const std::string refused_socket = "pfd: refusing the socket passed as descriptor 3 ($LISTEN_FDS): ";

} // namespace

TEST_CASE("socket activation serves only a listening Unix stream socket of ours, bound to --socket", "[systemd]")
{
    temp_dir dir;
    std::string path = dir / "pfd.sock";
    // What `pfd serve` says and does with descriptor 3 as passed: it ends
    // with that message, never serving on it.
    auto refused_with = [&](int passed, const std::string& why, const std::string& fds = "1") {
        activated a(passed, path, fds);
        auto r = a.daemon.finish(15s);
        INFO("pfd serve: " << (r.timed_out ? "still running after 15 s" : "ended") << "; stderr: " << r.err);
        CHECK(r.code() == 1);
        CHECK(r.err == refused_socket + why + "\n");
    };
    SECTION("a file")
    {
        unique_fd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        refused_with(file.get(), "it is not a socket");
    }
    SECTION("a pipe")
    {
        auto p = make_pipe();
        refused_with(p.r.get(), "it is not a socket");
    }
    SECTION("a TCP socket")
    {
        auto s = bound_socket(AF_INET, SOCK_STREAM, "", true);
        refused_with(s.get(), "it is not a Unix socket (AF_UNIX)");
    }
    SECTION("a datagram socket")
    {
        auto s = bound_socket(AF_UNIX, SOCK_DGRAM, path, false);
        refused_with(s.get(), "it is not a stream socket (SOCK_STREAM)");
    }
    SECTION("a socket that does not listen")
    {
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, path, false);
        refused_with(s.get(), "it is not listening");
    }
    SECTION("a socket bound elsewhere")
    {
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, dir / "other.sock", true);
        refused_with(s.get(), "it is bound to '" + (dir / "other.sock") + "', not to '" + path + "' (--socket)");
    }
    SECTION("more than one socket")
    {
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, path, true);
        refused_with(s.get(), "LISTEN_FDS is '2'; pfd serves exactly one socket", "2");
    }
    SECTION("a socket in a directory others may write")
    {
        REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, path, true);
        refused_with(s.get(), "refusing to listen on '" + path + "': its directory '" + dir.path() +
                                  "' is writable by group or others (mode 777); others could replace the socket or "
                                  "what lies beside it");
    }
    SECTION("a socket file of another uid")
    {
        if (::geteuid() != 0) {
            WARN("skipped: needs root to give a socket file away");
            return;
        }
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, path, true);
        REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
        refused_with(s.get(), "its file '" + path + "' belongs to uid 65534, not to uid 0");
    }
    SECTION("the right one is served")
    {
        auto s = bound_socket(AF_UNIX, SOCK_STREAM, path, true);
        activated a(s.get(), path);
        REQUIRE(a.became_ready());
        auto r =
            run({.argv = {hostexec_binary(), "--socket", path, "sh", "-c", "echo served; env | grep -c ^LISTEN_"}});
        CHECK(r.out == "served\n0\n");
        a.daemon.signal(SIGTERM);
        CHECK(a.daemon.finish().code() == 0);
        CHECK(exists(path)); // systemd's file, left to it
    }
}

TEST_CASE("LISTEN_* meant for another process are ignored, and with them PFD_HANDOFF and PFD_PREDECESSOR",
          "[systemd][restart]")
{
    temp_dir dir;
    std::string path = dir / "pfd.sock";
    std::string self = std::to_string(::getpid()); // pfd serve's parent: a process that hands nothing over
    auto ready = make_pipe();
    // A listening socket as descriptor 3 that is not the daemon's to take.
    auto other = bound_socket(AF_UNIX, SOCK_STREAM, dir / "other.sock", true);
    std::vector<std::string> env = {"LISTEN_FDS=1", "LISTEN_PID=" + self, "PFD_HANDOFF=1"};
    SECTION("PFD_PREDECESSOR naming our parent")
    {
        env.push_back("PFD_PREDECESSOR=" + self);
    }
    SECTION("PFD_PREDECESSOR=1")
    {
        env.push_back("PFD_PREDECESSOR=1");
    }
    process daemon({.argv = {pfd_binary(), "serve", "--socket", path, "--ready-fd", "4"},
                    .env = env,
                    .stdin_pipe = false,
                    .fds = {{other.get(), 3}, {ready.w.get(), 4}}});
    ready.w.reset();
    pollfd p{ready.r.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 20000) == 1);
    // It listens on its own socket, not on descriptor 3.
    auto r = run({.argv = {hostexec_binary(), "--socket", path, "echo", "own socket"}});
    CHECK(r.out == "own socket\n");
    // Nobody is its predecessor: a restart is not held up waiting for one to end.
    auto restart = run({.argv = {pfd_binary(), "restart", "--socket", path}});
    INFO("pfd restart: " << restart.out << restart.err);
    CHECK(restart.code() == 0);
    CHECK(daemon.wait_status(20s) != -1); // it handed over and ended
    CHECK(run({.argv = {hostexec_binary(), "--socket", path, "echo", "successor"}}).out == "successor\n");
    CHECK(run({.argv = {pfd_binary(), "stop", "--socket", path}}).code() == 0);
    CHECK(daemon.finish().code() == 0);
}

TEST_CASE("LISTEN_FDS without a LISTEN_PID of ours skips no check: nothing is made in a directory others may write",
          "[systemd]")
{
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    std::ofstream(dir / "pfd.pid") << "planted\n"; // what another user could have put there
    for (std::vector<std::string> env : {std::vector<std::string>{"LISTEN_FDS=1"}, {"LISTEN_FDS=1", "LISTEN_PID=1"}}) {
        auto r = run({.argv = {pfd_binary(), "serve", "--socket", dir / "pfd.sock"}, .env = env, .stdin_pipe = false},
                     {}, 15s);
        INFO(env.back());
        CHECK(r.code() == 1);
        CHECK(r.err.find("refusing to listen on '" + (dir / "pfd.sock") + "': its directory") != std::string::npos);
        CHECK(slurp(dir / "pfd.pid") == "planted\n"); // the pidfile beside it was never opened
    }
}
