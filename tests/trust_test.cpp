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
#include <fstream>

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
