// End to end: hostexec against a real daemon, asserting on what a user sees.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>

using namespace pfd::test;

namespace {

/// The probe's "key=value" lines as a map (args accumulate).
std::map<std::string, std::string> parse_probe(const std::string& out)
{
    std::map<std::string, std::string> m;
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto nl = out.find('\n', pos);
        std::string line = out.substr(pos, nl - pos);
        auto eq = line.find('=');
        if (eq != std::string::npos) {
            auto& v = m[line.substr(0, eq)];
            v += (v.empty() ? "" : "|") + line.substr(eq + 1);
        }
        if (nl == std::string::npos) break;
        pos = nl + 1;
    }
    return m;
}

/// A command that prints "ready", then runs until `signal` arrives, says so
/// and exits 7.
std::vector<std::string> trap_command(const std::string& signal)
{
    return {"sh", "-c",
            "trap 'echo got-" + signal + "; exit 7' " + signal + "; echo ready; while :; do sleep 0.05; done"};
}

} // namespace

TEST_CASE("output reaches the caller's pipes and files byte for byte", "[hostexec]")
{
    running_daemon d;
    SECTION("pipes")
    {
        auto r = d.run({"sh", "-c", "echo out; echo err >&2; exit 3"});
        CHECK(r.out == "out\n");
        CHECK(r.err == "err\n");
        CHECK(r.code() == 3);
    }
    SECTION("files")
    {
        temp_dir t;
        auto r = run({.argv = {"sh", "-c", "\"$0\" --socket \"$1\" printf 'a\\0b\\377' >\"$2\" 2>\"$3\"",
                               hostexec_binary(), d.socket(), t / "out", t / "err"}});
        REQUIRE(r.code() == 0);
        CHECK(slurp(t / "out") == std::string("a\0b\377", 4));
        CHECK(slurp(t / "err").empty());
    }
    SECTION("a megabyte of stdin comes back unchanged")
    {
        std::string input;
        for (int i = 0; input.size() < (1 << 20); ++i) input += std::to_string(i) + '\n';
        auto r = d.run({"cat"}, input);
        CHECK(r.code() == 0);
        CHECK(r.out == input);
    }
}

TEST_CASE("stdin is piped through", "[hostexec]")
{
    running_daemon d;
    auto r = d.run({"wc", "-c"}, "abc");
    CHECK(r.code() == 0);
    CHECK(r.out == "3\n");
}

TEST_CASE("exit codes are the command's own", "[hostexec]")
{
    running_daemon d;
    for (int code : {0, 1, 42, 255}) {
        auto r = d.run({"sh", "-c", "exit " + std::to_string(code)});
        INFO("exit " << code << ", stderr: " << r.err);
        CHECK(r.exited());
        CHECK(r.code() == code);
        CHECK(r.err.empty());
    }
}

TEST_CASE("death by a signal is mirrored without a core dump", "[hostexec]")
{
    running_daemon d;
    for (int signo : {SIGSEGV, SIGKILL, SIGABRT, SIGTERM}) {
        auto r = d.run({"sh", "-c", "kill -" + std::to_string(signo) + " $$"});
        INFO("signal " << signo << ", stderr: " << r.err);
        CHECK(r.signal() == signo);
        CHECK_FALSE(r.core());
        CHECK(r.err.empty());
    }
}

TEST_CASE("environment, working directory and umask are the caller's", "[hostexec]")
{
    running_daemon d;
    temp_dir here;
    auto r = run({.argv = d.hostexec({"sh", "-c", "printf '%s|' \"$PFD_TEST_VAR\"; pwd; umask"}),
                  .env = {"PFD_TEST_VAR=a b\tc", "PWD=" + here.path()},
                  .cwd = here.path(),
                  .umask = 027});
    REQUIRE(r.code() == 0);
    CHECK(r.out == "a b\tc|" + here.path() + "\n0027\n");

    SECTION("an unset variable stays unset")
    {
        auto r2 = run({.argv = d.hostexec({"sh", "-c", "echo ${HOME-unset}"}), .env = {"HOME"}});
        CHECK(r2.out == "unset\n");
    }
    SECTION("the command is looked up in the command's PATH")
    {
        std::ofstream(here / "only-here") << "#!/bin/sh\necho found me\n";
        ::chmod((here / "only-here").c_str(), 0755);
        auto r2 = run({.argv = d.hostexec({"only-here"}), .env = {"PATH=/usr/bin:/bin:" + here.path()}});
        CHECK(r2.code() == 0);
        CHECK(r2.out == "found me\n");
    }
}

