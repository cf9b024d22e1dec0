// democli, the example built on libpfd's public API: its first call starts
// its own daemon, later calls are answered by that warm daemon.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace pfd::test;

namespace {

std::string democli_binary()
{
    const char* path = std::getenv("DEMOCLI_BIN");
    REQUIRE(path);
    return path;
}

/// A socket of its own for each test; the daemon a test started is
/// stopped at its end, whatever happened.
class democli_home {
public:
    ~democli_home()
    {
        run({.argv = {democli_binary(), "stop"}, .env = env()});
        eventually([&] { return ::access(socket().c_str(), F_OK) != 0; });
    }
    std::string socket() const { return dir_ / "democli.sock"; }
    std::vector<std::string> env() const { return {"DEMOCLI_SOCKET=" + socket(), "XDG_STATE_HOME=" + dir_ / "state"}; }

    result democli(std::vector<std::string> args) const
    {
        args.insert(args.begin(), democli_binary());
        return run({.argv = args, .env = env()});
    }
    /// democli with stderr merged into stdout, still running.
    process democli_merged(const std::string& args) const
    {
        return process({.argv = {"sh", "-c", "exec \"$0\" " + args + " 2>&1", democli_binary()}, .env = env()});
    }
    result pfd(std::vector<std::string> args) const
    {
        args.insert(args.begin(), pfd_binary());
        args.insert(args.end(), {"--socket", socket()});
        return run({.argv = args});
    }
    /// The pid `pfd status --json` reports for the daemon.
    std::string daemon_pid() const
    {
        auto status = pfd({"status", "--json"});
        auto at = status.out.find("\"pid\":");
        return at == std::string::npos ? "" : status.out.substr(at + 6, status.out.find(',', at) - at - 6);
    }
    /// How many daemons wrote "serving" to the log.
    int daemons_started() const
    {
        std::ifstream log(dir_ / "state/pfd/democli.sock.log");
        std::stringstream text;
        text << log.rdbuf();
        int n = 0;
        for (auto at = text.str().find("serving"); at != std::string::npos; at = text.str().find("serving", at + 1))
            ++n;
        return n;
    }

private:
    temp_dir dir_;
};

} // namespace

TEST_CASE("democli add: the first call starts the daemon, the next ones are answered by it", "[democli]")
{
    democli_home home;
    REQUIRE(::access(home.socket().c_str(), F_OK) != 0);

    auto sum = home.democli({"add", "1", "2", "3"});
    CHECK(sum.out == "6\n");
    CHECK(sum.err == "");
    CHECK(sum.code() == 0);
    std::string pid = home.daemon_pid();
    REQUIRE(!pid.empty());

    auto complaint = home.democli({"add", "1", "x", "3"});
    CHECK(complaint.out == "4\n");
    CHECK(complaint.err == "democli: add: 'x' is not a number\n");
    CHECK(complaint.code() == 1);

    auto two = home.democli({"add", "y", "0.5", "-2", "1e3", "", "z"});
    CHECK(two.out == "998.5\n");
    CHECK(two.err == "democli: add: 'y' is not a number\ndemocli: add: '' is not a number\n"
                     "democli: add: 'z' is not a number\n");
    CHECK(two.code() == 1);

    CHECK(home.democli({"add"}).out == "0\n");
    auto unknown = home.democli({"nope"});
    CHECK(unknown.err == "democli: no applet 'nope' here\n");
    CHECK(unknown.code() == 127);

    CHECK(home.daemon_pid() == pid); // one warm daemon answered all of them
    CHECK(home.daemons_started() == 1);

    // pfd's own verbs work on it; it has no pidfile, so stop goes over the socket.
    auto stop = home.pfd({"stop"});
    CHECK(stop.code() == 0);
    CHECK(stop.out == "pfd: pid " + pid + " is stopping; no command runs\npfd: stopped pid " + pid + "\n");
    CHECK(eventually([&] { return ::kill(std::stoi(pid), 0) < 0; })); // reaped by init
    CHECK(home.democli({"add", "2", "2"}).out == "4\n");              // and the next call starts a new one
    CHECK(home.daemons_started() == 2);
}

TEST_CASE("democli started by many at once: one daemon, every answer right", "[democli]")
{
    democli_home home;
    std::vector<process> calls;
    for (int i = 0; i < 8; ++i)
        calls.emplace_back(
            spawn_options{.argv = {democli_binary(), "add", std::to_string(i), std::to_string(i)}, .env = home.env()});
    for (int i = 0; i < 8; ++i) {
        auto r = calls[i].finish();
        CHECK(r.out == std::to_string(2 * i) + "\n");
        CHECK(r.code() == 0);
    }
    CHECK(home.daemons_started() == 1);
}

TEST_CASE("democli slow: progress, and cancellation by pfd cancel or Ctrl-C", "[democli]")
{
    democli_home home;
    SECTION("to the end")
    {
        auto r = home.democli({"slow", "3"});
        CHECK(r.code() == 0);
        CHECK(r.out == "done: 3 steps\n");
        CHECK(r.err == "democli: slow: 0% step 1 of 3\ndemocli: slow: 33% step 2 of 3\n"
                       "democli: slow: 66% step 3 of 3\ndemocli: slow: 100% done\n");
    }
    SECTION("pfd cancel ID")
    {
        process p = home.democli_merged("slow 1000");
        REQUIRE(p.read_stdout_until("step 2 of 1000").find("step 2 of 1000") != std::string::npos);
        auto ps = home.pfd({"ps", "--json"});
        auto at = ps.out.find("{\"id\":");
        REQUIRE(at != std::string::npos);
        std::string id = ps.out.substr(at + 6, ps.out.find(',', at) - at - 6);
        auto cancel = home.pfd({"cancel", id});
        CHECK(cancel.code() == 0);
        CHECK(cancel.out == "pfd: session " + id + ": SIGTERM sent\npfd: session " + id + ": ended\n");
        auto r = p.finish();
        CHECK(r.code() == 128 + SIGTERM);
        CHECK(r.out.find("democli: slow: stopped by SIGTERM after ") != std::string::npos);
        CHECK(r.out.find("done") == std::string::npos);
    }
    SECTION("SIGINT to democli reaches the applet")
    {
        process p = home.democli_merged("slow 1000");
        REQUIRE(p.read_stdout_until("step 2 of 1000").find("step 2 of 1000") != std::string::npos);
        p.signal(SIGINT);
        auto r = p.finish();
        CHECK(r.code() == 128 + SIGINT);
        CHECK(r.out.find("democli: slow: stopped by SIGINT after ") != std::string::npos);
    }
}
