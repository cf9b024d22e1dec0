// The configuration: files in order, later wins; every error names the file,
// the line and the key.
#include "config.hpp"
#include "config_sources.hpp"
#include "project_trust.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>

#include <fmt/format.h>

using namespace pfd;
using namespace pfd::test;

namespace {

std::string write(const temp_dir& dir, const std::string& name, const std::string& text)
{
    std::ofstream(dir / name) << text;
    return dir / name;
}

std::string error_of(const std::vector<std::string>& files)
{
    try {
        load_config(files);
    } catch (const config_error& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("the shipped config/pfd.toml holds exactly the defaults", "[config]")
{
    std::string path = std::string(PFD_SOURCE_DIR) + "/config/pfd.toml";
    config defaults;
    config shipped = load_config({}, path);
    CHECK(shipped.daemon == defaults.daemon);
    CHECK(shipped.discovery == defaults.discovery);
    CHECK(shipped.limits == defaults.limits);
    CHECK(shipped.exec == defaults.exec);
    CHECK(shipped.policy == defaults.policy);
    // Every key of the table is in the file, in its section (load_config
    // already refuses keys the table lacks).
    std::ifstream file(path);
    std::set<std::string> in_file;
    std::string section;
    for (std::string line; std::getline(file, line);) {
        if (line.starts_with("[")) section = line.substr(1, line.find(']') - 1);
        if (auto eq = line.find(" = "); eq != std::string::npos && !line.starts_with("#"))
            in_file.insert(section + "." + line.substr(0, eq));
    }
    for (auto& key : config_keys()) {
        std::string full = std::string(key.section) + "." + std::string(key.name);
        INFO(full);
        CHECK(in_file.count(full) == 1);
    }
}

TEST_CASE("later files win key by key; missing optional files are skipped", "[config]")
{
    temp_dir dir;
    auto system = write(dir, "system.toml", "[limits]\nfds = 10\nrequest_timeout_ms = 100\n");
    auto user = write(dir, "user.toml", "[limits]\nfds = 20\n[exec]\nno_tty = [\"a\"]\nhangup_signal = \"none\"\n");
    auto cfg = load_config({system, dir / "absent.toml", user});
    CHECK(cfg.limits.fds == 20);
    CHECK(cfg.limits.request_timeout == std::chrono::milliseconds(100));
    CHECK(cfg.exec.no_tty == std::vector<std::string>{"a"});
    CHECK(cfg.exec.hangup_signal == 0);
    CHECK(load_config({}, user).limits.fds == 20);
    CHECK_THROWS_AS(load_config({}, dir / "absent.toml"), config_error);
    CHECK(load_config({write(dir, "term.toml", "[exec]\nhangup_signal = \"TERM\"\n")}).exec.hangup_signal == SIGTERM);
}

TEST_CASE("the system file comes first, then the user's", "[config]")
{
    temp_dir etc, xdg;
    ::mkdir((xdg / "pfd").c_str(), 0700);
    std::ofstream(etc / "config.toml") << "[limits]\nfds = 10\nrequest_timeout_ms = 123\n";
    std::ofstream(xdg / "pfd/config.toml") << "[limits]\nfds = 20\n";
    const char* old = std::getenv("XDG_CONFIG_HOME");
    std::string saved = old ? old : "";
    ::setenv("XDG_CONFIG_HOME", xdg.path().c_str(), 1);
    auto files = default_config_files(etc.path());
    old ? ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1) : ::unsetenv("XDG_CONFIG_HOME");
    REQUIRE(files == std::vector<std::string>{etc / "config.toml", xdg / "pfd/config.toml"});
    auto cfg = load_config(files);
    CHECK(cfg.limits.fds == 20);
    CHECK(cfg.limits.request_timeout == std::chrono::milliseconds(123));
}

TEST_CASE("errors name the file, the line and the key", "[config]")
{
    temp_dir dir;
    struct bad {
        const char* text;
        const char* expected;
    };
    const bad cases[] = {
        {"[limits]\nfds = 10\nfdz = 3\n", ":3: unknown key 'fdz' in [limits]; did you mean 'fds'?"},
        {"[daemon]\nthread = 2\n", ":2: unknown key 'thread' in [daemon]; did you mean 'threads'?"},
        {"[daemon]\nsessions = 2\n", ":2: unknown key 'sessions' in [daemon]; it belongs in [limits]"},
        {"[limits]\nzzz = 2\n", ":2: unknown key 'zzz' in [limits]"},
        {"[nonsense]\n", ":1: unknown section 'nonsense'"},
        {"[deamon]\n", ":1: unknown section 'deamon'; did you mean 'daemon'?"},
        {"threads = 3\n", ":1: unknown key 'threads' outside any [section]; it belongs in [daemon]"},
        {"daemon = 3\n", ":1: 'daemon' must be a table"},
        {"[daemon]\nthreads = \"four\"\n", ":2: 'daemon.threads' must be an integer"},
        // A float where an integer goes was cast (undefined beyond the range; fuzz/config).
        {"[limits]\nfds = 2.01e122\n", ":2: 'limits.fds' must be an integer"},
        {"[limits]\nfds = 3.0\n", ":2: 'limits.fds' must be an integer"},
        {"[limits]\n\nfds = 999\n", ":3: 'limits.fds' must be between 0 and 253"},
        {"[exec]\nno_tty = \"xdg-open\"\n", ":2: 'exec.no_tty' must be an array of strings"},
        {"[exec]\nno_tty = [1]\n", ":2: 'exec.no_tty' must be an array of strings"},
        {"[exec]\nhangup_signal = \"BOGUS\"\n", ":2: 'exec.hangup_signal': 'BOGUS' is not a signal"},
        {"[policy]\nallow_uids = [-1]\n", ":2: 'policy.allow_uids' must be between"},
        {"[limits]\nfds = \n", ":2: "},
        {"[discovery]\norder = [\"local\", \"cloud\"]\n", ":2: 'discovery.order': unknown mode 'cloud'"},
        {"[discovery]\nproject = \".x\"\n", ":2: 'discovery.project' must be a project name"},
        {"[discovery]\nautostart = 1\n", ":2: 'discovery.autostart' must be true or false"},
        {"[daemon]\nlog_level = \"loud\"\n", ":2: 'daemon.log_level' must be"},
        {"[daemon]\npidfile = \"relative.pid\"\n", ":2: 'daemon.pidfile' must be an absolute path"},
        {"[policy]\nenv_set = [\"NOVALUE\"]\n", ":2: 'policy.env_set': 'NOVALUE' is not NAME=VALUE"},
        // toml++ 3.3.0 asserted on these (fuzz/regressions/config/).
        {"[\n", ":1: "},
        {"[[[1]]]\n", ":1: "},
        {"[=\n", ":1: "},
    };
    for (auto& c : cases) {
        auto file = write(dir, "bad.toml", c.text);
        auto message = error_of({file});
        INFO(c.text);
        CHECK(message.starts_with(file + ":"));
        CHECK(message.find(c.expected) != std::string::npos);
    }
    // A word like none of the known ones gets no guess.
    CHECK(error_of({write(dir, "far.toml", "[limits]\nzzz = 2\n")}).ends_with("unknown key 'zzz' in [limits]"));
    CHECK(error_of({write(dir, "far.toml", "[nonsense]\n")}).ends_with("unknown section 'nonsense'"));
}

TEST_CASE("a client leaves a file with an error out, whole, and uses the others", "[config]")
{
    temp_dir dir;
    auto system = write(dir, "system.toml", "[limits]\nfds = 20\n");
    auto user = write(dir, "user.toml", "[limits]\nsessions = 7\nfdz = 3\n");
    auto extra = write(dir, "extra.toml", "[limits]\nwatchers = 3\n");
    std::vector<std::string> left_out;
    auto cfg = load_config({system, user}, extra, nullptr, &left_out);
    CHECK(cfg.limits.fds == 20);
    CHECK(cfg.limits.watchers == 3);
    CHECK(cfg.limits.sessions == config{}.limits.sessions); // its good key is left out too
    REQUIRE(left_out.size() == 1);
    CHECK(left_out[0] == user + ":3: unknown key 'fdz' in [limits]; did you mean 'fds'?");
    // A --config FILE that is not there is left out the same way.
    left_out.clear();
    load_config({system}, dir / "absent.toml", nullptr, &left_out);
    CHECK(left_out == std::vector<std::string>{(dir / "absent.toml") + ": no such file"});
    // Without `left_out`, the first error is thrown.
    CHECK_THROWS_AS(load_config({system, user}), config_error);
}

TEST_CASE("pfd serve --check-config validates and reports", "[config]")
{
    temp_dir dir;
    auto good = write(dir, "good.toml", "[limits]\nfds = 8\n");
    auto bad = write(dir, "bad.toml", "[limits]\nfdz = 8\n");
    auto ok = run({.argv = {pfd_binary(), "serve", "--socket", dir / "s", "--config", good, "--check-config"},
                   .env = {"XDG_CONFIG_HOME=" + dir.path()}});
    CHECK(ok.code() == 0);
    auto broken = run({.argv = {pfd_binary(), "serve", "--socket", dir / "s", "--config", bad, "--check-config"},
                       .env = {"XDG_CONFIG_HOME=" + dir.path()}});
    CHECK(broken.code() == 1);
    CHECK(broken.err == "pfd: " + bad + ":2: unknown key 'fdz' in [limits]; did you mean 'fds'?\n");
}

TEST_CASE("the daemon applies its configuration", "[config]")
{
    temp_dir conf;
    SECTION("hangup_signal = none leaves a command running when its client dies")
    {
        auto file = write(conf, "c.toml", "[exec]\nhangup_signal = \"none\"\n");
        running_daemon d({"--config", file});
        process p({.argv = d.hostexec({"sh", "-c", "trap 'echo hup' HUP; echo ready; read x; echo survived-$x"})});
        REQUIRE(p.read_stdout_until("ready\n") == "ready\n");
        p.signal(SIGKILL);
        REQUIRE(p.wait_status() != -1);
        p.write_stdin("1\n");
        auto r = p.finish();
        CHECK(r.out == "ready\nsurvived-1\n");
    }
    // A limit of one: while a first command runs, a second request is
    // refused at once with `code`; once the first ends, commands run again.
    struct one_slot_case {
        const char* what;
        const char* config;
        const char* code;
    };
    for (auto c : {one_slot_case{"sessions = 1 is a single-task server: a second request is busy at once",
                                 "[limits]\nsessions = 1\n", "busy"},
                   one_slot_case{"sessions_per_peer limits one uid", "[limits]\nsessions_per_peer = 1\n", "limit"}}) {
        SECTION(c.what)
        {
            auto file = write(conf, "c.toml", c.config);
            running_daemon d({"--config", file});
            process first({.argv = d.hostexec({"sh", "-c", "echo ready; read x"})});
            REQUIRE(first.read_stdout_until("ready\n") == "ready\n");
            auto second = d.run({"--json", "true"});
            CHECK(second.code() == 125);
            CHECK(second.err.find(std::string("\"code\":\"") + c.code + "\"") != std::string::npos);
            first.write_stdin("\n");
            CHECK(first.finish().code() == 0);
            CHECK(eventually([&] { return d.run({"true"}).code() == 0; }));
        }
    }
    SECTION("allow_commands and deny_commands")
    {
        auto file = write(conf, "c.toml",
                          "[policy]\nallow_commands = [\"echo\", \"/usr/bin/print*\"]\n"
                          "deny_commands = [\"rm\"]\n");
        running_daemon d({"--config", file});
        CHECK(d.run({"echo", "fine"}).out == "fine\n");
        CHECK(d.run({"/usr/bin/printf", "ok"}).out == "ok");
        auto sh = d.run({"--json", "sh", "-c", "true"});
        CHECK(sh.code() == 125);
        CHECK(sh.err.find("\"code\":\"denied\"") != std::string::npos);
        CHECK(d.run({"/usr/bin/rm", "-f", "/nonexistent"}).code() == 125);
    }
    SECTION("the environment policy: forward, clean, deny, set")
    {
        auto file = write(conf, "c.toml",
                          "[policy]\nenv_forward = [\"PFDT_*\", \"PATH\"]\nenv_clean = [\"PFDT_SECRET\"]\n"
                          "env_deny = [\"LD_PRELOAD\"]\nenv_set = [\"PFDT_FORCED=yes\"]\n");
        running_daemon d({"--config", file});
        auto r = run({.argv = d.hostexec({"env"}),
                      .env = {"PFDT_A=1", "PFDT_SECRET=x", "OTHER=2", "PFDT_FORCED=no", "LD_PRELOAD"}});
        CHECK(r.code() == 0);
        CHECK(r.out.find("PFDT_A=1\n") != std::string::npos);
        CHECK(r.out.find("PFDT_FORCED=yes\n") != std::string::npos);
        CHECK(r.out.find("PFDT_SECRET") == std::string::npos);
        CHECK(r.out.find("OTHER=") == std::string::npos);
        CHECK(r.out.find("HOME=") == std::string::npos);
        auto denied = run({.argv = d.hostexec({"--json", "true"}), .env = {"LD_PRELOAD=/x.so"}});
        CHECK(denied.code() == 125);
        CHECK(denied.err.find("\"code\":\"denied\"") != std::string::npos);
        CHECK(d.run({"true"}).code() == 0); // nothing leaked: the next request is served
    }
    SECTION("daemon.pidfile and daemon.log_level")
    {
        auto file =
            write(conf, "c.toml", "[daemon]\nlog_level = \"error\"\npidfile = \"" + (conf / "custom.pid") + "\"\n");
        running_daemon d({"--config", file});
        CHECK(d.run({"true"}).code() == 0);
        std::ifstream pid(conf / "custom.pid");
        int recorded = 0;
        pid >> recorded;
        CHECK(recorded == d.pid());
        auto stopped = d.stop();
        CHECK(stopped.err.find("serving") == std::string::npos); // info lines are filtered out
    }
    SECTION("limits.fds refuses more descriptors than configured")
    {
        auto file = write(conf, "c.toml", "[limits]\nfds = 2\n");
        running_daemon d({"--config", file});
        auto r = d.run({"true"});
        CHECK(r.code() == 125);
        CHECK(r.err.find("more than 2 descriptors") != std::string::npos);
    }
}

TEST_CASE("a project file may set policy and limits, never what the client runs or whom it trusts", "[config]")
{
    pfd::project_file ok{"/p/.pfd.toml", "project = \"p\"\n[limits]\nfds = 8\n[policy]\nenv_clean = [\"X\"]\n"};
    auto cfg = load_config({}, {}, &ok);
    CHECK(cfg.limits.fds == 8);
    CHECK(cfg.policy.env_clean == std::vector<std::string>{"X"});
    std::size_t refused = 0;
    for (auto& key : config_keys()) {
        if (key.in_project) continue;
        ++refused;
        pfd::project_file bad{"/p/.pfd.toml", fmt::format("[{}]\n{} = 1\n", key.section, key.name)};
        INFO(key.section << "." << key.name);
        CHECK_THROWS_WITH(load_config({}, {}, &bad),
                          fmt::format("/p/.pfd.toml:2: '{}.{}' may be set only in /etc/pfd/config.toml or your "
                                      "own config file, not in a project's",
                                      key.section, key.name));
    }
    CHECK(refused == 6); // autostart_command, trust_daemon_uids, fallback, order, pidfile, allow_uids
    // The same keys are fine in the user's own file.
    temp_dir dir;
    auto user = write(dir, "user.toml", "[discovery]\ntrust_daemon_uids = [7]\n");
    CHECK(load_config({user}, {}, &ok).discovery.trust_daemon_uids == std::vector<uid_t>{7});
}

TEST_CASE("a daemon's configuration sources: passed on as one text, read again exactly", "[config][sources]")
{
    config_sources sources{{"/etc/pfd/config.toml", "/home/u/.config/pfd/config.toml"},
                           "/odd\\dir/with\nnewline.toml",
                           trusted_file{"/src/app/.pfd.toml", std::string(64, 'a')}};
    auto back = decode_sources(encode_sources(sources));
    CHECK(back.files == sources.files);
    CHECK(back.required == sources.required);
    REQUIRE(back.project);
    CHECK(back.project->path == sources.project->path);
    CHECK(back.project->hash == sources.project->hash);
    CHECK(decode_sources("").files.empty());
    for (std::string bad :
         std::vector<std::string>{"file /x", "file x\n", "mystery /x\n", "file /a\\q\n", "project abc /x\n",
                                  "project " + std::string(64, 'g') + " /x\n", "required /a\nrequired /b\n"}) {
        INFO(bad);
        CHECK_THROWS_AS(decode_sources(bad), config_error);
    }

    // The project file: read again only as it was trusted.
    temp_dir dir, data;
    scoped_env xdg("XDG_DATA_HOME", data.path());
    std::string path = write(dir, ".pfd.toml", "[limits]\nfds = 8\n");
    ::chmod(path.c_str(), 0644);
    std::string why;
    auto file = read_project_file(path, why);
    REQUIRE(file);
    trust_store().trust(*file);
    config_sources mine{{}, {}, trusted_file{path, content_hash(file->content)}};
    CHECK(load_config(mine, project_check::unchanged).limits.fds == 8);
    auto refused = [&](project_check check) {
        auto copy = mine;
        try {
            load_config(copy, check);
        } catch (const config_error& e) {
            CHECK(copy.project->hash == mine.project->hash); // nothing recorded
            return std::string(e.what());
        }
        return std::string("loaded");
    };
    write(dir, ".pfd.toml", "[limits]\nfds = 9\n");
    CHECK(refused(project_check::trusted) ==
          path +
              ": changed since it was trusted; the daemon runs with that file, so it must stay trusted: `pfd trust " +
              path + "` once it is as you mean it");
    // Trusted again: a reload takes it and records its hash; a successor held
    // to the old hash does not.
    trust_store().trust(*read_project_file(path, why));
    CHECK(refused(project_check::unchanged).find("changed since the running daemon read it") != std::string::npos);
    auto reloaded = mine;
    CHECK(load_config(reloaded, project_check::trusted).limits.fds == 9);
    CHECK(reloaded.project->hash != mine.project->hash);
    ::unlink(path.c_str());
    CHECK(refused(project_check::trusted).starts_with(path + ": No such file or directory; "));
}

TEST_CASE("the trust hint is a command a shell reads back as it was", "[config][sources]")
{
    temp_dir dir, data;
    scoped_env xdg("XDG_DATA_HOME", data.path());
    std::string odd = dir / "it's $(touch x) here";
    ::mkdir(odd.c_str(), 0700);
    std::string path = odd + "/.pfd.toml";
    config_sources gone{{}, {}, trusted_file{path, std::string(64, '0')}};
    try {
        load_config(gone, project_check::trusted);
        FAIL("loaded");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("`pfd trust '" + dir.path() + "/it'\\''s $(touch x) here/.pfd.toml'`") !=
              std::string::npos);
    }
}
