// The second attack round on [policy] command lists: a program is judged by
// the file that will run, and that very file runs. Each attack here ran the
// attacker's script as the daemon's user before (a script that goes through
// /bin/sh, which the list denies): the daemon judged a path string in its
// own context and the child executed the same string in another one (after
// its fchdir, after its descriptors moved, in a mount namespace the client
// made). docs/security.md, "Command lists".
#include "support/harness.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace pfd::test;

namespace {

constexpr const char* review_policy = "[policy]\ndeny_commands = [\"sh\", \"bash\", \"dash\", \"python*\"]\n"
                                      "allow_commands = [\"ls\", \"cat\", \"echo\", \"/usr/bin/id\"]\n";

/// The attacker's tree: not root's, even when the tests run as root.
struct attacker_tree {
    temp_dir dir;
    std::string marker = dir / "ran";

    attacker_tree()
    {
        REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
        if (::geteuid() == 0) REQUIRE(::chown(dir.path().c_str(), 65534, 65534) == 0);
    }
    /// A script at `rel` (directories made) that leaves the marker if it runs.
    std::string plant(const std::string& rel, const std::string& first_line = "#!/bin/sh") const
    {
        std::string path = dir / rel;
        for (auto slash = path.find('/', dir.path().size() + 1); slash != std::string::npos;
             slash = path.find('/', slash + 1))
            ::mkdir(path.substr(0, slash).c_str(), 0755);
        std::ofstream(path) << first_line << "\ntouch " << marker << "\n";
        REQUIRE(::chmod(path.c_str(), 0755) == 0);
        return path;
    }
    bool ran() const { return exists(marker); }
};

std::string config_file(const temp_dir& conf, const std::string& text)
{
    std::ofstream(conf / "pfd.toml") << text;
    return conf / "pfd.toml";
}

/// A raw exec with `fds` attached; everything the daemon answers.
std::string raw_exec(const running_daemon& d, const std::string& fields, const std::vector<int>& fds = {})
{
    auto sock = connect_raw(d.socket());
    pfd::send_with_fds(sock.get(), exec_line(fields) + "\n", fds);
    return read_to_eof(sock.get()).value_or("(no answer)");
}

std::string json_string(const std::string& s)
{
    return "\"" + s + "\""; // the tests' paths hold no quote or backslash
}

} // namespace

TEST_CASE("a /proc/self/cwd path is not judged in the daemon's directory and run in the client's", "[policy]")
{
    temp_dir conf;
    attacker_tree a;
    a.plant("usr/bin/ls");
    std::string deep = a.dir / "1/2/3/4";
    a.plant("1/2/3/4/x");
    running_daemon d({"--config", config_file(conf, review_policy)});

    // In the daemon (cwd /) the path means /usr/bin/ls, which is allowed; in
    // the child, after it entered `deep`, the attacker's usr/bin/ls.
    std::string answer =
        raw_exec(d, R"("argv":["ls"],"program":"/proc/self/cwd/../../../../usr/bin/ls","cwd":)" + json_string(deep));
    INFO(answer);
    CHECK(answer.find("\"event\":\"started\"") == std::string::npos);
    CHECK(answer.find("/proc") != std::string::npos); // the refusal says why
    CHECK_FALSE(a.ran());
    // Through /proc as a plain argument still works: only the program is judged.
    CHECK(d.run({"ls", "/proc/self/cwd/"}).code() == 0);
}

