// The login environment (the fallback when no user manager answers) from
// files of the test's own, and what a session's environment block may pass.
#include "login_environment.hpp"
#include "session_environment.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

using namespace pfd::test;

namespace {

bool has(const std::vector<std::string>& env, const std::string& entry)
{
    return std::find(env.begin(), env.end(), entry) != env.end();
}

bool has_name(const std::vector<std::string>& env, const std::string& name)
{
    return std::any_of(env.begin(), env.end(), [&](const std::string& e) { return e.starts_with(name + "="); });
}

} // namespace

TEST_CASE("/etc/environment and locale files: comments, export, quotes; bad lines skipped", "[login_env]")
{
    temp_dir t;
    std::ofstream(t / "environment") << "# a comment\n\nA=1\nexport B=\"two words\"\n  C='three'\nnot a line\n"
                                        "=nameless\n1BAD=x\nD=\nA=again\n";
    auto env = pfd::read_env_file(t / "environment");
    CHECK(env == std::vector<std::string>{"B=two words", "C=three", "D=", "A=again"});
    CHECK(pfd::read_env_file(t / "missing").empty());
}

TEST_CASE("a login environment as su -l builds one, whatever the daemon's shell held", "[login_env]")
{
    temp_dir t;
    std::ofstream(t / "login.defs") << "# comment\nMAIL_DIR /var/spool/mail\nENV_SUPATH\tPATH=/root/sbin:/usr/bin\n"
                                       "ENV_PATH PATH=/usr/local/bin:/usr/bin\n";
    std::ofstream(t / "environment") << "PFDT_SYSTEM=yes\n";
    std::ofstream(t / "locale") << "LANG=\"de_DE.UTF-8\"\n";
    ::mkdir((t / "run").c_str(), 0755);
    ::mkdir((t / "run/4242").c_str(), 0700);
    pfd::login_sources from;
    from.uid = 4242; // no passwd entry, most likely: no HOME, USER, MAIL
    from.login_defs = t / "login.defs";
    from.environment = t / "environment";
    from.default_locale = t / "locale";
    from.locale_conf = t / "missing";
    from.run_user = t / "run";
    from.daemon_env = {"PATH=/opt/venv/bin:/usr/bin",
                       "STALE_VAR=x",
                       "OLDPWD=/x",
                       "_=/usr/bin/env",
                       "SHLVL=2",
                       "DISPLAY=:1",
                       "SSH_AUTH_SOCK=/run/agent",
                       "XDG_SESSION_TYPE=wayland",
                       "PWD=/x"};
    auto env = pfd::login_environment(from);
    CHECK(has(env, "PATH=/usr/local/bin:/usr/bin"));
    CHECK(has(env, "SHELL=/bin/sh"));
    CHECK(has(env, "PFDT_SYSTEM=yes"));
    CHECK(has(env, "LANG=de_DE.UTF-8"));
    CHECK(has(env, "XDG_RUNTIME_DIR=" + t / "run/4242"));
    CHECK(has(env, "DISPLAY=:1"));
    CHECK(has(env, "SSH_AUTH_SOCK=/run/agent"));
    CHECK(has(env, "XDG_SESSION_TYPE=wayland"));
    for (auto name : {"STALE_VAR", "OLDPWD", "_", "SHLVL", "PWD"}) CHECK(!has_name(env, name));

    SECTION("root's PATH is ENV_SUPATH; Debian's defaults without login.defs")
    {
        from.uid = 0;
        env = pfd::login_environment(from);
        CHECK(has(env, "PATH=/root/sbin:/usr/bin"));
        CHECK(has(env, "MAIL=/var/spool/mail/root"));
        CHECK(has_name(env, "HOME"));
        CHECK(has(env, "USER=root"));
        CHECK(has(env, "LOGNAME=root"));
        from.login_defs = t / "missing";
        env = pfd::login_environment(from);
        CHECK(has(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        from.uid = 4242;
        env = pfd::login_environment(from);
        CHECK(has(env, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/games"));
    }
}

TEST_CASE("a session's environment block passes its NAME=value entries, never a shell's bookkeeping", "[login_env]")
{
    auto env = pfd::session_entries({"A=1", "NOEQUALS", "=nameless", "OLDPWD=/x", "_=y", "SHLVL=1", "COLUMNS=80",
                                     "LINES=24", "PWD=/", "B=", "A=2"});
    CHECK(env == std::vector<std::string>{"B=", "A=2"});
}