TEST_CASE("a Latin-1 argument and file name reach the command byte for byte", "[hostexec]")
{
    running_daemon d;
    temp_dir here;
    const std::string latin1 = "caf\xe9-\xe9t\xe9";
    std::ofstream(here / latin1) << "contents\n";

    auto probe = run({.argv = d.hostexec({probe_binary(), latin1})});
    CHECK(parse_probe(probe.out)["arg"] == latin1);

    auto cat = run({.argv = d.hostexec({"cat", latin1}), .cwd = here.path()});
    CHECK(cat.code() == 0);
    CHECK(cat.out == "contents\n");

    auto ls = run({.argv = d.hostexec({"ls"}), .cwd = here.path()});
    CHECK(ls.out == latin1 + "\n");
}

TEST_CASE("the command gets exactly descriptors 0, 1 and 2, a clean signal state and its own group", "[hostexec]")
{
    running_daemon d;
    auto r = d.run({probe_binary()});
    REQUIRE(r.code() == 0);
    auto p = parse_probe(r.out);
    CHECK(p["fds"] == "0,1,2");
    CHECK(p["blocked"] == "0000000000000000");
    CHECK(p["ignored"] == "0000000000000000");
    CHECK(p["pgid_is_pid"] == "1");

    SECTION("a descriptor closed in the caller is closed in the command")
    {
        auto closed = run(
            {.argv = {"sh", "-c", "exec \"$@\" <&-", "sh", hostexec_binary(), "--socket", d.socket(), probe_binary()}});
        CHECK(parse_probe(closed.out)["fds"] == "1,2");
    }
}

TEST_CASE("a pipe reaches end of file when its command exits while another still runs", "[hostexec]")
{
    running_daemon d;
    process long_running({.argv = d.hostexec({"sh", "-c", "echo started; exec sleep 600"})});
    REQUIRE(long_running.read_stdout_until("started\n") == "started\n");

    // finish() reads both pipes to EOF: the daemon must not hold a copy.
    auto r = run({.argv = d.hostexec({"echo", "hi"})}, {}, 20s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.out == "hi\n");

    long_running.signal(SIGTERM);
    auto done = long_running.finish();
    CHECK(done.signal() == SIGTERM);
}

TEST_CASE("hostexec's own failures exit 125, 126 and 127 with a hostexec: message", "[hostexec]")
{
    running_daemon d;
    SECTION("command not found")
    {
        auto r = d.run({"pfd-no-such-command"});
        CHECK(r.code() == 127);
        CHECK(r.err.starts_with("hostexec: "));
        CHECK(r.err.find("pfd-no-such-command") != std::string::npos);
    }
    SECTION("not executable")
    {
        auto r = d.run({"/etc/passwd"});
        CHECK(r.code() == 126);
        CHECK(r.err.starts_with("hostexec: "));
    }
    SECTION("a directory is not executable")
    {
        auto r = d.run({"/"});
        CHECK(r.code() == 126);
    }
    SECTION("working directory gone")
    {
        temp_dir gone;
        std::string path = gone / "sub";
        ::mkdir(path.c_str(), 0700);
        auto r = run({.argv = {"sh", "-c", "cd \"$0\" && rmdir \"$0\" && exec \"$@\"", path, hostexec_binary(),
                               "--socket", d.socket(), "true"}});
        CHECK(r.code() == 125);
        CHECK(r.err.starts_with("hostexec: "));
    }
    SECTION("no daemon")
    {
        temp_dir empty;
        auto r = run({.argv = {hostexec_binary(), "--socket", empty / "none.sock", "true"}});
        CHECK(r.code() == 125);
        CHECK(r.err.starts_with("hostexec: "));
        CHECK(r.err.find("none.sock") != std::string::npos);
    }
    SECTION("PFD_SOCKET is used when no --socket is given")
    {
        auto r = run({.argv = {hostexec_binary(), "echo", "via env"}, .env = {"PFD_SOCKET=" + d.socket()}});
        CHECK(r.code() == 0);
        CHECK(r.out == "via env\n");
    }
    SECTION("no command: the login shell, here reading its commands from stdin; an unknown option")
    {
        auto shell = d.run({}, "echo \"[$0]\"; exit 5\n");
        CHECK(shell.code() == 5);
        CHECK(shell.out.starts_with("[-"));
        auto r = d.run({"--no-such-option", "true"});
        CHECK(r.code() == 125);
        CHECK(r.err.starts_with("hostexec: "));
    }
}

