// The command line as a user meets it: every verb's help, options checked
// per verb, usage errors of two lines, "did you mean", -V, a config typo
// that locks nobody out, and the messages of the commonest mistakes.
#include "did_you_mean.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

using namespace pfd::test;

namespace {

/// Root with setpriv: the test can run things as uid 65534; if not, it says
/// why it skips.
bool can_be_nobody()
{
    if (::geteuid() == 0 && have_program("setpriv")) return true;
    WARN("skipped: needs root and setpriv to be another uid");
    return false;
}

/// `program` (a copy any uid can run) with `args`, run to completion as uid
/// 65534 from "/", reading no configuration file.
result run_as_nobody(const std::string& program, const std::vector<std::string>& args)
{
    std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                     for_other_uids(program)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run({.argv = std::move(argv), .env = {"XDG_CONFIG_HOME=/nonexistent"}, .cwd = "/"});
}

/// A daemon of root's, its socket 0700 in a directory others may enter.
struct roots_daemon : running_daemon {
    roots_daemon() { ::chmod(dir().path().c_str(), 0755); }
};

/// What another uid is told about roots_daemon's socket.
std::string refused_to_others(const std::string& socket)
{
    return "cannot connect to '" + socket +
           "': Permission denied; the socket is uid 0's (mode 0700) and only uid 0 may connect: run as that user, or "
           "start a daemon of your own (pfd start)\n";
}

/// Names in a directory ("." and ".." aside).
std::vector<std::string> entries(const std::string& dir)
{
    std::vector<std::string> names;
    for (auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
    return names;
}

std::string usage_error(const std::string& message, const std::string& verb = {})
{
    return "pfd: " + message + "\nTry 'pfd " + (verb.empty() ? "" : verb + " ") + "--help' for more information.\n";
}

struct verb_help {
    std::string verb;
    std::vector<std::string> options; ///< what its --help must list
};

// From the SPEC and docs, not from the program's table: the table must agree.
const std::vector<std::string> finding = {"--socket PATH", "--project NAME", "--config FILE"};
std::vector<std::string> with(std::vector<std::string> more)
{
    more.insert(more.begin(), finding.begin(), finding.end());
    return more;
}
const verb_help verbs[] = {
    {"serve", with({"--check-config", "--threads N", "--ready-fd N", "--request-timeout-ms N", "--stop-grace-ms N",
                    "--in-container"})},
    {"start", with({"--threads N", "--request-timeout-ms N", "--stop-grace-ms N", "--in-container"})},
    {"stop", with({"--stop-grace-ms N"})},
    {"status", with({"--json"})},
    {"ps", with({"--json"})},
    {"watch", with({"--json"})},
    {"cancel", finding},
    {"restart", with({"--threads N", "--request-timeout-ms N", "--stop-grace-ms N", "--in-container"})},
    {"reload", finding},
    {"install-units", {}},
    {"trust", {"--list", "--revoke"}},
    {"help", {}},
};

} // namespace

TEST_CASE("every verb's --help, -h and 'help VERB' list its options on stdout and exit 0", "[cli]")
{
    user_env u;
    for (auto& v : verbs) {
        for (auto form : {std::vector<std::string>{v.verb, "--help"}, {v.verb, "-h"}, {"help", v.verb}}) {
            INFO(form[0] << " " << form[1]);
            auto r = u.pfd(form);
            CHECK(r.code() == 0);
            CHECK(r.err.empty());
            CHECK(r.out.starts_with("Usage: pfd " + v.verb + " [OPTIONS]"));
            for (auto& o : v.options) CHECK(r.out.find("  " + o + "  ") != std::string::npos);
            CHECK(r.out.find("-h, --help") != std::string::npos);
            CHECK(r.out.find("-V, --version") != std::string::npos);
        }
    }
    SECTION("pfd --help, -h and help list every verb")
    {
        for (auto form : {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
            auto r = u.pfd(form);
            CHECK(r.code() == 0);
            CHECK(r.out.starts_with("Usage: pfd VERB"));
            for (auto& v : verbs) CHECK(r.out.find("\n  " + v.verb + " ") != std::string::npos);
        }
    }
    SECTION("help comes first: a verb's help needs none of its arguments, even wrong ones after it")
    {
        CHECK(u.pfd({"cancel", "--help"}).code() == 0);
        CHECK(u.pfd({"cancel", "--help", "not-a-number", "--bogus"}).code() == 0);
    }
    CHECK(entries(u.work.path()).empty());
}

TEST_CASE("pfd install-units --help creates nothing", "[cli]")
{
    user_env u;
    for (auto form : {std::vector<std::string>{"install-units", "--help"},
                      {"install-units", "-h"},
                      {"help", "install-units"},
                      {"install-units", "--bogus"}}) {
        u.pfd(form);
        CHECK(entries(u.work.path()).empty());
        CHECK(entries(u.config.path()).empty());
    }
}

TEST_CASE("usage errors: exit 2, one line of message and one pointing at --help, on stderr", "[cli]")
{
    user_env u;
    struct bad {
        std::vector<std::string> args;
        std::string message, verb;
    };
    const bad cases[] = {
        {{"stop", "--json"}, "'pfd stop' takes no option '--json'", "stop"},
        {{"status", "--ready-fd", "3"}, "'pfd status' takes no option '--ready-fd'", "status"},
        {{"ps", "--check-config"}, "'pfd ps' takes no option '--check-config'", "ps"},
        {{"install-units", "--socket", "x"}, "'pfd install-units' takes no option '--socket'", "install-units"},
        {{"trust", "--json"}, "'pfd trust' takes no option '--json'", "trust"},
        {{"cancel", "1", "--threads", "2"}, "'pfd cancel' takes no option '--threads'", "cancel"},
        {{"status", "--bogus"}, "unknown option '--bogus' for 'status'", "status"},
        {{"status", "extra"}, "unexpected argument 'extra' for 'status'", "status"},
        {{"status", "--socket"}, "option '--socket' needs a value (PATH)", "status"},
        {{"status", "--json=yes"}, "option '--json' takes no value", "status"},
        {{"serve", "--threads", "many"}, "option '--threads' must be a non-negative number, not 'many'", "serve"},
        {{"cancel"}, "missing argument: pfd cancel ID", "cancel"},
        {{"cancel", "x1"}, "the session ID must be a non-negative number, not 'x1'", "cancel"},
        {{"install-units", "a", "b"}, "unexpected argument 'b' for 'install-units'", "install-units"},
        {{"trust", "--list", "file"}, "unexpected argument 'file' with --list", "trust"},
        {{}, "no verb given", ""},
        {{"--socket", "x", "status"}, "'--socket' goes after a verb: pfd VERB --socket", ""},
        {{"frobnicate"}, "unknown verb 'frobnicate'", ""},
        {{"help", "frobnicate"}, "unknown verb 'frobnicate'", ""},
    };
    for (auto& c : cases) {
        INFO(c.message);
        auto r = u.pfd(c.args);
        CHECK(r.code() == 2);
        CHECK(r.out.empty());
        CHECK(r.err == usage_error(c.message, c.verb));
    }
    CHECK(entries(u.work.path()).empty());
    CHECK(entries(u.run.path()).empty());
}

TEST_CASE("did you mean: a misspelled verb, option or config key", "[cli]")
{
    user_env u;
    CHECK(u.pfd({"stauts"}).err == usage_error("unknown verb 'stauts'; did you mean 'status'?"));
    CHECK(u.pfd({"stpo"}).err == usage_error("unknown verb 'stpo'; did you mean 'stop'?"));
    CHECK(u.pfd({"help", "isntall-units"}).err ==
          usage_error("unknown verb 'isntall-units'; did you mean 'install-units'?"));
    CHECK(u.pfd({"status", "--sokcet", "x"}).err ==
          usage_error("unknown option '--sokcet' for 'status'; did you mean '--socket'?", "status"));
    CHECK(u.pfd({"ps", "--jsno"}).err == usage_error("unknown option '--jsno' for 'ps'; did you mean '--json'?", "ps"));
    CHECK(u.pfd({"stop", "--stop-grace"}).err ==
          usage_error("unknown option '--stop-grace' for 'stop'; did you mean '--stop-grace-ms'?", "stop"));

    auto h = u.hostexec({"--sokcet", "x", "true"});
    CHECK(h.code() == 125);
    CHECK(h.err == "hostexec: unknown option '--sokcet'; did you mean '--socket'?\n"
                   "Try 'hostexec --help' for more information.\n");
    CHECK(u.hostexec({"--detahc", "true"})
              .err.starts_with("hostexec: unknown option '--detahc'; did you mean '--detach'?\n"));
    CHECK(u.hostexec({"--qwertyuiop", "true"}).err == "hostexec: unknown option '--qwertyuiop'\n"
                                                      "Try 'hostexec --help' for more information.\n");

    auto file = u.write_config("[daemon]\nthread = 2\n");
    auto check = u.pfd({"serve", "--socket", u.run / "s.sock", "--check-config"});
    CHECK(check.code() == 1);
    CHECK(check.err == "pfd: " + file + ":2: unknown key 'thread' in [daemon]; did you mean 'threads'?\n");
}

TEST_CASE("did_you_mean: swaps count once, far words get no guess", "[cli]")
{
    CHECK(pfd::edit_distance("stauts", "status") == 1);
    CHECK(pfd::edit_distance("kitten", "sitting") == 3);
    CHECK(pfd::edit_distance("", "abc") == 3);
    CHECK(pfd::edit_distance(std::string(65, 'a'), std::string(65, 'a')) > 100);
    pfd::closest_word close("thread");
    for (auto w : {"log_level", "threads", "pidfile"}) close.consider(w);
    CHECK(close.best() == "threads");
    pfd::closest_word far("zzz");
    for (auto w : {"fds", "sessions", "watchers"}) far.consider(w);
    CHECK(far.best().empty());
}

TEST_CASE("-V and --version print the version, for pfd and hostexec", "[cli]")
{
    user_env u;
    auto v = u.pfd({"--version"});
    CHECK(v.code() == 0);
    CHECK(v.out.starts_with("pfd "));
    CHECK(u.pfd({"-V"}).out == v.out);
    CHECK(u.pfd({"status", "-V"}).out == v.out);
    auto h = u.hostexec({"-V"});
    CHECK(h.code() == 0);
    CHECK(h.out == "hostexec " + v.out.substr(4));
    CHECK(u.hostexec({"--version"}).out == h.out);
}

TEST_CASE("a config file with a typo locks nobody out; the daemon's verbs refuse it", "[cli][config]")
{
    user_env u;
    running_daemon d;
    auto file = u.write_config("[daemon]\nthread = 2\n");
    std::string left_out = file + ":2: unknown key 'thread' in [daemon]; did you mean 'threads'? (that file is left "
                                  "out until it is fixed)\n";

    auto status = u.pfd({"status", "--socket", d.socket()});
    CHECK(status.code() == 0);
    CHECK(status.out.find(", pid " + std::to_string(d.pid()) + ",") != std::string::npos);
    CHECK(status.err == "pfd: " + left_out);

    auto ran = u.hostexec({"--socket", d.socket(), "echo", "ran"});
    CHECK(ran.code() == 0);
    CHECK(ran.out == "ran\n");
    CHECK(ran.err == "hostexec: " + left_out);

    // serve, start and restart never run with part of the configuration.
    for (auto verb : {"serve", "start", "restart"}) {
        INFO(verb);
        auto refused = u.pfd({verb, "--socket", u.run / "other.sock"});
        CHECK(refused.code() == 1);
        CHECK(refused.err == "pfd: " + file + ":2: unknown key 'thread' in [daemon]; did you mean 'threads'?\n");
        CHECK_FALSE(exists(u.run / "other.sock"));
    }

    auto stop = u.pfd({"stop", "--socket", d.socket()});
    CHECK(stop.code() == 0);
    CHECK(stop.err.starts_with("pfd: " + left_out));
    CHECK(eventually([&] { return !exists(d.socket()); }));
}

TEST_CASE("the commonest mistakes get messages that say what to do", "[cli]")
{
    user_env u;
    SECTION("no daemon: where hostexec looked, and how to start one on the host")
    {
        auto r = u.hostexec({"true"});
        CHECK(r.code() == 125);
        CHECK(r.err.starts_with("hostexec: no daemon runs on '" + (u.run / "pfd.sock") +
                                "' (the default: $XDG_RUNTIME_DIR/pfd.sock)\nhostexec: start one on the host with "
                                "'pfd start', or for good with 'systemctl --user enable --now pfd.socket'"));
        auto status = u.pfd({"status"});
        CHECK(status.code() == 3);
        CHECK(status.out ==
              "pfd: no daemon runs on '" + (u.run / "pfd.sock") + "' (the default: $XDG_RUNTIME_DIR/pfd.sock)\n");
        auto ps = u.pfd({"ps"});
        CHECK(ps.code() == 1);
        CHECK(ps.err == "pfd: no daemon runs on '" + (u.run / "pfd.sock") +
                            "' (the default: $XDG_RUNTIME_DIR/pfd.sock); 'pfd start' starts one\n");
    }
    SECTION("a --socket where nothing is")
    {
        auto r = u.hostexec({"--socket", u.run / "pfd.sokc", "true"});
        CHECK(r.code() == 125);
        CHECK(r.err == "hostexec: no socket at '" + (u.run / "pfd.sokc") +
                           "' (given with --socket)\nhostexec: check the path: 'pfd status' on the host shows the "
                           "daemon's socket\n");
    }
    SECTION("pfd stop with no daemon has nothing to do")
    {
        auto r = u.pfd({"stop", "--socket", u.run / "none.sock"});
        CHECK(r.code() == 0);
        CHECK(r.out == "pfd: no daemon runs on '" + (u.run / "none.sock") + "'; nothing to stop\n");
    }
    SECTION("with a daemon")
    {
        running_daemon d;
        auto not_found = d.run({"pfd-no-such-command"});
        CHECK(not_found.code() == 127);
        CHECK(not_found.err == "hostexec: 'pfd-no-such-command': command not found on the host\n");
        auto not_executable = d.run({"/etc/passwd"});
        CHECK(not_executable.code() == 126);
        CHECK(not_executable.err == "hostexec: '/etc/passwd': Permission denied on the host\n");
        auto cancel = u.pfd({"cancel", "424242", "--socket", d.socket()});
        CHECK(cancel.code() == 1);
        CHECK(cancel.err == "pfd: no session 424242; 'pfd ps' lists the running ones\n");
    }
}

TEST_CASE("a socket of another user: who may connect to it", "[cli][root]")
{
    if (!can_be_nobody()) return;
    roots_daemon d;
    auto r = run_as_nobody(hostexec_binary(), {"--socket", d.socket(), "true"});
    CHECK(r.code() == 125);
    CHECK(r.err == "hostexec: " + refused_to_others(d.socket()));
}

TEST_CASE("something that is not a socket where the socket should be: said so, not 'gone'", "[cli]")
{
    user_env u;
    temp_dir place;
    std::string file = place / "file";
    std::ofstream(file) << "not a socket\n";
    for (auto [path, what] :
         {std::pair<std::string, std::string>{place.path(), "a directory"}, {file, "a regular file"}}) {
        INFO(path);
        std::string said = "'" + path + "' (given with --socket) is " + what + ", not a socket\n";
        auto r = u.hostexec({"--socket", path, "true"});
        CHECK(r.code() == 125);
        CHECK(r.err == "hostexec: " + said);
        auto created = u.hostexec({"-C", "--socket", path, "true"}); // nothing to start there
        CHECK(created.code() == 125);
        CHECK(created.err == "hostexec: " + said);
        auto status = u.pfd({"status", "--socket", path});
        CHECK(status.code() == 4); // not "no daemon" (3): nothing we could ask
        CHECK(status.err == "pfd: " + said);
        auto ps = u.pfd({"ps", "--socket", path});
        CHECK(ps.code() == 1);
        CHECK(ps.err == "pfd: " + said);
    }
}

TEST_CASE("a file of root's as --socket, to another uid: not a socket, not its owner and mode", "[cli][root]")
{
    if (!can_be_nobody()) return;
    auto r = run_as_nobody(hostexec_binary(), {"--socket", "/etc/passwd", "true"});
    CHECK(r.code() == 125);
    CHECK(r.err == "hostexec: '/etc/passwd' (given with --socket) is a regular file, not a socket\n");
}

TEST_CASE("pfd status refused permission: exit 4, the reason on stderr, not 'no daemon' (3)", "[cli][root]")
{
    if (!can_be_nobody()) return;
    roots_daemon d;
    auto r = run_as_nobody(pfd_binary(), {"status", "--socket", d.socket()});
    CHECK(r.code() == 4);
    CHECK(r.out.empty());
    CHECK(r.err == "pfd: " + refused_to_others(d.socket()));
}

TEST_CASE("a runtime directory that is gone: said so, not that others could replace the socket", "[cli]")
{
    user_env u;
    temp_dir t;
    std::string gone = t / "gone/run"; // its parent is missing too: it cannot be made
    auto env = u.env();
    env.push_back("XDG_RUNTIME_DIR=" + gone);
    auto r = run({.argv = {pfd_binary(), "start"}, .env = env, .cwd = u.work.path()});
    CHECK(r.code() == 1);
    CHECK(r.err == "pfd: cannot listen on '" + gone + "/pfd.sock': its directory '" + gone +
                       "' does not exist and cannot be made (No such file or directory); $XDG_RUNTIME_DIR names it: "
                       "log in anew to get one, or unset it to use /run/user/" +
                       std::to_string(::getuid()) + " or /tmp/pfd-" + std::to_string(::getuid()) + "\n");
    CHECK(r.err.find("others could replace") == std::string::npos);
    CHECK_FALSE(exists(t / "gone"));
}

TEST_CASE("pfd install-units into a directory that cannot be made: which and why, no 'filesystem error'", "[cli]")
{
    user_env u;
    temp_dir t;
    std::ofstream(t / "file") << "";
    auto r = u.pfd({"install-units", t / "file/units"});
    CHECK(r.code() == 1);
    CHECK(r.err == "pfd: cannot create directory '" + (t / "file/units") + "': Not a directory\n");
    // A missing one is made, parents and all.
    auto made = u.pfd({"install-units", t / "a/b/units"});
    CHECK(made.code() == 0);
    CHECK(exists(t / "a/b/units/pfd.socket"));
}

TEST_CASE("pfd install-units never writes through a symlink planted in its directory", "[cli][units]")
{
    user_env u;
    temp_dir t;
    std::string victim = t / "victim";
    std::ofstream(victim) << "mine\n";

    // A directory others may write (sticky or not, as /tmp is): a symlink
    // planted there as pfd.service would have us overwrite the victim.
    for (mode_t mode : {01777, 0777, 0775}) {
        INFO(std::oct << mode);
        std::string shared = t / "shared";
        REQUIRE(::mkdir(shared.c_str(), 0700) == 0);
        REQUIRE(::chmod(shared.c_str(), mode) == 0);
        REQUIRE(::symlink(victim.c_str(), (shared + "/pfd.service").c_str()) == 0);
        auto r = u.pfd({"install-units", shared});
        CHECK(r.code() == 1);
        CHECK(r.err == fmt::format("pfd: refusing to write units into '{}': it is writable by group or others (mode "
                                   "{:o}); others could plant or replace them (chmod go-w, or name another "
                                   "directory)\n",
                                   shared, mode));
        CHECK(slurp(victim) == "mine\n");
        CHECK_FALSE(exists(shared + "/pfd.socket"));
        std::filesystem::remove_all(shared);
    }

    // A private directory: written, mode 0644, whatever the umask.
    std::string mine = t / "mine";
    auto made = run({.argv = {pfd_binary(), "install-units", mine}, .env = u.env(), .umask = 0});
    CHECK(made.code() == 0);
    struct stat st {};
    REQUIRE(::lstat((mine + "/pfd.service").c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0644);
    REQUIRE(::lstat(mine.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755); // made so, or it would be refused
    CHECK(slurp(mine + "/pfd.service").find("ExecStart=") != std::string::npos);

    // A symlink in a directory of ours (planted earlier, or ours by
    // mistake): replaced, not written through.
    std::filesystem::remove(mine + "/pfd.socket");
    REQUIRE(::symlink(victim.c_str(), (mine + "/pfd.socket").c_str()) == 0);
    auto again = u.pfd({"install-units", mine});
    CHECK(again.code() == 0);
    CHECK(slurp(victim) == "mine\n");
    REQUIRE(::lstat((mine + "/pfd.socket").c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(slurp(mine + "/pfd.socket").find("[Socket]") != std::string::npos);
    // Nothing left beside them.
    std::vector<std::string> names;
    for (auto& entry : std::filesystem::directory_iterator(mine)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"pfd.service", "pfd.socket"});
}

TEST_CASE("pfd start with a daemon already running says so, and starts none", "[cli]")
{
    user_env u;
    running_daemon d;
    auto r = u.pfd({"start", "--socket", d.socket()});
    CHECK(r.code() == 0);
    CHECK(r.err.empty());
    CHECK(r.out == "pfd: a daemon already runs on '" + d.socket() + "' (pid " + std::to_string(d.pid()) +
                       "); nothing to start\n");
}
