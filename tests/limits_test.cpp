// What clients can make the daemon hold, end to end (spec §9, [limits]):
// connections in total and per uid, who connects checked before a byte is
// read, what unfinished requests hold together (bytes and descriptors, the
// largest giving way), the watcher backlog in bytes, client strings quoted
// back capped; and the figure of the issue that set these bounds: 300
// hostile connections of 1 MB partial lines with descriptors leave the
// daemon small and serving, and it lets go of everything afterwards.

#include "support/harness.hpp"

#include "unique_fd.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace pfd::test;
using pfd::unique_fd;
using clock_type = std::chrono::steady_clock;

/// A daemon with `limits` as its [limits] section.
std::vector<std::string> with_limits(const temp_dir& dir, const std::string& limits)
{
    std::ofstream(dir / "c.toml") << "[limits]\n" << limits << "\n";
    return {"--config", dir / "c.toml"};
}

/// A connection that sends a request line that never ends: `bytes` of it,
/// with `fds` descriptors riding on its first byte, as fast as the daemon
/// takes them. Refused when the daemon hangs up on it (its answer kept).
struct hog {
    unique_fd sock;
    std::size_t sent = 0, bytes = 0, fds = 0;
    bool refused = false;
    std::string answer;
};

/// Pushes every hog's bytes until each has sent all or been refused, bounded.
void pump(std::vector<hog>& hogs, int attached, milliseconds timeout = 60s)
{
    static const std::string chunk = R"({"pfd":1,"op":"exec","argv":[")" + std::string(65536, 'a');
    auto deadline = clock_type::now() + timeout;
    for (;;) {
        std::vector<pollfd> waiting;
        std::vector<hog*> who;
        for (auto& h : hogs)
            if (!h.refused && h.sent < h.bytes) {
                waiting.push_back({h.sock.get(), POLLOUT, 0});
                who.push_back(&h);
            }
        if (waiting.empty() || clock_type::now() > deadline) return;
        if (::poll(waiting.data(), waiting.size(), 100) <= 0) continue;
        for (std::size_t i = 0; i < waiting.size(); ++i) {
            if (!waiting[i].revents) continue;
            hog& h = *who[i];
            std::vector<int> fds(h.sent == 0 ? h.fds : 0, attached);
            std::string_view data(chunk.data(), std::min(chunk.size(), h.bytes - h.sent));
            try {
                h.sent += pfd::send_some_with_fds(h.sock.get(), data, fds);
            } catch (const std::system_error&) {
                h.refused = true;
                h.answer = read_to_eof(h.sock.get(), 5s).value_or("<no end>");
            }
        }
    }
}

/// Marks the hogs the daemon has hung up on (their answer read) since; how
/// many it has refused in all.
std::size_t count_refused(std::vector<hog>& hogs)
{
    std::size_t refused = 0;
    for (auto& h : hogs) {
        pollfd p{h.sock.get(), POLLIN, 0};
        if (!h.refused && ::poll(&p, 1, 0) == 1) {
            h.refused = true;
            h.answer = read_to_eof(h.sock.get(), 5s).value_or("<no end>");
        }
        refused += h.refused;
    }
    return refused;
}

/// Opens `count` hogs on `socket`.
std::vector<hog> hogs_on(const std::string& socket, std::size_t count, std::size_t bytes, std::size_t fds)
{
    std::vector<hog> hogs(count);
    for (auto& h : hogs) {
        h.sock = connect_raw(socket);
        ::fcntl(h.sock.get(), F_SETFL, O_NONBLOCK);
        h.bytes = bytes;
        h.fds = fds;
    }
    return hogs;
}