TEST_CASE("signals sent to hostexec reach the command's process group", "[hostexec][signals]")
{
    running_daemon d;
    const std::pair<int, const char*> forwarded[] = {{SIGINT, "INT"},   {SIGTERM, "TERM"}, {SIGHUP, "HUP"},
                                                     {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}};
    for (auto [signo, name] : forwarded) {
        INFO("SIG" << name);
        process p({.argv = d.hostexec(trap_command(name))});
        REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
        p.signal(signo);
        auto r = p.finish();
        CHECK(r.out == std::string("ready\ngot-") + name + "\n");
        CHECK(r.code() == 7);
    }

    SECTION("a command that does not catch the signal dies of it, and so does hostexec")
    {
        process p({.argv = d.hostexec({"sh", "-c", "echo ready; exec sleep 600"})});
        REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
        p.signal(SIGINT);
        auto r = p.finish();
        CHECK(r.signal() == SIGINT);
    }
}

TEST_CASE("the command's group gets SIGHUP when hostexec dies", "[hostexec][signals]")
{
    running_daemon d;
    process p({.argv = d.hostexec(trap_command("HUP"))});
    REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
    p.signal(SIGKILL);
    CHECK(WTERMSIG(p.wait_status()) == SIGKILL);
    // The command still holds our pipe: what it writes on SIGHUP arrives.
    auto r = p.finish();
    CHECK(r.out == "ready\ngot-HUP\n");
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("64 concurrent hostexec calls all get their own results", "[hostexec][concurrency]")
{
    running_daemon d;
    std::vector<process> calls;
    for (int i = 0; i < 64; ++i)
        calls.emplace_back(spawn_options{
            .argv = d.hostexec({"sh", "-c", "read line; echo \"$1:$line\"; echo \"err$1\" >&2; exit $(($1 % 50))", "sh",
                                std::to_string(i)})});
    for (int i = 0; i < 64; ++i) calls[static_cast<std::size_t>(i)].write_stdin("in" + std::to_string(i) + "\n");
    for (int i = 0; i < 64; ++i) {
        auto r = calls[static_cast<std::size_t>(i)].finish();
        INFO("call " << i);
        CHECK(r.out == std::to_string(i) + ":in" + std::to_string(i) + "\n");
        CHECK(r.err == "err" + std::to_string(i) + "\n");
        CHECK(r.code() == i % 50);
    }
    CHECK(eventually([&] { return d.zombies() == 0 && d.children() == 0; }));
}

TEST_CASE("the daemon stops cleanly on SIGTERM and SIGINT and removes its socket", "[daemon]")
{
    for (int signo : {SIGTERM, SIGINT}) {
        running_daemon d;
        CHECK(d.run({"true"}).code() == 0);
        std::string socket = d.socket();
        ::kill(d.pid(), signo);
        auto r = d.stop();
        CHECK(r.exited());
        CHECK(r.code() == 0);
        CHECK(::access(socket.c_str(), F_OK) != 0);
    }
}

TEST_CASE("a running command may finish when the daemon is asked to stop", "[daemon]")
{
    running_daemon d({"--stop-grace-ms", "20000"});
    process p({.argv = d.hostexec({"sh", "-c", "echo ready; read x; echo done-$x"})});
    REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
    ::kill(d.pid(), SIGTERM);
    // New clients are refused at once (the socket is gone) ...
    CHECK(eventually([&] { return ::access(d.socket().c_str(), F_OK) != 0; }));
    // ... while the running command finishes and reports normally.
    p.write_stdin("1\n");
    auto r = p.finish();
    CHECK(r.out == "ready\ndone-1\n");
    CHECK(r.code() == 0);
    CHECK(d.stop().code() == 0);
}

TEST_CASE("hostexec --version and --help", "[hostexec]")
{
    auto v = run({.argv = {hostexec_binary(), "--version"}});
    CHECK(v.code() == 0);
    CHECK(v.out.starts_with("hostexec "));
    auto h = run({.argv = {hostexec_binary(), "--help"}});
    CHECK(h.code() == 0);
    CHECK(h.out.find("Usage: hostexec") != std::string::npos);
}
