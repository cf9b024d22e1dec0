// Control ops across connections: ps lists what runs, cancel ends it in two
// acknowledged steps while its own client still gets its exit.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <fstream>

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
    CHECK(table.out.find("sh -c echo ready; read x marker-a") != std::string::npos);

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
        CHECK(r.err == "pfd: no running session 999999\n");
    }
    CHECK(eventually([&] { return d.children() == 0; }));
}
