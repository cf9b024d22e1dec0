// Control ops across connections: ps lists what runs, cancel ends it in two
// acknowledged steps while its own client still gets its exit.
#include "support/harness.hpp"
#include "watch_printer.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

using namespace pfd::test;

namespace {

std::string config_with_grace(const temp_dir& dir, int ms)
{
    std::ofstream(dir / "c.toml") << "[limits]\ncancel_grace_ms = " << ms << "\n";
    return dir / "c.toml";
}

result pfd_verb(const running_daemon& d, std::vector<std::string> args)
{
    args.insert(args.begin(), pfd_binary());
    args.insert(args.end(), {"--socket", d.socket()});
    return run({.argv = args});
}

/// The id `pfd ps --json` gives the session whose argv contains `marker`.
std::string id_of(const running_daemon& d, const std::string& marker)
{
    auto ps = pfd_verb(d, {"ps", "--json"});
    auto at = ps.out.find(marker);
    if (at == std::string::npos) return {};
    auto id = ps.out.rfind("{\"id\":", at);
    return ps.out.substr(id + 6, ps.out.find(',', id) - id - 6);
}

} // namespace

TEST_CASE("pfd ps lists the running commands of every connection", "[control]")
{
    running_daemon d;
    process a({.argv = d.hostexec({"sh", "-c", "echo ready; read x", "marker-a"})});
    process b({.argv = d.hostexec({"sh", "-c", "echo ready; read x", "marker-b"})});
    REQUIRE(a.read_stdout_until("ready\n") == "ready\n");
    REQUIRE(b.read_stdout_until("ready\n") == "ready\n");

    auto json = pfd_verb(d, {"ps", "--json"});
    CHECK(json.code() == 0);
    CHECK(json.out.starts_with("{\"event\":\"ps\",\"sessions\":["));
    CHECK(json.out.find("\"argv\":[\"sh\",\"-c\",\"echo ready; read x\",\"marker-a\"]") != std::string::npos);
    CHECK(json.out.find("marker-b") != std::string::npos);
    CHECK(json.out.find("\"peer_uid\":" + std::to_string(::getuid())) != std::string::npos);
    CHECK(json.out.find("\"peer_pid\":" + std::to_string(a.pid())) != std::string::npos);

    auto table = pfd_verb(d, {"ps"});
    CHECK(table.out.starts_with("    ID      PID"));
    // Each argument as a shell reads it back, as pfd watch shows it.
    CHECK(table.out.find("sh -c 'echo ready; read x' marker-a") != std::string::npos);

    a.write_stdin("\n");
    b.write_stdin("\n");
    CHECK(a.finish().code() == 0);
    CHECK(b.finish().code() == 0);
    CHECK(eventually([&] { return pfd_verb(d, {"ps", "--json"}).out.find("marker") == std::string::npos; }));
}

