// End to end: hostexec's flags (the flatpak-spawn compatible ones, -d, -t/-T)
// and its shims, against a real daemon, asserting on what a user sees.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

using namespace pfd::test;
namespace fs = std::filesystem;

namespace {

/// hostexec's own failure (usage, a bad option value): exit 125 and a
/// message of its own.
void check_own_failure(const result& r)
{
    CHECK(r.code() == 125);
    CHECK(r.err.starts_with("hostexec: "));
}

/// A pipe whose read end stays in the test and whose write end is handed to
/// a child; both close-on-exec so no other child inherits them.
struct test_pipe {
    pfd::unique_fd read, write;
    test_pipe()
    {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        read.reset(p[0]);
        write.reset(p[1]);
    }
};

/// The real path (symlinks resolved) of a directory: `pwd -P` prints this one.
std::string real(const std::string& path)
{
    return fs::canonical(path).string();
}

bool is_decimal_line(const std::string& s)
{
    if (s.size() < 2 || s.back() != '\n') return false;
    for (std::size_t i = 0; i + 1 < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

} // namespace

TEST_CASE("--env sets and overrides variables, in both spellings", "[flags][env]")
{
    running_daemon d;
    SECTION("--env=VAR=VALUE overrides an inherited variable")
    {
        auto r = run({.argv = d.hostexec({"--env=PFD_FLAG_VAR=new", "sh", "-c", "printf '%s\\n' \"$PFD_FLAG_VAR\""}),
                      .env = {"PFD_FLAG_VAR=old"}});
        CHECK(r.code() == 0);
        CHECK(r.out == "new\n");
    }
    SECTION("a value may contain '=' and spaces")
    {
        auto r = d.run({"--env=PFD_FLAG_VAR=a=b c  d", "sh", "-c", "printf '[%s]\\n' \"$PFD_FLAG_VAR\""});
        CHECK(r.code() == 0);
        CHECK(r.out == "[a=b c  d]\n");
    }
    SECTION("--env VAR=VALUE, the separate-argument form")
    {
        auto r = d.run({"--env", "PFD_FLAG_VAR=sep", "--env", "PFD_OTHER=2", "sh", "-c",
                        "printf '%s %s\\n' \"$PFD_FLAG_VAR\" \"$PFD_OTHER\""});
        CHECK(r.code() == 0);
        CHECK(r.out == "sep 2\n");
    }
    SECTION("an --env without '=' is a usage error")
    {
        auto r = d.run({"--env=NOEQUALS", "true"});
        check_own_failure(r);
    }
}

TEST_CASE("--unset-env removes a variable the caller has", "[flags][env]")
{
    running_daemon d;
    auto r = run({.argv = d.hostexec({"--unset-env=PFD_FLAG_VAR", "sh", "-c", "echo ${PFD_FLAG_VAR-unset}"}),
                  .env = {"PFD_FLAG_VAR=present"}});
    CHECK(r.code() == 0);
    CHECK(r.out == "unset\n");

    SECTION("the separate-argument form too")
    {
        auto r2 = run({.argv = d.hostexec({"--unset-env", "PFD_FLAG_VAR", "sh", "-c", "echo ${PFD_FLAG_VAR-unset}"}),
                       .env = {"PFD_FLAG_VAR=present"}});
        CHECK(r2.out == "unset\n");
    }
}

TEST_CASE("--clear-env leaves only what --env adds", "[flags][env]")
{
    running_daemon d;
    // Without PATH the daemon cannot be relied on to find a bare name: absolute.
    auto r = run({.argv = d.hostexec({"--clear-env", "--env=A=1", "/usr/bin/env"}), .env = {"PFD_FLAG_VAR=x"}});
    CHECK(r.code() == 0);
    CHECK(r.out == "A=1\n");
    CHECK(r.err.empty());

    SECTION("nothing at all without --env")
    {
        auto r2 = d.run({"--clear-env", "/usr/bin/env"});
        CHECK(r2.code() == 0);
        CHECK(r2.out.empty());
    }
}

TEST_CASE("--directory runs the command elsewhere", "[flags][directory]")
{
    running_daemon d;
    temp_dir here;
    std::string sub = here / "sub";
    REQUIRE(::mkdir(sub.c_str(), 0700) == 0);

    SECTION("absolute")
    {
        auto r = d.run({"--directory=" + sub, "pwd", "-P"});
        CHECK(r.code() == 0);
        CHECK(r.out == real(sub) + "\n");
    }
    SECTION("absolute, separate argument")
    {
        auto r = d.run({"--directory", sub, "pwd", "-P"});
        CHECK(r.out == real(sub) + "\n");
    }
    SECTION("relative to hostexec's own working directory")
    {
        auto r = run({.argv = d.hostexec({"--directory=sub", "pwd", "-P"}), .cwd = here.path()});
        CHECK(r.code() == 0);
        CHECK(r.out == real(sub) + "\n");
    }
    SECTION("a directory that does not exist is hostexec's own failure")
    {
        auto r = d.run({"--directory=" + (here / "missing"), "true"});
        check_own_failure(r);
        CHECK(r.out.empty());
    }
    SECTION("a relative one that does not exist too")
    {
        auto r = run({.argv = d.hostexec({"--directory=missing", "true"}), .cwd = here.path()});
        check_own_failure(r);
    }
}

TEST_CASE("--forward-fd passes extra descriptors under the same numbers", "[flags][fds]")
{
    running_daemon d;
    SECTION("both spellings; the bytes arrive on the test's pipes")
    {
        test_pipe five, seven;
        process p(
            {.argv = d.hostexec({"--forward-fd=5", "--forward-fd", "7", "sh", "-c", "echo five >&5; echo seven >&7"}),
             .fds = {{five.write.get(), 5}, {seven.write.get(), 7}}});
        // Only the child (and so the command) may hold the write ends, or
        // reading to end of file would never end.
        five.write.reset();
        seven.write.reset();
        auto r = p.finish();
        CHECK(r.code() == 0);
        CHECK(r.err.empty());
        CHECK(read_all(five.read.get(), 20s) == "five\n");
        CHECK(read_all(seven.read.get(), 20s) == "seven\n");
    }
    SECTION("the command sees exactly 0, 1, 2 and the forwarded ones")
    {
        test_pipe five, seven;
        auto r = run({.argv = d.hostexec({"--forward-fd=5", "--forward-fd", "7", probe_binary()}),
                      .fds = {{five.write.get(), 5}, {seven.write.get(), 7}}});
        CHECK(r.code() == 0);
        CHECK(r.out.find("fds=0,1,2,5,7\n") == 0);
    }
    SECTION("every descriptor open without close-on-exec is inherited, as by a local exec")
    {
        test_pipe five;
        auto r = run({.argv = d.hostexec({probe_binary()}), .fds = {{five.write.get(), 5}}});
        CHECK(r.out.find("fds=0,1,2,5\n") == 0);
    }
    SECTION("--no-inherit-fds passes 0-2 and what --forward-fd names")
    {
        test_pipe five, seven;
        auto r = run({.argv = d.hostexec({"--no-inherit-fds", probe_binary()}),
                      .fds = {{five.write.get(), 5}, {seven.write.get(), 7}}});
        CHECK(r.out.find("fds=0,1,2\n") == 0);
        auto named = run({.argv = d.hostexec({"--no-inherit-fds", "--forward-fd=7", probe_binary()}),
                          .fds = {{five.write.get(), 5}, {seven.write.get(), 7}}});
        CHECK(named.out.find("fds=0,1,2,7\n") == 0);
    }
    SECTION("a descriptor that is not open is hostexec's own failure")
    {
        auto r = d.run({"--forward-fd=9", "true"});
        check_own_failure(r);
        CHECK(r.err.find('9') != std::string::npos);
    }
    SECTION("a number that is not a number")
    {
        auto r = d.run({"--forward-fd=five", "true"});
        check_own_failure(r);
    }
}

TEST_CASE("options stop at the first non-option argument", "[flags][parse]")
{
    running_daemon d;
    SECTION("what follows the command belongs to it")
    {
        auto r = d.run({"echo", "--env=X", "-t"});
        CHECK(r.code() == 0);
        CHECK(r.out == "--env=X -t\n");
    }
    SECTION("-- ends the options: a command named like a flag is looked up")
    {
        auto r = d.run({"--", "--weird"});
        CHECK(r.code() == 127);
        CHECK(r.err.starts_with("hostexec: "));
        CHECK(r.err.find("--weird") != std::string::npos);
    }
    SECTION("an unknown flag is a usage error, and nothing runs")
    {
        auto r = d.run({"--unknown-flag", "echo", "ran"});
        check_own_failure(r);
        CHECK(r.out.empty());
    }
    SECTION("an option that needs a value and has none")
    {
        auto r = d.run({"--env"});
        check_own_failure(r);
    }
}

TEST_CASE("-d hands the command over, prints its id and exits at once", "[flags][detach]")
{
    running_daemon d;
    for (const char* flag : {"-d", "--detach"}) {
        INFO(flag);
        // The command waits for input hostexec never sees: hostexec must not
        // wait for it. A SIGHUP would print "hup" (or kill the shell), so the
        // final output also shows the command was not hung up.
        process p({.argv = d.hostexec({flag, "sh", "-c", "trap 'echo hup; exit 9' HUP; read x; echo got-$x"})});
        int status = p.wait_status(20s);
        REQUIRE(status != -1);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);

        // hostexec is gone; the command still holds its stdin and stdout.
        p.write_stdin("1\n");
        std::string out = p.read_stdout_until("got-1\n");
        auto nl = out.find('\n');
        REQUIRE(nl != std::string::npos);
        std::string id_line = out.substr(0, nl + 1);
        CHECK(is_decimal_line(id_line));
        CHECK(out.substr(nl + 1) == "got-1\n");

        auto r = p.finish();
        CHECK_FALSE(r.timed_out);
        CHECK(r.out == id_line + "got-1\n");
        CHECK(r.err.empty());
    }
    CHECK(eventually([&] { return d.children() == 0 && d.zombies() == 0; }));

    SECTION("a detached command that cannot start is still reported")
    {
        auto r = d.run({"-d", "pfd-no-such-command"});
        CHECK(r.code() == 127);
        CHECK(r.err.starts_with("hostexec: "));
        CHECK(r.out.empty());
    }
}

TEST_CASE("a detached command is not hung up when hostexec is gone", "[flags][detach]")
{
    running_daemon d;
    // The command outlives hostexec by two round trips through the test and
    // reports a SIGHUP if one came in the meantime. (It prints nothing before
    // its first read: its output and hostexec's id line would race.)
    process p(
        {.argv = d.hostexec({"-d", "sh", "-c", "trap 'echo hup' HUP; read x; echo got-$x; read y; echo got-$y"})});
    int status = p.wait_status(20s);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    p.write_stdin("1\n");
    REQUIRE(p.read_stdout_until("got-1\n").ends_with("got-1\n"));
    p.write_stdin("2\n");
    auto r = p.finish();
    CHECK_FALSE(r.timed_out);
    CHECK(r.out.find("hup") == std::string::npos);
    auto nl = r.out.find('\n');
    CHECK(is_decimal_line(r.out.substr(0, nl + 1)));
    CHECK(r.out.substr(nl + 1) == "got-1\ngot-2\n");
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("--install-shim makes symlinks to hostexec that run their name through the daemon", "[flags][shim]")
{
    running_daemon d;
    temp_dir shims;
    const std::string hostexec_real = real(hostexec_binary());

    auto install = run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "env", "printf"}});
    REQUIRE(install.code() == 0);
    CHECK(install.err.empty());
    for (const char* name : {"env", "printf"}) {
        INFO(name);
        CHECK(fs::is_symlink(shims / name));
        CHECK(real(shims / name) == hostexec_real);
    }

    SECTION("a shim parses no flags and runs its own name")
    {
        auto r = run({.argv = {shims / "printf", "x%sy\\n", "a"}, .env = {"PFD_SOCKET=" + d.socket()}});
        CHECK(r.code() == 0);
        CHECK(r.out == "xay\n");
        CHECK(r.err.empty());
    }
    SECTION("a shim's arguments that look like hostexec flags are the command's")
    {
        auto r = run({.argv = {shims / "printf", "%s\\n", "--env=X"}, .env = {"PFD_SOCKET=" + d.socket()}});
        CHECK(r.code() == 0);
        CHECK(r.out == "--env=X\n");
    }
    SECTION("the command is marked with PFD_SHIM=NAME")
    {
        auto r = run({.argv = {shims / "env"}, .env = {"PFD_SOCKET=" + d.socket(), "PATH=/usr/bin:/bin"}});
        CHECK(r.code() == 0);
        CHECK(r.out.find("\nPFD_SHIM=env\n") != std::string::npos);
    }
    SECTION("installing the same shim again is fine")
    {
        auto again = run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "env"}});
        CHECK(again.code() == 0);
        CHECK(real(shims / "env") == hostexec_real);
    }
    SECTION("a regular file in the way is left alone")
    {
        std::ofstream(shims / "cat") << "mine\n";
        auto r = run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "cat"}});
        check_own_failure(r);
        CHECK_FALSE(fs::is_symlink(shims / "cat"));
        CHECK(slurp(shims / "cat") == "mine\n");
    }
}