/// The idle figures of a daemon that has served a few commands.
struct idle_figures {
    int fds;
    long rss_kib;
};
idle_figures warmed(const running_daemon& d)
{
    for (int i = 0; i < 20; ++i) REQUIRE(d.run({"true"}).code() == 0);
    REQUIRE(eventually([&] { return d.children() == 0; }));
    // Counted after an exchange read to its end: the daemon has closed its
    // side by then, and earlier clients' sessions (a hostexec run ends just
    // before its session does) were done before it took this one.
    auto sock = connect_raw(d.socket());
    std::string ping = "{\"pfd\":1,\"op\":\"ping\"}\n";
    REQUIRE(::write(sock.get(), ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
    REQUIRE(read_to_eof(sock.get()));
    sock.reset();
    int idle = d.open_fds();
    return {idle, d.resident_kib()};
}

/// RSS figures mean nothing under AddressSanitizer, whose allocator keeps
/// freed memory in quarantine and never gives it back.
constexpr bool measures_memory()
{
#if defined(__SANITIZE_ADDRESS__)
    return false;
#else
    return true;
#endif
}

bool is_refusal(const std::string& line, std::string_view code, std::string_view mentions)
{
    return line.starts_with(R"({"event":"error","code":")" + std::string(code) + "\"") &&
           line.find(mentions) != std::string::npos && line.ends_with("\n");
}

/// `n` idle connections the daemon holds, and what it answers one more
/// that says nothing (the connection ended).
struct connections_held {
    std::vector<unique_fd> held;
    std::string answer_to_next;
};

connections_held hold_connections(const running_daemon& d, int idle_fds, int n)
{
    std::vector<unique_fd> held;
    for (int i = 0; i < n; ++i) held.push_back(connect_raw(d.socket()));
    REQUIRE(eventually([&] { return d.open_fds() == idle_fds + n; }));
    auto next = connect_raw(d.socket());
    auto answer = read_to_eof(next.get(), 10s);
    REQUIRE(answer);
    return {std::move(held), *answer};
}

} // namespace

TEST_CASE("connections beyond [limits] connections_per_uid and connections are answered limit at once", "[limits]")
{
    temp_dir conf;
    SECTION("per uid")
    {
        running_daemon d(with_limits(conf, "connections_per_uid = 4\nrequest_timeout_ms = 600000"));
        auto idle = warmed(d);
        // The fifth says nothing and is answered anyway: the daemon knows
        // who connected from the kernel, before reading a byte.
        auto [held, answer] = hold_connections(d, idle.fds, 4);
        CHECK(is_refusal(answer, "limit", "uid 0 holds 4 connections already ([limits] connections_per_uid)"));
        auto r = d.run({"echo", "ok"});
        CHECK(r.code() == 125);
        CHECK(r.err.find("[limits] connections_per_uid") != std::string::npos);
        // One let go: its place is free again.
        held.pop_back();
        REQUIRE(eventually([&] { return d.run({"echo", "ok"}).out == "ok\n"; }));
        held.clear();
        CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
    }
    SECTION("in total")
    {
        running_daemon d(with_limits(conf, "connections = 3\nrequest_timeout_ms = 600000"));
        auto idle = warmed(d);
        auto [held, answer] = hold_connections(d, idle.fds, 3);
        CHECK(is_refusal(answer, "limit", "the daemon holds 3 connections already ([limits] connections)"));
        held.clear();
        CHECK(eventually([&] { return d.run({"echo", "ok"}).out == "ok\n"; }));
        CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
    }
}

TEST_CASE("a uid that may not use the daemon is answered denied before it sends anything", "[limits][root]")
{
    if (::geteuid() != 0 || !have_program("setpriv") || !have_program("python3")) {
        WARN("skipped: needs root, setpriv and python3 to be a second uid");
        return;
    }
    temp_dir conf; // a long request timeout: an answer now can only be the uid check
    running_daemon d(with_limits(conf, "request_timeout_ms = 600000"));
    auto idle = warmed(d);
    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
    auto r = run({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                           "import socket, sys\n"
                           "s = socket.socket(socket.AF_UNIX)\n"
                           "s.connect(sys.argv[1])\n"
                           "s.settimeout(20)\n"
                           "sys.stdout.write(s.recv(4096).decode())\n",
                           d.socket()},
                  .cwd = "/"},
                 {}, 30s);
    INFO("stderr: " << r.err);
    CHECK(r.code() == 0);
    CHECK(r.out == "{\"event\":\"error\",\"code\":\"denied\",\"message\":\"uid 65534 may not use this daemon\"}\n");
    CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
}