TEST_CASE("pfd cancel: SIGTERM, then SIGKILL after the grace, acknowledged; the client sees the end", "[control]")
{
    temp_dir conf;
    running_daemon d({"--config", config_with_grace(conf, 300)});

    SECTION("a command that ends on SIGTERM")
    {
        process p({.argv = d.hostexec({"sh", "-c", "echo ready; exec sleep 600", "polite"})});
        REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
        auto id = id_of(d, "polite");
        REQUIRE(!id.empty());
        auto r = pfd_verb(d, {"cancel", id});
        CHECK(r.code() == 0);
        CHECK(r.out == "pfd: session " + id + ": SIGTERM sent\npfd: session " + id + ": ended\n");
        CHECK(p.finish().signal() == SIGTERM);
    }
    SECTION("a command that ignores SIGTERM is killed after the grace period")
    {
        process p(
            {.argv = d.hostexec({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done", "stubborn"})});
        REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
        auto id = id_of(d, "stubborn");
        REQUIRE(!id.empty());
        auto r = pfd_verb(d, {"cancel", id});
        CHECK(r.code() == 0);
        CHECK(r.out.find("SIGKILL sent after the grace period") != std::string::npos);
        CHECK(p.finish().signal() == SIGKILL);
    }
    SECTION("an unknown session")
    {
        auto r = pfd_verb(d, {"cancel", "999999"});
        CHECK(r.code() == 1);
        CHECK(r.err == "pfd: no session 999999; 'pfd ps' lists the running ones\n");
    }
    CHECK(eventually([&] { return d.children() == 0; }));
}

TEST_CASE("pfd watch pushes every event of every session; a watcher that never reads is dropped", "[control]")
{
    temp_dir conf; // a small backlog: the sleeper falls that far behind soon
    std::ofstream(conf / "c.toml") << "[limits]\nwatch_backlog = 16384\n";
    running_daemon d({"--config", conf / "c.toml"});
    auto watcher = connect_raw(d.socket());
    std::string op = "{\"pfd\":1,\"op\":\"watch\"}\n";
    REQUIRE(::write(watcher.get(), op.data(), op.size()) == static_cast<ssize_t>(op.size()));
    CHECK(read_line(watcher.get()) == "{\"event\":\"watching\"}\n");

    auto sleeper = connect_raw(d.socket()); // subscribes and never reads
    REQUIRE(::write(sleeper.get(), op.data(), op.size()) == static_cast<ssize_t>(op.size()));

    auto r = d.run({"sh", "-c", "exit 3"});
    REQUIRE(r.code() == 3);
    CHECK(read_line(watcher.get()).starts_with("{\"event\":\"session\",\"id\":")); // watchers' only
    auto accepted = read_line(watcher.get());
    auto started = read_line(watcher.get());
    auto exited = read_line(watcher.get());
    CHECK(accepted.starts_with("{\"event\":\"accepted\",\"id\":"));
    CHECK(started.starts_with("{\"event\":\"started\""));
    CHECK(exited.starts_with("{\"event\":\"exited\""));
    CHECK(exited.find("\"code\":3") != std::string::npos);
    auto refused = d.run({"pfd-no-such-command"});
    CHECK(read_line(watcher.get()).starts_with("{\"event\":\"session\""));
    CHECK(read_line(watcher.get()).starts_with("{\"event\":\"accepted\""));
    CHECK(read_line(watcher.get()).find("\"code\":\"not_found\"") != std::string::npos);

    // Flood the sleeping watcher: it falls behind and is dropped, while the
    // reading one and every client go on. Refusals are the cheapest events
    // (no process on either side), with a long name to make them weigh.
    std::string drained;
    std::string flood = exec_line(R"("argv":["pfd-no-such-)" + std::string(240, 'x') + R"("],"cwd":"/")") + "\n";
    constexpr int floods = 1500;
    for (int i = 0; i < floods; ++i) {
        auto sock = connect_raw(d.socket());
        REQUIRE(::write(sock.get(), flood.data(), flood.size()) == static_cast<ssize_t>(flood.size()));
        REQUIRE(read_to_eof(sock.get()).value_or("").find("\"code\":\"not_found\"") != std::string::npos);
        char buf[65536];
        while (true) {
            pollfd p{watcher.get(), POLLIN, 0};
            if (::poll(&p, 1, 0) != 1) break;
            auto n = ::read(watcher.get(), buf, sizeof buf);
            if (n <= 0) break;
            drained.append(buf, static_cast<std::size_t>(n));
        }
    }
    REQUIRE(d.run({"true"}).code() == 0);
    // The dropped watcher's connection ends: read what was sent, then EOF.
    bool closed = eventually([&] {
        char buf[65536];
        pollfd p{sleeper.get(), POLLIN, 0};
        while (::poll(&p, 1, 0) == 1) {
            auto n = ::read(sleeper.get(), buf, sizeof buf);
            if (n <= 0) return true;
        }
        return false;
    });
    CHECK(closed);
    drained += read_all(watcher.get(), 200ms);
    std::size_t refusals = 0;
    for (auto at = drained.find("\"code\":\"not_found\""); at != std::string::npos;
         at = drained.find("\"code\":\"not_found\"", at + 1))
        ++refusals;
    CHECK(refusals == floods);
    CHECK(drained.find("\"event\":\"exited\"") != std::string::npos);
}

TEST_CASE("pfd verbs the daemon refuses exit non-zero with the daemon's message", "[control]")
{
    temp_dir conf;
    std::ofstream(conf / "c.toml") << "[limits]\nwatchers = 1\n";
    running_daemon d({"--config", conf / "c.toml"});
    SECTION("cancel of an unknown session")
    {
        auto r = pfd_verb(d, {"cancel", "999999"});
        CHECK(r.code() == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "pfd: no session 999999; 'pfd ps' lists the running ones\n");
    }
    SECTION("watch beyond [limits] watchers")
    {
        process first({.argv = {pfd_binary(), "watch", "--json", "--socket", d.socket()}});
        REQUIRE(first.read_stdout_until("\n").starts_with("{\"event\":\"watching\"}"));
        auto second = pfd_verb(d, {"watch"});
        CHECK(second.code() == 1);
        CHECK(second.out.empty());
        CHECK(second.err == "pfd: 1 watchers already ([limits] watchers)\n");
    }
    SECTION("every verb, asked by a uid the daemon does not serve")
    {
        if (::geteuid() != 0 || !have_program("setpriv")) {
            WARN("skipped: needs root and setpriv to ask as another uid");
            return;
        }
        REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
        REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
        for (std::vector<std::string> verb : {std::vector<std::string>{"status"},
                                              {"status", "--json"},
                                              {"ps"},
                                              {"ps", "--json"},
                                              {"watch"},
                                              {"cancel", "1"},
                                              {"reload"}}) {
            std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                             for_other_uids(pfd_binary())};
            argv.insert(argv.end(), verb.begin(), verb.end());
            argv.insert(argv.end(), {"--socket", d.socket()});
            auto r = run({.argv = argv, .cwd = "/"});
            INFO(verb[0] << (verb.size() > 1 ? " " + verb[1] : ""));
            CHECK(r.code() == 1);
            CHECK(r.out.empty());
            CHECK(r.err == "pfd: uid 65534 may not use this daemon\n");
        }
    }
}

TEST_CASE("pfd ps escapes control bytes of a client's argv", "[control]")
{
    running_daemon d;
    // An argv that would retitle the terminal and clear the screen if printed raw.
    process p({.argv = d.hostexec({"sh", "-c", "echo ready; read x", "\x1b]0;pwned\x07\x1b[2J"})});
    REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
    auto table = pfd_verb(d, {"ps"});
    CHECK(table.out.find('\x1b') == std::string::npos);
    CHECK(table.out.find('\x07') == std::string::npos);
    CHECK(table.out.find("\\x1b]0;pwned\\x07\\x1b[2J") != std::string::npos);
    p.close_stdin();
    p.finish();
}

namespace {

/// Whether `text` holds a byte of what would act on a terminal: C0 (but
/// the rows' newlines), DEL, a C1 byte, or C1 and bidi controls as UTF-8.
bool holds_controls(const std::string& text)
{
    for (unsigned char c : text)
        if ((c < 0x20 && c != '\n') || c == 0x7f || c == 0xff) return true;
    // A raw C1 byte is also a continuation byte of UTF-8 text: the ones
    // put in are looked for, in no text around them.
    for (std::string acts : {"\x9b", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa6"})
        if (text.find(acts) != std::string::npos) return true;
    return false;
}

/// An argument with each class of byte that acts: OSC and BEL, DEL, a raw
/// C1 CSI, CSI as UTF-8, RLO and LRI, a byte that is not UTF-8, a newline;
/// around text that must stay itself.
const std::string hostile_arg = "é\x1b]0;pwned\x07\x7f\x9b\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xff\n日本";
/// As pfd ps and pfd watch show it: a word bash reads back as it was.
const std::string hostile_arg_shown = R"($'é\x1b]0;pwned\x07\x7f\x9b\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xff\x0a日本')";

} // namespace

TEST_CASE("pfd ps and pfd watch escape each byte class of a client's argv and of the container it names",
          "[control][escape]")
{
    running_daemon d;
    process watch({.argv = {pfd_binary(), "watch", "--socket", d.socket()}});
    REQUIRE(!watch.read_stdout_until("DETAIL\n").empty());

    process p({.argv = d.hostexec({"sh", "-c", "echo ready; read x", hostile_arg})});
    REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
    auto table = pfd_verb(d, {"ps"});
    INFO("pfd ps showed:\n" << table.out);
    CHECK(table.out.find("sh -c 'echo ready; read x' " + hostile_arg_shown + "\n") != std::string::npos);
    CHECK_FALSE(holds_controls(table.out));
    auto shown = watch.read_stdout_until("started");
    INFO("pfd watch showed:\n" << shown);
    CHECK(shown.find("sh -c 'echo ready; read x' " + hostile_arg_shown + "\n") != std::string::npos);
    CHECK_FALSE(holds_controls(shown));
    p.close_stdin();
    p.finish();

    // FROM: the name a client in another mount namespace gives its
    // container ($container here), with the same bytes (JSON carries only
    // UTF-8 there), shown by a `pfd ps` that the very session runs.
    if (!can_sandbox()) return;
    std::string container = "box\x1b]0;pwned\x07\x7f\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\n";
    std::string from = R"(box\x1b]0;pwned\x07\x7f\u009b\u202e\u2066\x0a)";
    auto r =
        in_sandbox(d, {"--setenv", "container", container, "--setenv", "PFDT_ARG", hostile_arg},
                   "$H sh -c '\"$0\" ps --socket \"$1\"' '" + pfd_binary() + "' '" + d.socket() + "' \"$PFDT_ARG\"");
    INFO("pfd ps in the session showed:\n" << r.out << r.err);
    CHECK(r.code() == 0);
    CHECK(r.out.find(" " + from + " ") != std::string::npos);
    CHECK(r.out.find(hostile_arg_shown + "\n") != std::string::npos);
    CHECK_FALSE(holds_controls(r.out));
    auto from_sandbox = watch.read_stdout_until(" (from " + from + ")\n");
    INFO("pfd watch showed:\n" << from_sandbox);
    CHECK(from_sandbox.find(hostile_arg_shown + " (from " + from + ")\n") != std::string::npos);
    CHECK_FALSE(holds_controls(from_sandbox));
    watch.signal(SIGTERM);
}

TEST_CASE("another allowed uid sees and controls only its own sessions, never the daemon", "[control][root]")
{
    if (::geteuid() != 0 || !have_program("setpriv")) {
        WARN("skipped: needs root and setpriv to be a second, allowed uid");
        return;
    }
    temp_dir conf;
    std::ofstream(conf / "c.toml") << "[policy]\nallow_uids = [65534]\n";
    running_daemon d({"--config", conf / "c.toml"});
    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
    auto as_other = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--socket", d.socket()});
        return run({.argv = argv, .cwd = "/"});
    };

    // The owner's command, with a secret on its command line.
    process mine({.argv = d.hostexec({"sh", "-c", "echo ready; read x", "token=s3cret"})});
    REQUIRE(mine.read_stdout_until("ready\n") == "ready\n");
    std::string id = id_of(d, "s3cret");
    REQUIRE_FALSE(id.empty());
    // The other uid's own command (hostexec's options come before the command).
    process theirs(
        {.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", for_other_uids(hostexec_binary()),
                  "--socket", d.socket(), "sh", "-c", "echo ready; read x", "their-marker"},
         .cwd = "/"});
    REQUIRE(theirs.read_stdout_until("ready\n") == "ready\n");

    auto ps = as_other({for_other_uids(pfd_binary()), "ps", "--json"});
    CHECK(ps.code() == 0);
    CHECK(ps.out.find("s3cret") == std::string::npos);
    CHECK(ps.out.find("their-marker") != std::string::npos);
    auto owner_ps = pfd_verb(d, {"ps", "--json"});
    CHECK(owner_ps.out.find("s3cret") != std::string::npos);
    CHECK(owner_ps.out.find("their-marker") != std::string::npos);

    // The owner's session is none to it, as for an id that runs nothing.
    auto cancel = as_other({for_other_uids(pfd_binary()), "cancel", id});
    CHECK(cancel.code() == 1);
    CHECK(cancel.err == "pfd: no session " + id + "; 'pfd ps' lists the running ones\n");
    for (std::string verb : {"stop", "reload", "restart"}) {
        auto r = as_other({for_other_uids(pfd_binary()), verb});
        INFO(verb);
        CHECK(r.code() == 1);
        CHECK(r.err == "pfd: only uid 0 and root may " + verb + " this daemon\n");
    }

    // Its watch shows its own sessions' events, not the owner's.
    process watch({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", for_other_uids(pfd_binary()),
                            "watch", "--json", "--socket", d.socket()},
                   .cwd = "/"});
    REQUIRE(watch.read_stdout_until("\n") == "{\"event\":\"watching\"}\n");
    REQUIRE(d.run({"echo", "owner-event"}).code() == 0);
    auto own = run({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             for_other_uids(hostexec_binary()), "--socket", d.socket(), "true"},
                    .cwd = "/"});
    REQUIRE(own.code() == 0);
    std::string seen = watch.read_stdout_until("\"event\":\"exited\"");
    CHECK(seen.find("\"event\":\"accepted\"") != std::string::npos);
    // Exactly one session's events: the other uid's `true`, not the owner's echo.
    CHECK(seen.find("\"event\":\"accepted\"") == seen.rfind("\"event\":\"accepted\""));
    watch.signal(SIGTERM);
    watch.finish();

    // The owner still controls everything.
    CHECK(pfd_verb(d, {"cancel", id}).code() == 0);
    mine.finish();
    theirs.close_stdin();
    theirs.finish();
}

TEST_CASE("a stranger's cancel answers the same for another's session and for no session", "[control][root]")
{
    if (::geteuid() != 0 || !have_program("setpriv") || !have_program("python3")) {
        WARN("skipped: needs root, setpriv and python3 to be a second, allowed uid");
        return;
    }
    temp_dir conf;
    std::ofstream(conf / "c.toml") << "[policy]\nallow_uids = [65534]\n";
    running_daemon d({"--config", conf / "c.toml"});
    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
    process mine({.argv = d.hostexec({"sh", "-c", "echo ready; read x", "owner-marker"})});
    REQUIRE(mine.read_stdout_until("ready\n") == "ready\n");
    std::string id = id_of(d, "owner-marker");
    REQUIRE_FALSE(id.empty());
    std::string none = std::to_string(std::stoull(id) + 1000);
    // The raw answers, as uid 65534 reads them: the same bytes but for the id asked.
    auto ask = [&](const std::string& which) {
        auto r = run({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                               "import socket, sys\n"
                               "s = socket.socket(socket.AF_UNIX)\n"
                               "s.connect(sys.argv[1])\n"
                               "s.sendall(b'{\"pfd\":1,\"op\":\"cancel\",\"id\":' + sys.argv[2].encode() + b'}\\n')\n"
                               "s.settimeout(20)\n"
                               "out = b''\n"
                               "while True:\n"
                               "    chunk = s.recv(4096)\n"
                               "    if not chunk: break\n"
                               "    out += chunk\n"
                               "sys.stdout.write(out.decode())\n",
                               d.socket(), which},
                      .cwd = "/"});
        INFO("stderr: " << r.err);
        CHECK(r.code() == 0);
        return r.out;
    };
    std::string of_another = ask(id), of_none = ask(none);
    CHECK(of_none == "{\"event\":\"error\",\"code\":\"not_found\",\"message\":\"no running session " + none + "\"}\n");
    auto at = of_another.find(id);
    REQUIRE(at != std::string::npos);
    CHECK(of_another.replace(at, id.size(), none) == of_none);
    // The CLI says the same too, and the owner's command still runs.
    auto as_other = [&](const std::string& which) {
        return run({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             for_other_uids(pfd_binary()), "cancel", which, "--socket", d.socket()},
                    .cwd = "/"});
    };
    auto cli_another = as_other(id), cli_none = as_other(none);
    CHECK(cli_another.code() == cli_none.code());
    CHECK(cli_another.err == "pfd: no session " + id + "; 'pfd ps' lists the running ones\n");
    CHECK(cli_none.err == "pfd: no session " + none + "; 'pfd ps' lists the running ones\n");
    CHECK_FALSE(id_of(d, "owner-marker").empty());
    // The owner gets the precise answers: its own session cancelled, none not found.
    CHECK(pfd_verb(d, {"cancel", none}).err == "pfd: no session " + none + "; 'pfd ps' lists the running ones\n");
    CHECK(pfd_verb(d, {"cancel", id}).code() == 0);
    mine.finish();
}

