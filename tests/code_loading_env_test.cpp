// What a client can make an allowed program load, and what of the owner's
// environment another user gets. Before: `hostexec --env LD_PRELOAD=...
// id` ran the client's library inside an allowed `id`, and a client of
// another uid that said it was a container got the owner's whole session
// environment (its tokens). docs/security.md.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace pfd::test;

namespace {

std::string config_file(const temp_dir& conf, const std::string& text)
{
    std::ofstream(conf / "pfd.toml") << text;
    return conf / "pfd.toml";
}

bool can_be_another_uid()
{
    if (::geteuid() == 0 && have_program("setpriv")) return true;
    WARN("skipped: needs root and setpriv to be a second, allowed uid");
    return false;
}

/// hostexec as uid 65534 against `d` (made reachable for it).
result as_other(const running_daemon& d, std::vector<std::string> args, std::vector<std::string> env = {})
{
    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
    std::vector<std::string> argv = {
        "setpriv",  "--reuid=65534", "--regid=65534", "--clear-groups", for_other_uids(hostexec_binary()),
        "--socket", d.socket()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run({.argv = argv, .env = env, .cwd = "/"});
}

} // namespace

TEST_CASE("in a daemon with allow_commands, variables that load code are refused unless env_allow names them",
          "[policy]")
{
    temp_dir conf;
    running_daemon d({"--config", config_file(conf, "[policy]\nallow_commands = [\"id\", \"printenv\"]\n")});
    for (const char* variable : {"LD_PRELOAD=/tmp/x.so", "LD_LIBRARY_PATH=/tmp", "BASH_ENV=/tmp/x", "ENV=/tmp/x",
                                 "PYTHONPATH=/tmp", "PERL5OPT=-Mx", "NODE_OPTIONS=--require=/tmp/x",
                                 "GIT_CONFIG_COUNT=1", "GCONV_PATH=/tmp", "GLIBC_TUNABLES=x"}) {
        INFO(variable);
        std::string name = std::string(variable).substr(0, std::string(variable).find('='));
        auto r = d.run({"--json", "--env", variable, "id"});
        CHECK(r.code() == 125);
        CHECK(r.err.find("\"code\":\"denied\"") != std::string::npos);
        CHECK(r.err.find(name) != std::string::npos);
    }
    // Ordinary variables pass.
    CHECK(d.run({"--env", "EDITOR=vi", "printenv", "EDITOR"}).out == "vi\n");

    temp_dir conf2;
    running_daemon allowing({"--config", config_file(conf2, "[policy]\nallow_commands = [\"printenv\"]\n"
                                                            "env_allow = [\"LD_LIBRARY_PATH\"]\n")});
    CHECK(allowing.run({"--env", "LD_LIBRARY_PATH=/opt/lib", "printenv", "LD_LIBRARY_PATH"}).out == "/opt/lib\n");
}

TEST_CASE("the owner's own clients of a daemon without command lists keep every variable", "[policy]")
{
    running_daemon d;
    CHECK(d.run({"--env", "LD_LIBRARY_PATH=/opt/lib", "printenv", "LD_LIBRARY_PATH"}).out == "/opt/lib\n");
}

TEST_CASE("another uid may not send variables that load code", "[policy][root]")
{
    if (!can_be_another_uid()) return;
    temp_dir conf;
    running_daemon d({"--config", config_file(conf, "[policy]\nallow_uids = [65534]\n")});
    auto r = as_other(d, {"--json", "--env", "LD_PRELOAD=/tmp/x.so", "id"});
    CHECK(r.code() == 125);
    CHECK(r.err.find("\"code\":\"denied\"") != std::string::npos);
    CHECK(r.err.find("LD_PRELOAD") != std::string::npos);
    CHECK(as_other(d, {"true"}).code() == 0);
}
