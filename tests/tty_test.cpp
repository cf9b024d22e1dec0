// hostexec with a terminal, driven through real pseudo-terminals: the test
// is the user at a terminal running bash, exactly as a person would be.
#include "support/harness.hpp"
#include "support/terminal.hpp"

#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace pfd::test;

namespace {

/// An interactive bash on a fresh terminal, with `H` naming hostexec and
/// PFD_SOCKET the daemon's socket.
struct user_shell {
    terminal term;
    temp_dir dir;

    explicit user_shell(const running_daemon& d, std::vector<std::string> env = {})
    {
        env.insert(env.end(), {"PS1=PFD$ ", "PFD_SOCKET=" + d.socket(), "H=" + hostexec_binary(), "TERM=xterm",
                               "HISTFILE=/dev/null", "D=" + dir.path()});
        term.start({"bash", "--norc", "--noprofile", "-i"}, env);
        REQUIRE(!term.expect("PFD$ ").empty());
    }

    /// Types a command line and waits for `marker` in the output.
    std::string run(const std::string& line, const std::string& marker)
    {
        term.type(line + "\n");
        auto shown = term.expect(marker);
        INFO("typed: " << line << "\nscreen so far: " << term.seen());
        REQUIRE(!shown.empty());
        return shown;
    }

    /// Ctrl-Z: the shell says the job stopped and prompts again.
    void stop_job()
    {
        term.type("\x1a");
        term.expect("Stopped");
        REQUIRE(!term.expect("PFD$ ").empty());
    }

    /// Waits (bounded) for `text` on the screen, checked, with the screen so
    /// far in the message.
    void check_shows(const std::string& text)
    {
        auto shown = term.expect(text);
        INFO("screen so far: " << term.seen());
        CHECK(!shown.empty());
    }

    /// Waits for the local prompt, then checks the status ($?) the last
    /// command left.
    void check_back_with_status(int status)
    {
        REQUIRE(!term.expect("PFD$ ").empty());
        run("echo status-$?", "status-" + std::to_string(status));
    }