TEST_CASE("unfinished requests share a budget: the largest gives way and a small request is served", "[limits]")
{
    temp_dir conf;
    SECTION("bytes")
    {
        running_daemon d(with_limits(conf, "buffered_bytes = 2097152\nrequest_timeout_ms = 600000"));
        auto idle = warmed(d);
        auto hogs = hogs_on(d.socket(), 6, 900000, 0);
        pump(hogs, -1);
        // 2 MiB hold two 900 kB lines (with their buffers' slack), not three.
        CHECK(eventually([&] { return count_refused(hogs) >= 4; }));
        CHECK(count_refused(hogs) < hogs.size());
        for (auto& h : hogs) {
            if (!h.refused) continue;
            INFO("answer: " << h.answer);
            CHECK(is_refusal(h.answer, "limit", "[limits] buffered_bytes 2097152"));
        }
        auto r = d.run({"echo", "ok"});
        INFO("stderr: " << r.err);
        CHECK(r.out == "ok\n");
        CHECK(r.code() == 0);
        hogs.clear();
        CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
    }
    SECTION("descriptors")
    {
        running_daemon d(with_limits(conf, "buffered_fds = 64\nrequest_timeout_ms = 600000"));
        auto idle = warmed(d);
        unique_fd attached(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        // Two hold 30 each; the third would take them to 90: of three that
        // hold as much, the newcomer gives way.
        auto hogs = hogs_on(d.socket(), 2, 100, 30);
        pump(hogs, attached.get());
        REQUIRE(eventually([&] { return d.open_fds() == idle.fds + 2 + 60; }));
        auto third = hogs_on(d.socket(), 1, 100, 30);
        pump(third, attached.get());
        auto answer = third[0].refused ? third[0].answer : read_to_eof(third[0].sock.get(), 10s).value_or("");
        CHECK(is_refusal(answer, "limit", "buffered_fds 64"));
        CHECK_FALSE(hogs[0].refused);
        CHECK_FALSE(hogs[1].refused);
        // hostexec attaches its three standard descriptors and a directory:
        // over the total, one of the large ones gives way, not it.
        auto r = d.run({"echo", "ok"});
        INFO("stderr: " << r.err);
        CHECK(r.out == "ok\n");
        third.clear();
        hogs.clear();
        CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
    }
}

TEST_CASE("client strings come back capped, and a watcher's backlog is counted in bytes", "[limits]")
{
    running_daemon d;
    auto idle = warmed(d);
    // Four watchers that never read.
    std::vector<unique_fd> sleepers;
    for (int i = 0; i < 4; ++i) {
        sleepers.push_back(connect_raw(d.socket()));
        std::string op = "{\"pfd\":1,\"op\":\"watch\"}\n";
        REQUIRE(::write(sleepers.back().get(), op.data(), op.size()) == static_cast<ssize_t>(op.size()));
    }
    std::string huge(1000000, 'x');
    for (int i = 0; i < 60; ++i) {
        auto sock = connect_raw(d.socket());
        std::string line = exec_line(R"("argv":[")" + huge + R"("],"cwd":"/")") + "\n";
        pfd::send_with_fds(sock.get(), line);
        auto answer = read_to_eof(sock.get(), 20s);
        REQUIRE(answer);
        auto error = answer->substr(answer->find("{\"event\":\"error\""));
        INFO("answer: " << error.substr(0, 400));
        CHECK(error.size() < 400);
        CHECK(error.find("\"message\":\"'" + std::string(256, 'x') + "\xe2\x80\xa6': command not found\"") !=
              std::string::npos);
    }
    CHECK(d.run({"true"}).code() == 0);
    if (measures_memory()) {
        INFO("idle " << idle.rss_kib << " KiB, now " << d.resident_kib() << " KiB");
        CHECK(d.resident_kib() < idle.rss_kib + 16 * 1024);
    } else {
        WARN("memory not measured: AddressSanitizer's allocator keeps what is freed");
    }
    sleepers.clear();
    CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
}

TEST_CASE("300 hostile connections of 1 MB partial lines with descriptors: the daemon stays small and serves",
          "[limits]")
{
    // The test sends 18,000 descriptors in flight; as root that is no limit.
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
    running_daemon d;
    auto idle = warmed(d);
    unique_fd attached(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto hogs = hogs_on(d.socket(), 300, 1000000, 60);
    long peak_rss = 0;
    int peak_fds = 0;
    // Measured while the hogs push, between rounds of pumping.
    for (std::size_t done = 0; done < hogs.size();) {
        std::vector<hog> round;
        for (std::size_t i = done; i < std::min(done + 30, hogs.size()); ++i) round.push_back(std::move(hogs[i]));
        pump(round, attached.get());
        peak_rss = std::max(peak_rss, d.resident_kib());
        peak_fds = std::max(peak_fds, d.open_fds());
        auto r = d.run({"true"});
        INFO("stderr: " << r.err);
        CHECK(r.code() == 0); // a legitimate client is served meanwhile
        for (auto& h : round) hogs[done++] = std::move(h);
    }
    peak_rss = std::max(peak_rss, d.resident_kib());
    peak_fds = std::max(peak_fds, d.open_fds());
    INFO("idle: " << idle.rss_kib << " KiB, " << idle.fds << " descriptors; peak: " << peak_rss << " KiB, " << peak_fds
                  << " descriptors");
    CHECK(peak_fds <= 1200);
    if (measures_memory()) CHECK(peak_rss <= 96 * 1024);
    hogs.clear();
    CHECK(eventually([&] { return d.open_fds() == idle.fds; }));
    CHECK(d.run({"true"}).code() == 0);
    if (measures_memory()) {
        long after = d.resident_kib();
        INFO("after: " << after << " KiB");
        CHECK(after <= idle.rss_kib + 8 * 1024);
    } else {
        WARN("memory not measured: AddressSanitizer's allocator keeps what is freed");
    }
}

namespace {

/// uid 65534 (allowed) taking places one after the other, each on its own
/// connection, until one is refused or `count` are held; held until closed.
/// `op` is "watch", or "exec N SIZE": a command that sleeps, with N extra
/// arguments of SIZE bytes.
const char* const place_taker = R"(import json, socket, sys
path, count, op = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
if op[0] == 'watch':
    line = json.dumps({'pfd': 1, 'op': 'watch'})
else:
    argv = ['sh', '-c', 'exec sleep 600'] + ['x' * int(op[2])] * int(op[1])
    line = json.dumps({'pfd': 1, 'op': 'exec', 'argv': argv, 'cwd': '/'})
held, refusal = [], ''
while len(held) < count and not refusal:
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    try:
        s.sendall(line.encode() + b'\n')
    except OSError:
        pass # refused before it read a byte: its answer is there to read
    f = s.makefile('rb')
    while True:
        try:
            answer = f.readline().decode()
        except OSError as e:
            answer, refusal = '', '<%s>\n' % e
            break
        if not answer:
            refusal = '<closed>\n'
            break
        event = json.loads(answer)['event']
        if event == 'error':
            refusal = answer
            break
        if event in ('watching', 'started'):
            held.append((s, f))
            break
sys.stdout.write('held %d\n%sEND\n' % (len(held), refusal))
sys.stdout.flush()
sys.stdin.read()
)";

/// What uid 65534 took with place_taker.
struct places_taken {
    process taker;
    std::size_t held = 0;
    std::string refusal; ///< the answer that refused one, "" if none did
};

places_taken take_places(const running_daemon& d, std::size_t count, const std::string& op)
{
    places_taken t{process({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3",
                                     "-c", place_taker, d.socket(), std::to_string(count), op},
                            .cwd = "/"})};
    std::string out = t.taker.read_stdout_until("END\n", 120s);
    INFO("place taker said: " << out);
    if (!out.ends_with("END\n")) FAIL("place taker's stderr: " << t.taker.finish(5s).err);
    REQUIRE(out.starts_with("held "));
    REQUIRE(out.ends_with("END\n"));
    auto eol = out.find('\n');
    t.held = std::stoul(out.substr(5, eol - 5));
    t.refusal = out.substr(eol + 1, out.size() - eol - 1 - 4);
    return t;
}

bool can_be_another_uid()
{
    if (::geteuid() == 0 && have_program("setpriv") && have_program("python3")) return true;
    WARN("skipped: needs root, setpriv and python3 to be a second, allowed uid");
    return false;
}

/// A daemon that serves uid 65534 too (its socket open to it), with `limits`.
std::vector<std::string> serving_another_uid(const temp_dir& dir, const std::string& limits)
{
    std::ofstream(dir / "c.toml") << "[policy]\nallow_uids = [65534]\n[limits]\n" << limits << "\n";
    return {"--config", dir / "c.toml"};
}

void open_to_others(const running_daemon& d)
{
    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
}

} // namespace