namespace {

/// The lines of `text`.
std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// "HH:MM:SS.mmm     ID    UID EVENT     DETAIL" for session `id` of uid `uid`.
std::regex watch_row(const std::string& id, const std::string& uid, const std::string& event, const std::string& detail)
{
    return std::regex(R"(\d\d:\d\d:\d\d\.\d{3} +)" + id + " +" + uid + " " + event + " +" + detail);
}

} // namespace

TEST_CASE("pfd watch shows each event for people; --json passes the stream on as it is", "[control]")
{
    running_daemon d;
    process human({.argv = {pfd_binary(), "watch", "--socket", d.socket()}});
    process json({.argv = {pfd_binary(), "watch", "--json", "--socket", d.socket()}});
    REQUIRE(!human.read_stdout_until("DETAIL\n").empty());
    REQUIRE(json.read_stdout_until("\n") == "{\"event\":\"watching\"}\n");

    // An exit code, a signal death and an error; an argv that would clear the screen.
    auto coded = d.run({"--json", "sh", "-c", "exit 3", "x\x1b[2J"});
    REQUIRE(coded.code() == 3);
    CHECK(coded.err.find("\"session\"") == std::string::npos); // for watchers only
    REQUIRE(d.run({"sh", "-c", "kill -KILL $$"}).signal() == SIGKILL);
    REQUIRE(d.run({"pfd-no-such-command"}).code() == 127);

    std::string uid = std::to_string(::getuid());
    auto shown = human.read_stdout_until("not_found");
    INFO("pfd watch showed:\n" << shown);
    auto rows = lines_of(shown);
    REQUIRE(rows.size() == 9); // the header, then accepted/started/exited twice, then accepted/error
    CHECK(std::regex_match(rows[0], std::regex("TIME +ID +UID EVENT +DETAIL")));
    std::smatch m;
    REQUIRE(std::regex_match(rows[1], m, watch_row("(\\d+)", uid, "accepted", R"(sh -c 'exit 3' \$'x\\x1b\[2J')")));
    std::string first = m[1];
    CHECK(std::regex_match(rows[2], watch_row(first, uid, "started", "pid \\d+")));
    CHECK(std::regex_match(rows[3], watch_row(first, uid, "exited", "code 3 after \\d+ ms")));
    REQUIRE(std::regex_match(rows[4], m, watch_row("(\\d+)", uid, "accepted", R"(sh -c 'kill -KILL \$\$')")));
    std::string second = m[1];
    CHECK(std::regex_match(rows[5], watch_row(second, uid, "started", "pid \\d+")));
    CHECK(std::regex_match(rows[6], watch_row(second, uid, "exited", "killed by SIGKILL after \\d+ ms")));
    REQUIRE(std::regex_match(rows[7], m, watch_row("(\\d+)", uid, "accepted", "pfd-no-such-command")));
    std::string third = m[1];
    CHECK(std::regex_match(rows[8], watch_row(third, uid, "error", "not_found: .*command not found.*")));
    CHECK(shown.find('\x1b') == std::string::npos);

    // --json: the daemon's lines, untouched; a `session` line before each `accepted`.
    auto streamed = json.read_stdout_until("\"code\":\"not_found\"");
    INFO("pfd watch --json showed:\n" << streamed);
    auto stream = lines_of(streamed);
    REQUIRE(stream.size() == 12); // watching, then session/accepted/started/exited twice, session/accepted/error
    CHECK(std::regex_match(
        stream[1], std::regex(R"(\{"event":"session","id":)" + first + R"(,"peer_uid":)" + uid +
                              R"(,"peer_pid":\d+,"argv":\["sh","-c","exit 3","x\\u001b\[2J"\],"origin":"host"\})")));
    CHECK(stream[2] == "{\"event\":\"accepted\",\"id\":" + first + "}");
    CHECK(std::regex_match(stream[3], std::regex(R"(\{"event":"started","id":)" + first + R"(,"pid":\d+\})")));
    CHECK(std::regex_match(stream[4],
                           std::regex(R"(\{"event":"exited","id":)" + first + R"(,"code":3,"duration_ms":\d+\})")));
    CHECK(stream[5].starts_with("{\"event\":\"session\",\"id\":" + second + ","));
    CHECK(std::regex_match(stream[8], std::regex(R"(\{"event":"exited","id":)" + second +
                                                 R"(,"signal":"KILL","signo":9,"core":false,"duration_ms":\d+\})")));
    CHECK(stream[9].starts_with("{\"event\":\"session\",\"id\":" + third + ","));
    CHECK(stream[10] == "{\"event\":\"accepted\",\"id\":" + third + "}");
    CHECK(stream[11].starts_with("{\"event\":\"error\",\"code\":\"not_found\""));
    human.signal(SIGTERM);
    json.signal(SIGTERM);
}

TEST_CASE("pfd watch's rows: job control, progress, sessions it never saw start, errors with and without theirs",
          "[control][watch]")
{
    pfd::watch_printer p;
    auto at = std::chrono::system_clock::now();
    auto row = [&](std::string_view line) { return p.format(line, at); };
    std::string uid = "1000";
    CHECK(row(R"({"event":"session","id":5,"peer_uid":1000,"peer_pid":9,"argv":["vim","a b"],"origin":"toolbox"})")
              .empty());
    CHECK(std::regex_match(row(R"({"event":"accepted","id":5})"),
                           watch_row("5", uid, "accepted", R"(vim 'a b' \(from toolbox\)\n)")));
    CHECK(std::regex_match(row(R"({"event":"terminal","id":5,"path":"/dev/pts/3"})"),
                           watch_row("5", uid, "terminal", "/dev/pts/3\n")));
    CHECK(std::regex_match(row(R"({"event":"stopped","id":5,"signal":"TSTP","signo":20})"),
                           watch_row("5", uid, "stopped", "by SIGTSTP\n")));
    CHECK(std::regex_match(row(R"({"event":"continued","id":5})"),
                           std::regex(R"(\d\d:\d\d:\d\d\.\d{3} +5 +1000 continued\n)")));
    CHECK(std::regex_match(row(R"({"event":"progress","id":5,"message":"step\u001b3","percent":20})"),
                           watch_row("5", uid, "progress", R"(20% step\\x1b3\n)")));
    // A session that started before the watch: no uid, no command.
    CHECK(std::regex_match(row(R"({"event":"exited","id":3,"signal":"SEGV","signo":11,"core":true,"duration_ms":4})"),
                           watch_row("3", "-", "exited", R"(killed by SIGSEGV \(core dumped\) after 4 ms\n)")));
    // An error is its session's only right after its accepted (and terminal).
    CHECK(!row(R"({"event":"session","id":6,"peer_uid":1000,"peer_pid":9,"argv":["vi"],"origin":"host"})").size());
    CHECK(std::regex_match(row(R"({"event":"accepted","id":6})"), watch_row("6", uid, "accepted", "vi\n")));
    CHECK(std::regex_match(row(R"({"event":"terminal","id":6,"path":"/dev/pts/4"})"),
                           watch_row("6", uid, "terminal", "/dev/pts/4\n")));
    CHECK(std::regex_match(row(R"({"event":"error","code":"spawn_failed","message":"no pty"})"),
                           watch_row("6", uid, "error", "spawn_failed: no pty\n")));
    CHECK(std::regex_match(row(R"({"event":"error","code":"bad_request","message":"x"})"),
                           watch_row("-", "-", "error", "bad_request: x\n")));
    CHECK(std::regex_match(row(R"({"event":"newer","id":1})"),
                           watch_row("-", "-", "newer", R"(\{"event":"newer","id":1\}\n)")));
}
