// Project files are obeyed only when they are the user's own and trusted
// (`pfd trust`): a .pfd.toml planted by another user or shipped in a cloned
// repository runs nothing and changes nothing.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace pfd::test;

namespace {

/// A user (user_env) whose working directory is a project (like a fresh
/// clone).
struct project_user : user_env {
    const temp_dir& project = work;
    std::string file() const { return project / ".pfd.toml"; }
    void write(const std::string& text) const { std::ofstream(file()) << text; }
};

/// What a hostile .pfd.toml asks for: start "a daemon" that is the
/// attacker's command, as soon as any hostexec runs there.
std::string hostile(const std::string& marker)
{
    return "[discovery]\nautostart = true\nautostart_command = [\"sh\", \"-c\", \"touch " + marker + "\"]\n";
}

} // namespace

TEST_CASE("an untrusted .pfd.toml is ignored: its autostart_command never runs", "[trust]")
{
    project_user u;
    std::string marker = u.project / "PWNED";
    u.write(hostile(marker));
    ::chmod(u.file().c_str(), 0644);
    auto r = u.hostexec({"true"});
    INFO(r.err);
    CHECK_FALSE(exists(marker));
    CHECK(r.code() == 125);
    CHECK(r.err.find("hostexec: ignoring " + u.file() + ": not trusted; `pfd trust " + u.file() + "` trusts it\n") !=
          std::string::npos);
    CHECK(r.err.find("no daemon runs on") != std::string::npos); // as if there were no project file
}

TEST_CASE("the line about an untrusted .pfd.toml: in the speaker's name, silenced by PFD_QUIET_UNTRUSTED=1", "[trust]")
{
    project_user u;
    u.write("project = \"web\"\n");
    ::chmod(u.file().c_str(), 0644);
    std::string line = "ignoring " + u.file() + ": not trusted; `pfd trust " + u.file() + "` trusts it\n";
    auto hostexec = u.hostexec({"true"});
    CHECK(hostexec.err.starts_with("hostexec: " + line));
    CHECK(hostexec.err.find("pfd: ") == std::string::npos);
    CHECK(u.pfd({"status"}).err == "pfd: " + line);

    auto quiet = [&](std::vector<std::string> argv) {
        auto env = u.env();
        env.emplace_back("PFD_QUIET_UNTRUSTED=1");
        return pfd::test::run({.argv = std::move(argv), .env = env, .cwd = u.project.path()});
    };
    auto quiet_hostexec = quiet({hostexec_binary(), "true"});
    CHECK(quiet_hostexec.code() == 125);
    CHECK(quiet_hostexec.err.find("ignoring") == std::string::npos);
    CHECK(quiet_hostexec.err.starts_with("hostexec: no daemon runs on '" + (u.run / "pfd.sock") + "'"));
    auto quiet_status = quiet({pfd_binary(), "status"});
    CHECK(quiet_status.code() == 3);
    CHECK(quiet_status.err.empty());
    // Still ignored: quiet is not trusted.
    CHECK(quiet_status.out.find("pfd.web.sock") == std::string::npos);
}

TEST_CASE("no daemon for a trusted project: the hint starts the project's, not pfd.socket's", "[trust]")
{
    project_user u;
    u.write("project = \"web\"\n");
    ::chmod(u.file().c_str(), 0644);
    REQUIRE(u.pfd({"trust"}).code() == 0);
    auto r = u.hostexec({"true"});
    CHECK(r.code() == 125);
    CHECK(r.err == "hostexec: no daemon runs on '" + (u.run / "pfd.web.sock") +
                       "' (the socket of project 'web')\nhostexec: start one on the host with 'pfd start --project "
                       "web'; or let hostexec start one: hostexec -C ...\n");
    // The pfd verbs name the same command.
    auto ps = u.pfd({"ps"});
    CHECK(ps.code() == 1);
    CHECK(ps.err == "pfd: no daemon runs on '" + (u.run / "pfd.web.sock") +
                        "' (the socket of project 'web'); 'pfd start --project web' starts one\n");
    // From a container, in hostexec -C's refusal too.
    auto env = u.env();
    env.emplace_back("container=podman");
    auto inside = pfd::test::run({.argv = {hostexec_binary(), "-C", "true"}, .env = env, .cwd = u.project.path()});
    CHECK(inside.code() == 125);
    CHECK(inside.err.find("start it on the host with 'pfd start --project web', and share") != std::string::npos);
    CHECK(inside.err.find("pfd.socket") == std::string::npos);
}