/// A daemon whose commands get PATH=`path`, as a host whose PATH holds a
/// shim directory shared with a container (distrobox's ~/.local/bin).
std::vector<std::string> daemon_path(const temp_dir& conf, const std::string& path)
{
    std::ofstream(conf / "path.toml") << "[policy]\nenv_set = [\"PATH=" << path << "\"]\n";
    return {"--config", conf / "path.toml"};
}

TEST_CASE("the shim loop guard runs the real program when the daemon finds the shim again", "[flags][shim]")
{
    temp_dir shims, conf;
    running_daemon d(daemon_path(conf, shims.path() + ":/usr/bin:/bin"));
    REQUIRE(run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "env", "pfd-no-such-tool"}}).code() == 0);

    SECTION("the daemon's lookup of env finds the shim first")
    {
        // Without the guard this would hand `env` to the daemon forever.
        std::string path = shims.path() + ":/usr/bin:/bin";
        auto r = run({.argv = {shims / "env"}, .env = {"PFD_SOCKET=" + d.socket(), "PATH=" + path}}, {}, 20s);
        CHECK_FALSE(r.timed_out);
        CHECK(r.code() == 0);
        CHECK(r.err.empty());
        // The real program sees neither the shim's directory nor the mark.
        CHECK(r.out.find("\nPATH=/usr/bin:/bin\n") != std::string::npos);
        CHECK(r.out.find("PFD_SHIM=") == std::string::npos);
    }
    SECTION("a shim with no real program anywhere ends with 127")
    {
        auto r = run(
            {.argv = {shims / "pfd-no-such-tool", "arg"}, .env = {"PFD_SOCKET=" + d.socket(), "PATH=" + shims.path()}},
            {}, 20s);
        CHECK_FALSE(r.timed_out);
        CHECK(r.code() == 127);
        CHECK(r.err.starts_with("hostexec: "));
        CHECK(r.err.find("pfd-no-such-tool") != std::string::npos);
        CHECK(r.out.empty());
    }
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("through a shim the command runs as if the shim were not there", "[flags][shim]")
{
    running_daemon d;
    temp_dir shims, work;
    REQUIRE(run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "sh", "gcc"}}).code() == 0);
    const std::string path = "PATH=" + shims.path() + ":/usr/bin:/bin";

    SECTION("argv[0] is the caller's: a path stays a path, a name a name")
    {
        auto by_path = run({.argv = {shims / "sh", "-c", "echo \"$0\""}, .env = {"PFD_SOCKET=" + d.socket(), path}});
        CHECK(by_path.code() == 0);
        CHECK(by_path.out == shims / "sh" + "\n");
        auto by_name = run({.argv = {"sh", "-c", "sh -c 'echo \"$0\"'"}, .env = {"PFD_SOCKET=" + d.socket(), path}});
        CHECK(by_name.code() == 0);
        CHECK(by_name.out == "sh\n");
    }
    SECTION("gcc finds its own programs (it looks itself up in PATH)")
    {
        if (!have_program("gcc")) {
            WARN("skipped: gcc is not installed");
            return;
        }
        std::ofstream(work / "hello.c") << "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";
        auto built = run({.argv = {"sh", "-c", "gcc -o hello hello.c && ./hello"},
                          .env = {"PFD_SOCKET=" + d.socket(), path},
                          .cwd = work.path()});
        INFO(built.err);
        CHECK(built.code() == 0);
        CHECK(built.out == "hello\n");
    }
}