TEST_CASE("another uid never takes the places kept for the owner: watchers, commands, connections", "[limits][root]")
{
    if (!can_be_another_uid()) return;
    temp_dir conf;
    SECTION("watchers: of the 64, 8 stay the owner's")
    {
        running_daemon d(serving_another_uid(conf, ""));
        open_to_others(d);
        auto theirs = take_places(d, 64, "watch");
        CHECK(theirs.held == 56);
        INFO("refusal: " << theirs.refusal);
        CHECK(is_refusal(theirs.refusal, "limit",
                         "all but the 8 kept for uid 0 and root ([limits] watchers, owner_reserve)"));
        process mine({.argv = {pfd_binary(), "watch", "--json", "--socket", d.socket()}});
        CHECK(mine.read_stdout_until("\n").starts_with("{\"event\":\"watching\"}"));
    }
    SECTION("commands: of [limits] sessions = 6, 3 stay the owner's (at most half)")
    {
        running_daemon d(serving_another_uid(conf, "sessions = 6"));
        open_to_others(d);
        auto theirs = take_places(d, 6, "exec 0 0");
        CHECK(theirs.held == 3);
        INFO("refusal: " << theirs.refusal);
        CHECK(is_refusal(theirs.refusal, "busy", "not kept for uid 0 and root ([limits] sessions, owner_reserve)"));
        for (int i = 0; i < 3; ++i) {
            auto r = d.run({"echo", "mine"});
            INFO("stderr: " << r.err);
            CHECK(r.out == "mine\n");
        }
        theirs.taker.finish();
        CHECK(eventually([&] { return d.children() == 0; }));
    }
    SECTION("connections: of [limits] connections = 20, 8 stay the owner's")
    {
        running_daemon d(serving_another_uid(conf, "connections = 20\nwatchers = 0"));
        open_to_others(d);
        auto theirs = take_places(d, 20, "watch");
        CHECK(theirs.held == 12);
        INFO("refusal: " << theirs.refusal);
        CHECK(is_refusal(theirs.refusal, "limit",
                         "all but the 8 kept for uid 0 and root ([limits] connections, owner_reserve)"));
        auto ps = run({.argv = {pfd_binary(), "ps", "--socket", d.socket()}});
        INFO("stderr: " << ps.err);
        CHECK(ps.code() == 0);
        CHECK(d.run({"true"}).code() == 0);
    }
}