TEST_CASE("even a trusted .pfd.toml may not say what the client runs or whom it trusts", "[trust]")
{
    project_user u;
    std::string marker = u.project / "PWNED";
    for (std::string text :
         {hostile(marker), std::string("[discovery]\ntrust_daemon_uids = [65534]\n"),
          std::string("[discovery]\nfallback = \"local\"\n"), std::string("[discovery]\norder = [\"local\"]\n"),
          std::string("[daemon]\npidfile = \"/tmp/x.pid\"\n"), std::string("[policy]\nallow_uids = [65534]\n")}) {
        INFO(text);
        u.write(text);
        REQUIRE(u.pfd({"trust"}).code() == 0);
        auto r = u.hostexec({"true"});
        CHECK(r.code() == 125);
        CHECK(r.err.find(u.file() + ":") != std::string::npos);
        CHECK(r.err.find("may be set only in /etc/pfd/config.toml or your own config file, not in a project's") !=
              std::string::npos);
    }
    CHECK_FALSE(exists(marker));
}

TEST_CASE("a trusted .pfd.toml is honoured until it is edited or revoked", "[trust]")
{
    project_user u;
    u.write("project = \"web\"\n[limits]\nfds = 8\n");
    ::chmod(u.file().c_str(), 0644);
    auto trusted = u.pfd({"trust"});
    CHECK(trusted.code() == 0);
    CHECK(trusted.out == "pfd: trusted " + u.file() + " as it is now; an edit makes it untrusted again\n");
    auto r = u.hostexec({"-C", "true"});
    INFO(r.err);
    CHECK(r.code() == 0);
    CHECK(r.err.empty());
    CHECK(exists(u.run / "pfd.web.sock")); // the project's daemon
    CHECK(u.pfd({"trust", "--list"}).out == u.file() + "  trusted\n");

    // An edit: ignored again (with its reason) until trusted again.
    u.write("project = \"web\"\n[limits]\nfds = 9\n");
    auto edited = u.pfd({"status"});
    CHECK(edited.err.find("pfd: ignoring " + u.file() + ": changed since it was trusted") != std::string::npos);
    CHECK(edited.out.find("pfd.web.sock") == std::string::npos);
    CHECK(u.pfd({"trust", "--list"}).out == u.file() + "  changed since trusted\n");
    REQUIRE(u.pfd({"trust", u.file()}).code() == 0);
    CHECK(u.pfd({"status"}).out.find("pfd.web.sock") != std::string::npos);

    auto revoked = u.pfd({"trust", "--revoke"});
    CHECK(revoked.code() == 0);
    CHECK(u.pfd({"trust", "--revoke"}).code() == 1);
    CHECK(u.pfd({"status"}).err.find("not trusted") != std::string::npos);
    CHECK(u.pfd({"stop", "--project", "web"}).code() == 0);
}

TEST_CASE("a .pfd.toml that others can write, or that is a symlink, is never honoured", "[trust]")
{
    project_user u;
    u.write("project = \"web\"\n");
    REQUIRE(u.pfd({"trust"}).code() == 0);
    ::chmod(u.file().c_str(), 0666);
    auto writable = u.pfd({"status"});
    CHECK(writable.err.find("pfd: ignoring " + u.file() + ": writable by group or others (mode 666)") !=
          std::string::npos);
    auto refused = u.pfd({"trust"});
    CHECK(refused.code() == 1);
    CHECK(refused.err.find("cannot trust " + u.file() + ": writable by group or others") != std::string::npos);

    temp_dir elsewhere;
    std::ofstream(elsewhere / "real.toml") << "project = \"web\"\n";
    ::chmod((elsewhere / "real.toml").c_str(), 0644);
    ::unlink(u.file().c_str());
    REQUIRE(::symlink((elsewhere / "real.toml").c_str(), u.file().c_str()) == 0);
    CHECK(u.pfd({"status"}).err.find("pfd: ignoring " + u.file() + ": a symlink") != std::string::npos);
}