// Another hostexec (a copy, another install) whose shim of the same name
// comes next in PATH must not be taken for the real program: it would hand
// NAME to the daemon again without the mark, an endless chain. The test stops
// the daemon as soon as a chain shows, so a regression cannot run away.
TEST_CASE("the loop guard holds when another hostexec's shim is next in PATH", "[flags][shim]")
{
    temp_dir t, conf;
    auto args = daemon_path(conf, (t / "d1") + ":" + (t / "d2") + ":/usr/bin:/bin");
    args.insert(args.end(), {"--stop-grace-ms", "200"});
    running_daemon d(args);
    for (const char* sub : {"other", "d1", "d2"}) REQUIRE(::mkdir((t / sub).c_str(), 0700) == 0);
    const std::string other = t / "other/hostexec";
    fs::copy_file(hostexec_binary(), other);
    fs::permissions(other, fs::perms::owner_all);
    REQUIRE(run({.argv = {hostexec_binary(), "--install-shim", t / "d1", "env"}}).code() == 0);
    REQUIRE(run({.argv = {other, "--install-shim", t / "d2", "env"}}).code() == 0);

    std::string path = (t / "d1") + ":" + (t / "d2") + ":/usr/bin:/bin";
    process p({.argv = {t / "d1/env"}, .env = {"PFD_SOCKET=" + d.socket(), "PATH=" + path}});
    // A guard that works needs one command of the daemon's at a time; a
    // chain of more than three is the loop.
    bool looping = false;
    bool ended = eventually(
        [&] {
            looping = d.children() > 3;
            return looping || p.wait_status(5ms) != -1;
        },
        20s);
    if (looping) d.stop(); // refused connections unwind the chain
    CHECK(ended);
    CHECK_FALSE(looping);
    auto r = p.finish(20s);
    CHECK(r.code() == 0);
    CHECK(r.out.find("\nPATH=/usr/bin:/bin\n") != std::string::npos);
    CHECK(r.out.find("PFD_SHIM=") == std::string::npos);
}

