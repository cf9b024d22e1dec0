// [policy] allow_commands / deny_commands judge the file that would run,
// found with the command's own PATH from its own directory, and that file is
// what runs: a name the client controls (./echo, a PATH entry of its own, a
// symlink, "..") does not pass an allow-list.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace pfd::test;

namespace {

/// A directory like a cloned repository or a shared one: not root's alone,
/// even when the tests run as root (a root-owned tree counts as root's word).
struct attacker_dir {
    temp_dir dir;
    std::string marker = dir / "ran";

    attacker_dir()
    {
        if (::geteuid() == 0) REQUIRE(::chown(dir.path().c_str(), 65534, 65534) == 0);
    }
    /// An executable that leaves the marker behind if it ever runs.
    void plant(const std::string& name) const
    {
        std::ofstream(dir / name) << "#!/bin/sh\ntouch " << marker << "\n";
        REQUIRE(::chmod((dir / name).c_str(), 0755) == 0);
    }
    void link(const std::string& name, const std::string& target) const
    {
        REQUIRE(::symlink(target.c_str(), (dir / name).c_str()) == 0);
    }
    std::string path_first() const { return "PATH=" + dir.path() + ":/usr/bin:/bin"; }
};

std::string policy(const temp_dir& conf, const std::string& text)
{
    std::string file = conf / "pfd.toml";
    std::ofstream(file) << "[policy]\n" << text;
    return file;
}

/// The attack `what`: argv run through the daemon from the attacker's
/// directory must be refused and run nothing.
void refused(const running_daemon& d, const attacker_dir& a, const char* what, std::vector<std::string> argv,
             std::vector<std::string> env = {})
{
    INFO(what);
    ::unlink(a.marker.c_str());
    argv.insert(argv.begin(), "--json");
    auto r = run({.argv = d.hostexec(argv), .env = env, .cwd = a.dir.path()});
    CHECK(r.code() == 125);
    CHECK(r.err.find("\"code\":\"denied\"") != std::string::npos);
    CHECK_FALSE(exists(a.marker));
}

} // namespace

TEST_CASE("an allow-list of names is not passed by a file of that name the client chose", "[policy]")
{
    temp_dir conf;
    attacker_dir a;
    a.plant("echo");
    a.link("printf", "/usr/bin/touch");
    running_daemon d({"--config", policy(conf, "allow_commands = [\"echo\", \"printf\"]\n")});

    refused(d, a, "./echo in the current directory", {"./echo"});
    refused(d, a, "echo, with the client's own directory first in PATH", {"echo"}, {a.path_first()});
    refused(d, a, "echo, with an empty PATH element (the current directory)", {"echo"}, {"PATH=:/usr/bin:/bin"});
    refused(d, a, "a symlink named printf to touch", {"printf", a.marker}, {a.path_first()});

    // The programs the list means still run, also through a symlink of ours.
    CHECK(d.run({"echo", "fine"}).out == "fine\n");
    attacker_dir b;
    b.link("echo", "/usr/bin/echo");
    auto through_link = run({.argv = d.hostexec({"./echo", "linked"}), .cwd = b.dir.path()});
    CHECK(through_link.code() == 0);
    CHECK(through_link.out == "linked\n");
}

TEST_CASE("a path pattern matches the resolved file, and '*' never crosses a '/'", "[policy]")
{
    temp_dir conf;
    attacker_dir a;
    a.plant("x");
    REQUIRE(::mkdir((a.dir / "ls").c_str(), 0755) == 0);
    running_daemon d({"--config", policy(conf, "allow_commands = [\"/usr/bin/*\", \"ls*\"]\n")});

    refused(d, a, "/usr/bin/../../<dir>/x against /usr/bin/*", {"/usr/bin/../.." + a.dir.path() + "/x"});
    refused(d, a, "ls/../x against ls*", {"ls/../x"});

    CHECK(d.run({"/usr/bin/printf", "ok"}).out == "ok");
    CHECK(d.run({"ls", "-d", "/"}).out == "/\n");
}

TEST_CASE("a deny-list catches the program under a name of the client's", "[policy]")
{
    temp_dir conf;
    attacker_dir a;
    a.link("harmless", "/usr/bin/touch");
    running_daemon d({"--config", policy(conf, "deny_commands = [\"touch\"]\n")});

    refused(d, a, "a symlink to touch found in PATH", {"harmless", a.marker}, {a.path_first()});
    refused(d, a, "a symlink to touch by path", {"./harmless", a.marker});
    CHECK(d.run({"echo", "fine"}).out == "fine\n");
}

TEST_CASE("the program is looked up with the PATH the command gets, not the client's", "[policy]")
{
    temp_dir conf;
    attacker_dir a;
    a.plant("echo");
    running_daemon d({"--config", policy(conf, "env_set = [\"PATH=/usr/bin:/bin\"]\n")});
    for (bool tty : {false, true}) {
        INFO((tty ? "with" : "without") << " a terminal");
        std::vector<std::string> argv = {tty ? "-t" : "-T", "echo", "host"};
        auto r = run({.argv = d.hostexec(argv), .env = {a.path_first()}, .cwd = a.dir.path()});
        CHECK(r.code() == 0);
        CHECK(r.out.find("host") != std::string::npos);
        CHECK_FALSE(exists(a.marker));
    }
}