    /// The terminal the command named in $D/tty is a new pseudo-terminal,
    /// not this one.
    void check_new_terminal() const
    {
        auto tty = slurp(dir / "tty");
        CHECK(tty.starts_with("/dev/pts/"));
        CHECK(tty != term.slave_name() + "\n");
    }
};

char state_of(pid_t pid)
{
    auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

/// The process running `exe_suffix` with `needle` in its command line; waits
/// (bounded) since "started" is printed just before the exec.
pid_t only_process(std::string_view needle, std::string_view exe_suffix)
{
    pid_t found = -1;
    eventually([&] {
        for (pid_t pid : find_processes(needle)) {
            std::error_code ec;
            auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
            if (!ec && exe.ends_with(exe_suffix)) found = pid;
        }
        return found > 0;
    });
    return found;
}

/// A sleep that no other test running in parallel has: its command line is
/// how the test finds the processes.
std::string unique_sleep(int n)
{
    return "sleep 100" + std::to_string(n) + "." + std::to_string(::getpid());
}

} // namespace

TEST_CASE("the command's stdin and stdout are a new pseudo-terminal, and the local modes come back", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run(
        "stty -g > $D/before; $H sh -c 'tty > $D/tty'; stty -g > $D/after; cmp $D/before $D/after && echo SAME-$((1))",
        "SAME-1");
    sh.check_new_terminal();
}

TEST_CASE("window size arrives first and follows every resize", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run("$H env PS1='I''N$ ' bash --norc --noprofile -i", "IN$ "); // the typed line must not match
    sh.run("stty size > $D/size1; echo W-$((1))", "W-1");
    CHECK(slurp(sh.dir / "size1") == "24 80\n");
    sh.term.resize(30, 100);
    sh.run("stty size > $D/size2; echo W-$((2))", "W-2");
    CHECK(slurp(sh.dir / "size2") == "30 100\n");
    // Keys typed while a remote command ends may go to it (as with ssh):
    // wait for the local prompt before typing more.
    sh.run("exit 7", "PFD$ ");
    sh.run("echo status-$?", "status-7");
}

TEST_CASE("Ctrl-C interrupts the foreground job of a host shell, not the shell", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run("$H env PS1='I''N$ ' bash --norc --noprofile -i", "IN$ "); // the typed line must not match
    sh.run("sh -c 'echo started-$((1+1)); exec sleep 100'; echo not-interrupted", "started-2");
    sh.term.type("\x03");
    auto shown = sh.term.expect("IN$ ");
    REQUIRE(!shown.empty());
    CHECK(shown.find("not-interrupted") == std::string::npos);
    sh.run("echo alive-$?", "alive-130");
    sh.run("exit", "PFD$ ");
}

TEST_CASE("Ctrl-\\ quits the command", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run("$H sh -c 'echo started-$((5)); exec sleep 100'", "started-5");
    sh.term.type("\x1c");
    sh.check_back_with_status(131);
}

TEST_CASE("Ctrl-Z stops a command run directly and hostexec with it; fg resumes both", "[tty][jobs]")
{
    running_daemon d;
    user_shell sh(d);
    const auto sleep = unique_sleep(3);
    sh.run("$H sh -c 'echo started-$((3)); exec " + sleep + "'", "started-3");
    pid_t sleeper = only_process(sleep, "/sleep");
    REQUIRE(sleeper > 0);
    sh.stop_job();
    CHECK(state_of(sleeper) == 'T');
    pid_t client = only_process(sleep, "/hostexec");
    REQUIRE(client > 0);
    CHECK(state_of(client) == 'T');

    sh.term.type("fg\n");
    CHECK(eventually([&] { return state_of(sleeper) == 'S' && state_of(client) == 'S'; }));
    sh.term.type("\x03");
    sh.check_back_with_status(130);
}

TEST_CASE("a full-screen program draws and quits cleanly", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    {
        std::ofstream f(sh.dir / "text");
        for (int i = 0; i < 200; ++i) f << "line " << i << "\n";
    }
    auto screen = sh.run("stty -g > $D/before; $H less $D/text", "line 10");
    CHECK(screen.find("\x1b[?1049h") != std::string::npos); // switched to the alternate screen
    sh.term.type("q");
    REQUIRE(!sh.term.expect("PFD$ ").empty());
    sh.run("stty -g > $D/after; cmp $D/before $D/after && echo SAME-$((4))", "SAME-4");
}

TEST_CASE("the local terminal is restored when hostexec is terminated or the daemon dies", "[tty]")
{
    SECTION("SIGTERM to hostexec")
    {
        running_daemon d;
        user_shell sh(d);
        const auto sleep = unique_sleep(6);
        sh.run("stty -g > $D/before; $H sh -c 'echo started-$((6)); exec " + sleep +
                   "'; echo rc-$?; "
                   "stty -g > $D/after; cmp $D/before $D/after && echo SAME-$((6))",
               "started-6");
        pid_t client = only_process(sleep, "/hostexec");
        REQUIRE(client > 0);
        ::kill(client, SIGTERM);
        sh.term.expect("rc-143");
        sh.run("", "SAME-6");
    }
    SECTION("the daemon is killed")
    {
        running_daemon d;
        user_shell sh(d);
        sh.run("stty -g > $D/before; $H sh -c 'echo started-$((7)); exec sleep 100'; echo rc-$?; "
               "stty -g > $D/after; cmp $D/before $D/after && echo SAME-$((7))",
               "started-7");
        ::kill(d.pid(), SIGKILL);
        sh.term.expect("rc-125");
        sh.run("", "SAME-7");
    }
}

TEST_CASE("piped stdin reaches a command in a pseudo-terminal and ends it", "[tty]")
{
    running_daemon d;
    auto r = run({.argv = {"sh", "-c", "echo hi | \"$0\" --socket \"$1\" -t cat", hostexec_binary(), d.socket()}});
    CHECK(r.code() == 0);
    CHECK(r.out == "hi\r\n");
}

TEST_CASE("programs that hand work to a desktop session get the terminal itself, not a new one", "[tty]")
{
    running_daemon d;
    temp_dir bin;
    {
        std::ofstream f(bin / "xdg-open");
        f << "#!/bin/sh\ntty > \"$1\"\n";
    }
    ::chmod((bin / "xdg-open").c_str(), 0755);
    user_shell sh(d, {"PATH=" + bin.path() + ":/usr/bin:/bin"});
    sh.run("$H xdg-open $D/auto; echo done-$((8))", "done-8");
    CHECK(slurp(sh.dir / "auto") == sh.term.slave_name() + "\n");
    sh.run("$H -t xdg-open $D/forced; echo done-$((9))", "done-9");
    auto forced = slurp(sh.dir / "forced");
    CHECK(forced.starts_with("/dev/pts/"));
    CHECK(forced != sh.term.slave_name() + "\n");
}

TEST_CASE("hostexec takes the list of programs without a terminal from [exec] no_tty", "[tty][config]")
{
    running_daemon d;
    temp_dir bin, conf;
    for (const char* name : {"xdg-open", "mytool"}) {
        std::ofstream(bin / name) << "#!/bin/sh\ntty > \"$1\"\n";
        ::chmod((bin / name).c_str(), 0755);
    }
    ::mkdir((conf / "pfd").c_str(), 0700);
    std::ofstream(conf / "pfd/config.toml") << "[exec]\nno_tty = [\"mytool\"]\n";
    user_shell sh(d, {"PATH=" + bin.path() + ":/usr/bin:/bin", "XDG_CONFIG_HOME=" + conf.path()});
    sh.run("$H mytool $D/mine; $H xdg-open $D/xdg; echo done-$((10))", "done-10");
    CHECK(slurp(sh.dir / "mine") == sh.term.slave_name() + "\n");
    auto xdg = slurp(sh.dir / "xdg");
    CHECK(xdg.starts_with("/dev/pts/"));
    CHECK(xdg != sh.term.slave_name() + "\n");

    // A mistake in the file is reported with its place, not ignored, and
    // the file left out: the command still runs.
    std::ofstream(conf / "pfd/config.toml") << "[exec]\nno_ty = []\n";
    auto shown = sh.run("$H true; echo rc-$?", "rc-0");
    CHECK(shown.find("hostexec: " + (conf / "pfd/config.toml") +
                     ":2: unknown key 'no_ty' in [exec]; did you mean 'no_tty'? (that file is left out until it is "
                     "fixed)") != std::string::npos);
}

TEST_CASE("with a terminal the file the daemon found runs: a script without #! through sh", "[tty]")
{
    running_daemon d;
    temp_dir bin;
    std::ofstream(bin / "bare") << "echo bare \"$@\"\n";
    ::chmod((bin / "bare").c_str(), 0755);
    auto by_path = run({.argv = d.hostexec({"-t", bin / "bare", "a b"})});
    CHECK(by_path.code() == 0);
    CHECK(by_path.out == "bare a b\r\n");
    auto by_name = run({.argv = d.hostexec({"-t", "bare", "c"}), .env = {"PATH=/nonexistent:" + bin.path()}});
    CHECK(by_name.code() == 0);
    CHECK(by_name.out == "bare c\r\n");
    auto missing = run({.argv = d.hostexec({"-t", "pfd-no-such-command"})});
    CHECK(missing.code() == 127);
    CHECK(missing.err.find("pfd-no-such-command") != std::string::npos);
}

TEST_CASE("hostexec without a command opens the user's login shell on the host, in a terminal", "[tty]")
{
    running_daemon d;
    user_shell sh(d);
    // The daemon's user's shell (here the same user), named as a login shell is.
    passwd* pw = ::getpwuid(::getuid());
    std::string shell = pw && pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh";
    std::string shown_name = "[-" + shell.substr(shell.rfind('/') + 1) + "]";
    // Typed ahead: the line waits in the terminal until the shell reads it.
    // Its echo shows "[$0]", never the name.
    sh.term.type("$H\n");
    sh.term.type("echo \"[$0]\"; tty > $D/tty; exit 3\n");
    auto shown = sh.term.expect(shown_name);
    INFO("screen: " << sh.term.seen());
    REQUIRE(!shown.empty());
    sh.check_back_with_status(3);
    sh.check_new_terminal();
}

// A caller with a terminal whose stdin or stdout is a pipe: the command's
// 0-2 stay the caller's, and its /dev/tty is a host terminal relayed to the
// caller's (issue 22; the rule in docs/usage.md, "A terminal for /dev/tty").

TEST_CASE("stdin a pipe: the piped data reaches stdin, typed input reaches /dev/tty", "[tty][ctty]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run("echo data | $H sh -c 'cat; echo ready; read x </dev/tty; echo \"got=$x\"; tty <&1 || true'", "ready");
    sh.term.type("typed\n");
    sh.check_shows("got=typed");
    CHECK(!sh.term.expect("PFD$ ").empty());
}

TEST_CASE("stdout a pipe: a prompt on /dev/tty takes the answer, then the keys are the pipeline's again", "[tty][ctty]")
{
    running_daemon d;
    user_shell sh(d);
    // The reader after the pipe reads the terminal too (as less does): it
    // must get what is typed once the command has had its line.
    sh.run("$H sh -c 'printf \"say: \" >/dev/tty; read x </dev/tty; echo \"got=$x\"' | "
           "{ cat; read y </dev/tty; echo \"then=$y\"; }",
           "say: ");
    sh.term.type("first\n");
    CHECK(!sh.term.expect("got=first").empty());
    sh.term.type("second\n");
    sh.check_shows("then=second");
}

TEST_CASE("hostexec ... | less: less gets every key", "[tty][ctty]")
{
    if (!have_program("less") || !have_program("git")) {
        WARN("skipped: less or git is not installed");
        return;
    }
    running_daemon d;
    user_shell sh(d, {"LESS=", "PAGER=less", "GIT_PAGER=cat"});
    sh.run("cd $D && git init -q && for i in $(seq 40); do git -c user.name=t -c user.email=t@t commit -q "
           "--allow-empty -m \"commit number $i\"; done; echo made-$((1+1))",
           "made-2");
    sh.term.type("$H git log --format=%s | less\n");
    CHECK(!sh.term.expect("commit number 40").empty());
    sh.term.type("G");
    sh.check_shows("commit number 1\r\n");
    sh.term.type("q");
    sh.run("echo back-$((2+3))", "back-5");
}

TEST_CASE("ssh-keygen -p with stdin a pipe asks its passphrases on the terminal", "[tty][ctty]")
{
    if (!have_program("ssh-keygen")) {
        WARN("skipped: ssh-keygen is not installed");
        return;
    }
    running_daemon d;
    user_shell sh(d);
    sh.run("ssh-keygen -q -t ed25519 -N old-pass -C t -f $D/key && echo keyed-$((3+3))", "keyed-6");
    // Both relays: stdout on the terminal, and stdout a pipe (less after it).
    for (std::string tail : {"", " | cat"}) {
        std::string from = tail.empty() ? "old-pass" : "mid-pass";
        std::string to = tail.empty() ? "mid-pass" : "new-pass";
        sh.run("true | $H ssh-keygen -p -f $D/key" + tail, "Enter old passphrase:");
        sh.term.type(from + "\n");
        CHECK(!sh.term.expect("Enter new passphrase").empty());
        sh.term.type(to + "\n");
        CHECK(!sh.term.expect("Enter same passphrase again:").empty());
        sh.term.type(to + "\n");
        sh.check_shows("saved with the new passphrase");
        REQUIRE(!sh.term.expect("PFD$ ").empty());
    }
    auto check = run({.argv = {"ssh-keygen", "-y", "-P", "new-pass", "-f", sh.dir / "key"}});
    CHECK(check.code() == 0);
}

TEST_CASE("a caller with no terminal at all: the command has none either", "[tty][ctty]")
{
    running_daemon d;
    auto r = run({.argv = {"setsid", hostexec_binary(), "--socket", d.socket(), "sh", "-c",
                           "if (: </dev/tty) 2>/dev/null; then echo has-tty; else echo no-tty; fi"}});
    CHECK(r.code() == 0);
    CHECK(r.out == "no-tty\n");
}

TEST_CASE("only a controlling terminal: its size follows ours, Ctrl-Z stops the job, our modes come back",
          "[tty][ctty][jobs]")
{
    running_daemon d;
    user_shell sh(d);
    sh.run("stty -g > $D/modes-before; echo saved-$((2*2))", "saved-4");
    sh.run("true | $H sh -c 'stty size </dev/tty >$D/size1; printf \"go-%d? \" 6 >/dev/tty; read x </dev/tty; "
           "stty size </dev/tty >$D/size2; echo sized-$((5))' | cat",
           "go-6? ");
    sh.term.resize(30, 100);
    sh.term.type("\n");
    CHECK(!sh.term.expect("sized-5").empty());
    REQUIRE(!sh.term.expect("PFD$ ").empty());
    CHECK(slurp(sh.dir / "size1") == "24 80\n");
    CHECK(slurp(sh.dir / "size2") == "30 100\n");

    const auto sleep = unique_sleep(4);
    sh.run("true | $H sh -c 'echo started-$((4)); exec " + sleep + "' | cat", "started-4");
    pid_t sleeper = only_process(sleep, "/sleep");
    REQUIRE(sleeper > 0);
    sh.stop_job();
    CHECK(eventually([&] { return state_of(sleeper) == 'T'; }));
    sh.term.type("fg\n");
    CHECK(eventually([&] { return state_of(sleeper) == 'S'; }));
    sh.term.type("\x03");
    REQUIRE(!sh.term.expect("PFD$ ").empty());
    sh.run("stty -g > $D/modes-after; echo saved-$((3*3))", "saved-9");
    CHECK(slurp(sh.dir / "modes-after") == slurp(sh.dir / "modes-before"));
}