TEST_CASE("--install-shim makes a missing directory first, as install -D would", "[flags][shim]")
{
    running_daemon d;
    temp_dir home;
    std::string bin = home / ".local/bin"; // a fresh account has no ~/.local yet
    auto install = run({.argv = {hostexec_binary(), "--install-shim", bin, "printf"}});
    INFO(install.err);
    REQUIRE(install.code() == 0);
    CHECK(install.err.empty());
    CHECK(fs::is_directory(bin));
    CHECK(real(bin + "/printf") == real(hostexec_binary()));
    auto r = run({.argv = {bin + "/printf", "shim"}, .env = {"PFD_SOCKET=" + d.socket()}});
    CHECK(r.out == "shim");
    // A refused name makes nothing.
    std::string other = home / "other/bin";
    CHECK(run({.argv = {hostexec_binary(), "--install-shim", other, "hostexec"}}).code() == 125);
    CHECK_FALSE(fs::exists(home / "other"));
}

// hostexec treats every name starting with "hostexec" as itself, so such a
// shim would silently run hostexec: --install-shim refuses those names.
TEST_CASE("a shim name hostexec would not treat as a shim is refused", "[flags][shim]")
{
    running_daemon d;
    temp_dir shims;
    auto install = run({.argv = {hostexec_binary(), "--install-shim", shims.path(), "hostexec.tool"}});
    if (install.code() == 0) {
        // Installed: then it must behave as a shim of "hostexec.tool", which
        // does not exist: 127, not hostexec's own --version.
        auto r = run({.argv = {shims / "hostexec.tool", "--version"}, .env = {"PFD_SOCKET=" + d.socket()}});
        CHECK(r.code() == 127);
        CHECK_FALSE(r.out.starts_with("hostexec "));
    } else {
        check_own_failure(install);
        CHECK_FALSE(fs::exists(fs::symlink_status(shims / "hostexec.tool")));
    }
}

TEST_CASE("-t gives the command a terminal, -T never does", "[flags][tty]")
{
    running_daemon d;
    SECTION("-t even when stdin and stdout are pipes")
    {
        auto r = d.run({"-t", "sh", "-c", "test -t 0 && test -t 1 && echo tty"});
        CHECK(r.code() == 0);
        // The pty's output processing turns "\n" into "\r\n".
        CHECK((r.out == "tty\r\n" || r.out == "tty\n"));
    }
    SECTION("--tty is the long spelling")
    {
        auto r = d.run({"--tty", "sh", "-c", "test -t 0 && echo tty"});
        CHECK(r.code() == 0);
        CHECK((r.out == "tty\r\n" || r.out == "tty\n"));
    }
    SECTION("-T")
    {
        auto r = d.run({"-T", "sh", "-c", "test -t 0 || echo notty"});
        CHECK(r.code() == 0);
        CHECK(r.out == "notty\n");
    }
    SECTION("the last of -t and -T wins")
    {
        auto r = d.run({"-t", "-T", "sh", "-c", "test -t 0 || echo notty"});
        CHECK(r.out == "notty\n");
    }
}