TEST_CASE("40 commands of 1 MB argv from another uid: the owner's ps is small and quick, the daemon stays small",
          "[limits][root]")
{
    if (!can_be_another_uid()) return;
    // 1 MB each: eight arguments of 125,000 bytes (the kernel takes at most
    // 128 KiB in one argument), or as many arguments as it takes (100,000
    // of one byte: 500 kB of request, 3.2 MB of strings once parsed).
    std::string op;
    SECTION("eight arguments of 125,000 bytes")
    {
        op = "exec 8 125000";
    }
    SECTION("100,000 arguments of one byte")
    {
        op = "exec 100000 1";
    }
    temp_dir conf;
    running_daemon d(serving_another_uid(conf, ""));
    open_to_others(d);
    auto idle = warmed(d);
    process watcher({.argv = {pfd_binary(), "watch", "--json", "--socket", d.socket()}});
    REQUIRE(watcher.read_stdout_until("\n").starts_with("{\"event\":\"watching\"}"));
    auto theirs = take_places(d, 40, op);
    REQUIRE(theirs.held == 40);
    long rss = d.resident_kib();

    auto started = std::chrono::steady_clock::now();
    auto ps = run({.argv = {pfd_binary(), "ps", "--json", "--socket", d.socket()}});
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(ps.code() == 0);
    // Each command kept as 4 KiB of its argv at most, marked: not 40 MB.
    CHECK(ps.out.size() < 40 * 4400);
    CHECK(took < 5s);
    std::size_t marked = 0;
    for (auto at = ps.out.find("\"truncated\":true"); at != std::string::npos;
         at = ps.out.find("\"truncated\":true", at + 1))
        ++marked;
    CHECK(marked == 40);
    auto table = run({.argv = {pfd_binary(), "ps", "--socket", d.socket()}});
    CHECK(table.out.size() < 40 * 4400);
    CHECK(table.out.ends_with(" \xe2\x80\xa6\n")); // marked as cut
    // Watchers get the same cut argv in the session event.
    std::string seen = watcher.read_stdout_until("\"truncated\":true");
    auto line = seen.substr(seen.rfind('\n', seen.find("\"truncated\":true")) + 1);
    CHECK(line.substr(0, line.find('\n')).size() < 4400);

    if (measures_memory()) {
        INFO("idle " << idle.rss_kib << " KiB, with the 40 commands " << rss << " KiB");
        CHECK(rss < idle.rss_kib + 16 * 1024);
    } else {
        WARN("memory not measured: AddressSanitizer's allocator keeps what is freed");
    }
    theirs.taker.finish();
    CHECK(eventually([&] { return d.children() == 0; }, 30s));
}