TEST_CASE("a /proc/self/fd/N program is not judged in the daemon's descriptor table and run in the child's", "[policy]")
{
    temp_dir conf;
    attacker_tree a;
    std::string script = a.plant("script");
    running_daemon d({"--config", config_file(conf, review_policy)});

    // Enough copies of /usr/bin/ls that the daemon's own descriptor 20 is
    // one of them when it checks; in the child, 20 is the attacker's script.
    pfd::unique_fd ls(::open("/usr/bin/ls", O_RDONLY | O_CLOEXEC));
    pfd::unique_fd evil(::open(script.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(ls);
    REQUIRE(evil);
    REQUIRE(d.open_fds() < 20);
    std::vector<int> fds(30, ls.get());
    std::string targets;
    for (int i = 0; i < 30; ++i) targets += std::to_string(100 + i) + ",";
    fds.push_back(evil.get());
    targets += "20";
    std::string answer =
        raw_exec(d, R"("argv":["ls"],"program":"/proc/self/fd/20","cwd":"/","fds":[)" + targets + "]", fds);
    INFO(answer);
    CHECK(answer.find("\"event\":\"started\"") == std::string::npos);
    CHECK_FALSE(a.ran());
    // Nor by its other name.
    answer = raw_exec(d, R"("argv":["ls"],"program":"/dev/fd/20","cwd":"/","fds":[)" + targets + "]", fds);
    CHECK(answer.find("\"event\":\"started\"") == std::string::npos);
    CHECK_FALSE(a.ran());
}

TEST_CASE("a directory of the client's own mount namespace is not judged by the name it has there", "[policy]")
{
    if (run({.argv = {"unshare", "-Urm", "true"}}).code() != 0) {
        WARN("skipped: unshare -Urm cannot make a user and mount namespace here");
        return;
    }
    temp_dir conf;
    attacker_tree a;
    a.plant("ls");
    running_daemon d({"--config", config_file(conf, review_policy)});
    // In its namespace the attacker's directory is /usr/bin: `readlink` of
    // the directory descriptor hostexec sends says /usr/bin, and ./ls there
    // is the attacker's script.
    std::string script = "mount --bind " + a.dir.path() + " /usr/bin && cd /usr/bin && exec " + hostexec_binary() +
                         " --socket " + d.socket() + " --json ./ls";
    auto r = run({.argv = {"unshare", "-Urm", "/bin/sh", "-c", script}});
    INFO(r.err);
    CHECK(r.code() == 125);
    CHECK(r.err.find("\"code\":\"denied\"") != std::string::npos);
    CHECK_FALSE(a.ran());

    // The same from a namespace that binds the real /usr/bin there is fine.
    script = "mount --bind /usr/bin " + a.dir.path() + " && cd " + a.dir.path() + " && exec " + hostexec_binary() +
             " --socket " + d.socket() + " ./ls -d /";
    auto fine = run({.argv = {"unshare", "-Urm", "/bin/sh", "-c", script}});
    CHECK(fine.code() == 0);
    CHECK(fine.out == "/\n");
}

TEST_CASE("a denied interpreter does not run through a script that names it", "[policy]")
{
    temp_dir conf;
    attacker_tree a;
    a.plant("with-shebang");
    a.plant("env-sh", "#!/bin/dash");
    a.plant("no-shebang", "# a shell script without a #! line: execvpe(3) runs it with /bin/sh");
    running_daemon d({"--config", config_file(conf, "[policy]\ndeny_commands = [\"sh\", \"dash\"]\n")});
    for (const char* script : {"./with-shebang", "./env-sh", "./no-shebang"}) {
        INFO(script);
        auto r = run({.argv = d.hostexec({"--json", script}), .cwd = a.dir.path()});
        CHECK(r.code() == 125);
        CHECK(r.err.find("\"code\":\"denied\"") != std::string::npos);
        CHECK_FALSE(a.ran());
    }
    // A script whose interpreter is not denied runs.
    std::ofstream(a.dir / "fine") << "#!/usr/bin/env echo\n";
    REQUIRE(::chmod((a.dir / "fine").c_str(), 0755) == 0);
    auto r = run({.argv = d.hostexec({"./fine", "arg"}), .cwd = a.dir.path()});
    CHECK(r.code() == 0);
    CHECK(r.out == "./fine arg\n");
}

TEST_CASE("a script sees the name it was found by as $0, through a descriptor and by a root-owned name", "[policy]")
{
    temp_dir conf, bin;
    std::string script = bin / "where-am-i";
    std::ofstream(script) << "#!/bin/sh\necho \"0=$0 1=$1\"; cat /proc/$$/comm\n";
    REQUIRE(::chmod(script.c_str(), 0755) == 0);
    std::ofstream(bin / "plain") << "echo \"plain 0=$0\"\n"; // no #!: run by /bin/sh
    REQUIRE(::chmod((bin / "plain").c_str(), 0755) == 0);
    running_daemon d;
    for (const char* t : {"-T", "-t"}) {
        INFO(t);
        auto r = run({.argv = d.hostexec({t, "./where-am-i", "a"}), .cwd = bin.path()});
        CHECK(r.code() == 0);
        CHECK(r.out.find("0=./where-am-i 1=a") == 0);
        r = run({.argv = d.hostexec({t, "where-am-i", "b"}), .env = {"PATH=" + bin.path() + ":/usr/bin:/bin"}});
        CHECK(r.out.find("0=" + script + " 1=b") == 0);
        r = run({.argv = d.hostexec({t, "./plain"}), .cwd = bin.path()});
        CHECK(r.out.find("plain 0=./plain") == 0);
    }
    // A program of root's runs by its name, as execve always ran it: its
    // process name is its own (pgrep, ps -e), not a descriptor's number.
    auto comm = d.run({"cat", "/proc/self/comm"});
    CHECK(comm.out == "cat\n");
}