TEST_CASE("a .pfd.toml another user left up the tree is ignored, trusted or not", "[trust][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: needs root to plant a file owned by another uid");
        return;
    }
    project_user u;
    std::string marker = u.project / "PWNED";
    u.write(hostile(marker));
    ::chmod(u.file().c_str(), 0644);
    REQUIRE(::chown(u.file().c_str(), 65534, 65534) == 0);
    auto r = u.hostexec({"true"});
    CHECK(r.err.find("hostexec: ignoring " + u.file() + ": owned by uid 65534, not by you") != std::string::npos);
    CHECK(u.pfd({"trust"}).code() == 1);
    CHECK_FALSE(exists(marker));
}

namespace {

/// Whether a client connected (a connection waits to be accepted).
bool connected_to(int listener, milliseconds wait)
{
    pollfd p{listener, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
}

} // namespace

TEST_CASE("a socket in the current directory is used only when configured, ours, in a directory of ours", "[trust]")
{
    project_user u;
    // A sandboxed process that can write the project directory listens
    // there, hoping for the environment and descriptors of every hostexec.
    auto planted = idle_listener(u.project / ".pfd.sock");
    auto r = u.hostexec({"true"});
    CHECK(r.code() == 125); // the default order has no "local": nobody runs
    CHECK_FALSE(connected_to(planted.get(), 0ms));

    u.write_config("[discovery]\norder = [\"local\", \"runtime\"]\n");
    ::chmod(u.project.path().c_str(), 0777);
    auto shared = u.hostexec({"true"});
    CHECK(shared.err.find("hostexec: ignoring " + u.project / ".pfd.sock" + ": in a directory others may write") !=
          std::string::npos);
    CHECK(shared.err.find("pfd: ") == std::string::npos); // hostexec speaks for itself
    auto status = u.pfd({"status"});
    CHECK(status.err.find("pfd: ignoring " + u.project / ".pfd.sock") != std::string::npos);
    CHECK_FALSE(connected_to(planted.get(), 0ms));

    // The user's own directory: configured, it is used.
    ::chmod(u.project.path().c_str(), 0700);
    process client({.argv = {hostexec_binary(), "true"}, .env = u.env(), .cwd = u.project.path()});
    CHECK(connected_to(planted.get(), 10000ms));
    client.signal(SIGKILL);
}

TEST_CASE("a .pfd.toml in a directory named to attack: the line shows the name escaped, its hint trusts exactly it",
          "[trust][escape]")
{
    if (!have_program("bash")) {
        WARN("skipped: bash is not installed to paste the hint into");
        return;
    }
    project_user u;
    // A clone's directory names, one for each class of what would act on
    // the terminal the line is printed on, or in the shell its hint is
    // pasted into; and how the line must show each.
    struct named {
        std::string name, shown;
    };
    std::vector<named> dirs = {
        {"osc\x1b]0;pwned\x07\x1b[2J", R"(osc\x1b]0;pwned\x07\x1b[2J)"},
        {"nl\nhostexec: forged", R"(nl\x0ahostexec: forged)"},
        {"del\x7f", R"(del\x7f)"},
        {"c1\x9b"
         "2J\x9d",
         R"(c1\x9b2J\x9d)"},
        {"utf8-c1\xc2\x9b"
         "2J\xc2\x9d",
         R"(utf8-c1\u009b2J\u009d)"},
        {"bidi\xe2\x80\xae\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9", R"(bidi\u202e\u202a\u2066\u2069)"},
        {"bad\xff\xc3", R"(bad\xff\xc3)"},
        {"$(touch PWNED)`touch PWNED2`", "$(touch PWNED)`touch PWNED2`"},
        {"it's", "it's"},
        {"café 日本", "café 日本"},
    };
    for (auto& [name, shown] : dirs) {
        INFO(shown);
        std::string dir = u.project / name;
        REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
        std::ofstream(dir + "/.pfd.toml") << "project = \"web\"\n";
        ::chmod((dir + "/.pfd.toml").c_str(), 0644);
        auto r = run({.argv = {hostexec_binary(), "true"}, .env = u.env(), .cwd = dir});
        INFO(r.err);
        std::string start = "hostexec: ignoring " + u.project / shown + "/.pfd.toml: not trusted; `pfd trust ";
        CHECK(r.err.starts_with(start));
        if (!r.err.starts_with(start)) continue;
        if (name != shown) CHECK(r.err.find(name) == std::string::npos);
        for (std::string acts :
             {"\x1b", "\x07", "\x7f", "\x9b", "\x9d", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa6", "\xff"})
            CHECK(r.err.find(acts) == std::string::npos);
        // One line, and the next is hostexec's own.
        auto end = r.err.find("` trusts it\n", start.size());
        CHECK(end != std::string::npos);
        if (end == std::string::npos) continue;
        CHECK(r.err.substr(end + 12).starts_with("hostexec: no daemon runs on"));

        // Pasted into bash, the hint trusts that file and runs nothing else.
        std::string hint = r.err.substr(start.size(), end - start.size());
        auto pasted =
            run({.argv = {"bash", "-c", pfd_binary() + " trust " + hint}, .env = u.env(), .cwd = u.project.path()});
        if (name.find('\n') != std::string::npos) {
            // The trust store has a line per file: no such path is trusted.
            CHECK(pasted.err == "pfd: a path with a newline cannot be trusted\n");
            continue;
        }
        CHECK(pasted.code() == 0);
        CHECK(pasted.out ==
              "pfd: trusted " + u.project / shown + "/.pfd.toml as it is now; an edit makes it untrusted again\n");
        auto again = run({.argv = {hostexec_binary(), "true"}, .env = u.env(), .cwd = dir});
        CHECK(again.err.find("ignoring") == std::string::npos);
        CHECK(again.err.find("pfd.web.sock") != std::string::npos); // the project's, now honoured
    }
    CHECK_FALSE(exists(u.project / "PWNED"));
    CHECK_FALSE(exists(u.project / "PWNED2"));
}

namespace {

/// A project (project_user) whose trusted .pfd.toml lets its daemon run
/// `id` and nothing else (`allowed` on top), and that daemon, started there
/// in the background. Its verbs and clients name the project: once the file
/// is untrusted, discovery from here no longer finds the project's socket.
struct policed_project : project_user {
    explicit policed_project(const std::string& allowed = "")
    {
        write(policy(allowed));
        ::chmod(file().c_str(), 0644);
        REQUIRE(pfd({"trust"}).code() == 0);
    }
    static std::string policy(const std::string& allowed)
    {
        return "project = \"web\"\n[policy]\nallow_commands = [\"/usr/bin/id\"" + allowed + "]\n";
    }
    /// hostexec --project web ARGS...
    result hostexec_web(std::vector<std::string> args) const
    {
        args.insert(args.begin(), {hostexec_binary(), "--project", "web"});
        return run_in(std::move(args));
    }
    /// pfd VERB... --project web, with `pfd` (default: the built one).
    result verb(std::vector<std::string> args, const std::string& pfd = pfd_binary()) const
    {
        args.insert(args.begin(), pfd);
        args.insert(args.end(), {"--project", "web"});
        return run_in(std::move(args));
    }
    /// Whether the daemon refuses `sh` (and still runs `id`): the project's policy holds.
    bool refuses_sh() const
    {
        auto sh = hostexec_web({"sh", "-c", "echo ran"});
        auto id = hostexec_web({"id", "-u"});
        UNSCOPED_INFO("sh: " << sh.code() << " " << sh.out << sh.err << "id: " << id.code() << " " << id.err);
        return sh.code() == 125 && sh.out.empty() && sh.err.find("'sh' is not allowed here") != std::string::npos &&
               id.code() == 0;
    }
    pid_t daemon_pid(const std::string& pfd = pfd_binary()) const
    {
        auto r = verb({"status", "--json"}, pfd);
        auto at = r.out.find("\"pid\":");
        return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + 6);
    }
    std::string log() const { return slurp(state / "pfd/pfd.web.sock.log"); }
    /// What the daemon answers to `pfd reload` and `pfd restart` when the
    /// file it runs with is no longer what it trusted.
    std::string trust_hint() const { return "`pfd trust " + file() + "` once it is as you mean it"; }
};

std::size_t count(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

/// The processes whose parent is `parent`.
std::vector<pid_t> children_of(pid_t parent)
{
    std::vector<pid_t> out;
    for (auto& entry : std::filesystem::directory_iterator("/proc")) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0) continue;
        std::string stat = slurp(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close != std::string::npos && std::atoi(stat.c_str() + close + 4) == parent) out.push_back(pid);
    }
    return out;
}

/// `pfd` copied where it can be "upgraded": replaced by a new file (a new
/// inode) at the same path, as a package manager does.
struct upgradable_pfd {
    temp_dir bin;
    std::string path = bin / "pfd";
    upgradable_pfd() { copy(path); }
    void upgrade() const
    {
        copy(path + ".new");
        std::filesystem::rename(path + ".new", path);
    }
    static void copy(const std::string& to)
    {
        std::filesystem::copy_file(pfd_binary(), to);
        std::filesystem::permissions(to, std::filesystem::perms::owner_all);
    }
};

/// An `exec` of `id` from a client of another build (hostexec/9.9), as the
/// daemon's owner: the reply, to its end.
std::string exec_from_newer_client(const std::string& socket)
{
    auto sock = connect_raw(socket);
    std::string line = exec_line(R"("argv":["id"],"cwd":"/","client":"hostexec/9.9 other-build")") + "\n";
    REQUIRE(::write(sock.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    return read_all(sock.get());
}

} // namespace

TEST_CASE("a restarted project daemon keeps the project's policy", "[trust][restart]")
{
    policed_project u;
    REQUIRE(u.pfd({"start"}).code() == 0);
    CHECK(u.refuses_sh());
    pid_t before = u.daemon_pid();

    auto restart = u.verb({"restart"});
    INFO(restart.err << u.log());
    CHECK(restart.code() == 0);
    CHECK(u.daemon_pid() != before);
    // The successor started from / as its predecessor had moved there: it
    // was handed the project file rather than left to look for it.
    CHECK(u.refuses_sh());
    CHECK(u.verb({"stop"}).code() == 0);
}

TEST_CASE("the automatic restart after an upgrade keeps the project's policy", "[trust][restart]")
{
    policed_project u;
    upgradable_pfd pfd;
    REQUIRE(u.verb({"start"}, pfd.path).code() == 0);
    pid_t before = u.daemon_pid(pfd.path);
    REQUIRE(before > 0);
    pfd.upgrade();
    CHECK(exec_from_newer_client(u.run / "pfd.web.sock").find("\"exited\"") != std::string::npos);
    bool replaced = eventually([&] {
        pid_t now = u.daemon_pid(pfd.path);
        return now > 0 && now != before;
    });
    INFO(u.log());
    REQUIRE(replaced);
    CHECK(u.refuses_sh());
    CHECK(u.verb({"stop"}, pfd.path).code() == 0);
}

TEST_CASE("a successor that finds the project file changed refuses; the old daemon serves on with its policy",
          "[trust][restart]")
{
    policed_project u;
    upgradable_pfd pfd;
    REQUIRE(u.verb({"start"}, pfd.path).code() == 0);
    pid_t before = u.daemon_pid(pfd.path);
    REQUIRE(before > 0);
    // A sandbox that can write the project directory adds one comment line.
    std::ofstream(u.file(), std::ios::app) << "# harmless, surely\n";

    auto restart = u.verb({"restart"}, pfd.path);
    INFO(u.log());
    CHECK(restart.code() == 1);
    CHECK(restart.err.find("pfd: restart failed, still serving: the new daemon refused to take over: " + u.file() +
                           ": changed since it was trusted; ") != std::string::npos);
    CHECK(restart.err.find(u.trust_hint()) != std::string::npos);
    CHECK(u.daemon_pid(pfd.path) == before);
    CHECK(u.refuses_sh());
    // The successor said why in the log, and is gone (reaped: no zombie).
    CHECK(u.log().find("pfd: " + u.file() + ": changed since it was trusted") != std::string::npos);
    CHECK(children_of(before).empty());

    // The upgrade a newer client sets off refuses the same way, once: the
    // next newer client does not start another successor to fail.
    pfd.upgrade();
    CHECK(exec_from_newer_client(u.run / "pfd.web.sock").find("\"exited\"") != std::string::npos);
    CHECK(eventually([&] { return count(u.log(), "restart failed, still serving") == 2; }));
    CHECK(exec_from_newer_client(u.run / "pfd.web.sock").find("\"exited\"") != std::string::npos);
    CHECK(u.verb({"reload"}, pfd.path).code() == 1); // on the daemon's control strand, after that client's build
    CHECK(count(u.log(), "restart failed, still serving") == 2);
    CHECK(u.daemon_pid(pfd.path) == before);
    CHECK(u.refuses_sh());
    CHECK(u.verb({"stop"}, pfd.path).code() == 0);
}

TEST_CASE("a reload keeps the running policy when the project file is edited, gone, shared or a symlink",
          "[trust][reload]")
{
    policed_project u;
    REQUIRE(u.pfd({"start"}).code() == 0);
    REQUIRE(u.refuses_sh());
    pid_t daemon = u.daemon_pid();
    REQUIRE(daemon > 1); // signalled below
    temp_dir elsewhere;
    std::string permissive = elsewhere / "permissive.toml";
    std::ofstream(permissive) << "project = \"web\"\n";
    ::chmod(permissive.c_str(), 0644);
    REQUIRE(u.pfd({"trust", permissive}).code() == 0); // trusted, at its own path

    const std::pair<std::string, std::function<void()>> breaks[] = {
        {"changed since it was trusted", [&] { std::ofstream(u.file(), std::ios::app) << "# one comment line\n"; }},
        {"No such file or directory", [&] { ::unlink(u.file().c_str()); }},
        {"writable by group or others (mode 664)", [&] { ::chmod(u.file().c_str(), 0664); }},
        {"a symlink",
         [&] {
             ::unlink(u.file().c_str());
             REQUIRE(::symlink(permissive.c_str(), u.file().c_str()) == 0);
         }},
    };
    for (auto& [why, broken] : breaks) {
        INFO(why);
        broken();
        std::string refusal = "reload failed, keeping the running configuration: " + u.file() + ": " + why + "; ";
        auto reload = u.verb({"reload"});
        CHECK(reload.code() == 1);
        CHECK(reload.err.find("pfd: " + refusal) != std::string::npos);
        CHECK(reload.err.find(u.trust_hint()) != std::string::npos);
        CHECK(u.refuses_sh());
        // SIGHUP decides the same, in the log.
        REQUIRE(::kill(daemon, SIGHUP) == 0);
        CHECK(eventually([&] { return count(u.log(), refusal) == 2; })); // pfd reload's, then SIGHUP's
        CHECK(u.refuses_sh());

        // Put back as it was trusted: a reload applies it again.
        ::unlink(u.file().c_str());
        u.write(policed_project::policy(""));
        ::chmod(u.file().c_str(), 0644);
        CHECK(u.verb({"reload"}).code() == 0);
    }
    CHECK(u.daemon_pid() == daemon);
    CHECK(u.verb({"stop"}).code() == 0);
}

TEST_CASE("an edit of the project file trusted again applies on reload, then on restart", "[trust][reload]")
{
    policed_project u;
    REQUIRE(u.pfd({"start"}).code() == 0);
    CHECK(u.hostexec_web({"true"}).code() == 125);

    u.write(policed_project::policy(", \"true\""));
    CHECK(u.verb({"reload"}).code() == 1); // not trusted yet
    CHECK(u.hostexec_web({"true"}).code() == 125);
    REQUIRE(u.pfd({"trust"}).code() == 0);
    // The running daemon has not read it yet: a successor would run other
    // than what runs now, so it refuses and says what to do first.
    auto early = u.verb({"restart"});
    CHECK(early.code() == 1);
    CHECK(early.err.find(u.file() + ": changed since the running daemon read it, and trusted again; `pfd reload` "
                                    "applies it to the running daemon first") != std::string::npos);

    auto reload = u.verb({"reload"});
    CHECK(reload.code() == 0);
    CHECK(reload.out == "pfd: configuration reloaded\n");
    CHECK(u.hostexec_web({"true"}).code() == 0);
    CHECK(u.refuses_sh());
    auto restart = u.verb({"restart"});
    INFO(restart.err << u.log());
    CHECK(restart.code() == 0);
    CHECK(u.hostexec_web({"true"}).code() == 0);
    CHECK(u.refuses_sh());
    CHECK(u.verb({"stop"}).code() == 0);
}
