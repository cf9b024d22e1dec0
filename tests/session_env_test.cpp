// The environment a container client's command starts from: the user's host
// session (the systemd user manager's environment block, followed; else a
// login environment), never the leftovers of the shell that started the
// daemon. Containers are played by bubblewrap (harness.hpp's in_sandbox);
// the user manager by systemd itself where it runs, else by a service of
// ours on a private dbus-daemon (helpers/fake_user_manager.py), which the
// daemon reads with sd-bus and follows exactly as it would systemd.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

using namespace pfd::test;

namespace {

const std::string no_bus = "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/pfdt-bus";

/// The PATH a login gets here (login.defs), as `su -l` builds it.
std::string login_path()
{
    std::ifstream in("/etc/login.defs");
    std::string key = ::getuid() == 0 ? "ENV_SUPATH" : "ENV_PATH", line, path;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string k, v;
        if (words >> k >> v && k == key) path = v.starts_with("PATH=") ? v.substr(5) : v;
    }
    if (!path.empty()) return path;
    return ::getuid() == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                           : "/usr/local/bin:/usr/bin:/bin:/usr/games";
}

bool has_line(const std::string& out, const std::string& line)
{
    return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

bool has_name(const std::string& out, const std::string& name)
{
    return ("\n" + out).find("\n" + name + "=") != std::string::npos;
}

std::string status_of(const running_daemon& d)
{
    return run({.argv = {pfd_binary(), "status", "--socket", d.socket()}}).out;
}

/// The Debian python3 with python3-dbus and python3-gi (another python may
/// come first in PATH), or why there is none.
std::string dbus_python(std::string& why)
{
    for (const char* python : {"/usr/bin/python3", "/bin/python3"}) {
        if (::access(python, X_OK) != 0) continue;
        auto probe = run({.argv = {python, "-c", "import dbus, dbus.service, gi.repository.GLib"}});
        if (probe.code() == 0) return python;
        why = std::string(python) + " cannot import dbus and gi (python3-dbus, python3-gi): " + probe.err;
        return {};
    }
    why = "/usr/bin/python3 is not installed";
    return {};
}

/// A private session bus (dbus-daemon --session), gone with the test.
class private_bus {
public:
    private_bus()
    {
        daemon_.emplace(spawn_options{.argv = {"dbus-daemon", "--session", "--nofork", "--print-address=1",
                                               "--address=unix:path=" + dir_ / "bus"}});
        std::string out = daemon_->read_stdout_until("\n");
        address_ = out.substr(0, out.find('\n'));
        if (address_.empty()) throw std::runtime_error("dbus-daemon gave no address");
    }
    const std::string& address() const { return address_; }

private:
    temp_dir dir_;
    std::optional<process> daemon_;
    std::string address_;
};

/// helpers/fake_user_manager.py on `bus`, serving `env`.
class fake_manager {
public:
    fake_manager(const std::string& python, const private_bus& bus, std::vector<std::string> env)
    {
        std::vector<std::string> argv = {python, std::string(PFD_SOURCE_DIR) + "/tests/helpers/fake_user_manager.py",
                                         bus.address()};
        argv.insert(argv.end(), env.begin(), env.end());
        proc_.emplace(spawn_options{.argv = argv});
        if (proc_->read_stdout_until("ready\n").find("ready\n") == std::string::npos)
            throw std::runtime_error("the fake user manager did not start: " + proc_->finish(1s).err);
    }
    /// One command (see the helper), done when it answers.
    void command(const std::string& line)
    {
        proc_->write_stdin(line + "\n");
        std::string ok = "ok " + std::to_string(++sent_) + "\n";
        REQUIRE(proc_->read_stdout_until(ok).find(ok) != std::string::npos);
    }
    /// Leaves the bus and ends.
    void quit()
    {
        proc_->close_stdin();
        proc_->finish();
    }

private:
    std::optional<process> proc_;
    int sent_ = 0;
};

} // namespace

TEST_CASE("a daemon started from a shell: none of the shell's leftovers reach a container's command", "[session_env]")
{
    if (!can_sandbox()) return;
    // What `STALE_VAR=x PATH=/opt/venv/bin:$PATH hostexec -C true` from a
    // terminal with a venv active hands the daemon; no user bus.
    running_daemon d({}, {"env", "STALE_VAR=x", "PATH=/opt/venv/bin:/usr/bin:/bin", "OLDPWD=/stale/oldpwd",
                          "_=/usr/bin/stale", "SHLVL=7", "COLUMNS=99", "LINES=33", "PWD=/stale/pwd", "DISPLAY=:42",
                          no_bus});
    auto r = in_sandbox(d, {"--setenv", "PATH", "/container/bin:/usr/bin:/bin"}, "$H env");
    INFO(r.out << r.err);
    CHECK(r.code() == 0);
    CHECK(!has_name(r.out, "STALE_VAR"));
    CHECK(!has_name(r.out, "OLDPWD"));
    CHECK(!has_name(r.out, "_"));
    CHECK(!has_name(r.out, "SHLVL"));
    CHECK(!has_name(r.out, "COLUMNS"));
    CHECK(!has_name(r.out, "LINES"));
    CHECK(r.out.find("/stale/pwd") == std::string::npos);
    // A login's PATH, HOME, USER, SHELL; the session's display.
    CHECK(has_line(r.out, "PATH=" + login_path()));
    CHECK(has_name(r.out, "HOME"));
    CHECK(has_name(r.out, "USER"));
    CHECK(has_name(r.out, "LOGNAME"));
    CHECK(has_name(r.out, "SHELL"));
    CHECK(has_line(r.out, "DISPLAY=:42"));
    // PWD is the client's or none, as on the host: never the daemon's.
    auto pwd = in_sandbox(d, {}, "cd /tmp && env -u PWD $H printenv PWD; echo \"rc=$?\"");
    CHECK(pwd.out == "rc=1\n");
    auto client_pwd = in_sandbox(d, {}, "cd /tmp && PWD=/tmp $H printenv PWD");
    CHECK(client_pwd.out == "/tmp\n");

    auto status = status_of(d);
    INFO(status);
    CHECK(status.find("container commands' environment: login environment (no user bus: ") != std::string::npos);
}

TEST_CASE("--clear-env, --unset-env and --env mean the same from a container as on the host", "[session_env]")
{
    if (!can_sandbox()) return;
    running_daemon d({}, {"env", "PFDT_HOST=yes", no_bus});
    auto cleared = in_sandbox(d, {}, "$H --clear-env env");
    INFO(cleared.err);
    CHECK(cleared.code() == 0);
    CHECK(cleared.out == "");
    auto cleared_set = in_sandbox(d, {}, "$H --clear-env --env=PFDT_A=1 env");
    CHECK(cleared_set.out == "PFDT_A=1\n");
    auto unset = in_sandbox(d, {}, "$H --unset-env=HOME --unset-env=PATH env");
    CHECK(unset.code() == 0);
    CHECK(!has_name(unset.out, "HOME"));
    CHECK(!has_name(unset.out, "PATH"));
    CHECK(has_name(unset.out, "USER"));
    auto set = in_sandbox(d, {}, "$H --env=PFDT_B=2 --env=HOME=/pfdt/home env");
    CHECK(has_line(set.out, "PFDT_B=2"));
    CHECK(has_line(set.out, "HOME=/pfdt/home"));
    // The same on the host.
    auto host = run({.argv = d.hostexec({"--clear-env", "--env=PFDT_A=1", "env"})});
    CHECK(host.out == "PFDT_A=1\n");
}

TEST_CASE("the systemd user manager's environment, read over the user bus and followed as it changes", "[session_env]")
{
    if (!can_sandbox({"dbus-daemon"})) return;
    std::string why;
    std::string python = dbus_python(why);
    if (python.empty()) {
        WARN("skipped: " << why);
        return;
    }
    temp_dir bin;
    std::ofstream(bin / "session-only-tool") << "#!/bin/sh\necho session tool\n";
    ::chmod((bin / "session-only-tool").c_str(), 0755);
    private_bus bus;
    // A block with what never passes, and an entry without '='.
    fake_manager manager(python, bus,
                         {"PFDT_SESSION=one", "PATH=" + bin.path() + ":/usr/bin:/bin", "OLDPWD=/manager/oldpwd",
                          "SHLVL=2", "PFDT_NO_EQUALS", "=nameless"});
    running_daemon d(
        {}, {"env", "DBUS_SESSION_BUS_ADDRESS=" + bus.address(), "STALE_VAR=x", "PATH=/opt/venv/bin:/usr/bin:/bin"});
    CHECK(status_of(d).find("container commands' environment: login environment (the user bus is read at the "
                            "first container client)") != std::string::npos);

    auto r = in_sandbox(d, {}, "$H env && $H session-only-tool");
    INFO(r.out << r.err);
    CHECK(r.code() == 0);
    CHECK(has_line(r.out, "PFDT_SESSION=one"));
    CHECK(has_line(r.out, "PATH=" + bin.path() + ":/usr/bin:/bin"));
    CHECK(!has_name(r.out, "OLDPWD"));
    CHECK(!has_name(r.out, "SHLVL"));
    CHECK(!has_name(r.out, "STALE_VAR"));
    CHECK(r.out.find("PFDT_NO_EQUALS") == std::string::npos);
    CHECK(r.out.find("nameless") == std::string::npos);
    CHECK(r.out.find("session tool\n") != std::string::npos);
    // `pfd status` names it: 2 of the 6 entries pass.
    CHECK(status_of(d).find("container commands' environment: systemd user manager (2 variables, followed)") !=
          std::string::npos);

    auto session_value = [&] { return in_sandbox(d, {}, "$H printenv PFDT_SESSION").out; };
    // A change sent with its value (what a login's import-environment does).
    manager.command("set PFDT_SESSION=two DISPLAY=:9");
    CHECK(eventually([&] { return session_value() == "two\n"; }));
    CHECK(in_sandbox(d, {}, "$H printenv DISPLAY").out == ":9\n");
    // Sent invalidated: read again.
    manager.command("invalidate PFDT_SESSION=three");
    CHECK(eventually([&] { return session_value() == "three\n"; }));
    // A signal of the wrong shape is no harm.
    manager.command("garbage");
    manager.command("set PFDT_SESSION=four");
    CHECK(eventually([&] { return session_value() == "four\n"; }));
    // The manager leaves: a login environment until it comes back.
    manager.quit();
    CHECK(eventually(
        [&] { return status_of(d).find("login environment (the user manager left the bus)") != std::string::npos; }));
    auto after = in_sandbox(d, {}, "$H env");
    CHECK(!has_name(after.out, "PFDT_SESSION"));
    CHECK(has_line(after.out, "PATH=" + login_path()));
    fake_manager again(python, bus, {"PFDT_SESSION=back"});
    CHECK(eventually([&] { return session_value() == "back\n"; }));
    again.quit();
}

TEST_CASE("a real systemd user manager's environment", "[session_env]")
{
    struct stat st {};
    if (::stat("/run/systemd/system", &st) != 0) {
        WARN("skipped: the system has not been booted with systemd (no /run/systemd/system): systemd --user "
             "cannot run; the fake user manager's test covers the bus");
        return;
    }
    if (!can_sandbox()) return;
    auto show = run({.argv = {"systemctl", "--user", "show-environment"}});
    if (show.code() != 0) {
        WARN("skipped: no user manager to ask (systemctl --user show-environment: " << show.err << ")");
        return;
    }
    std::string value = "pfdt-" + std::to_string(::getpid());
    running_daemon d;
    REQUIRE(run({.argv = {"systemctl", "--user", "set-environment", "PFDT_REAL=" + value}}).code() == 0);
    CHECK(eventually([&] { return in_sandbox(d, {}, "$H printenv PFDT_REAL").out == value + "\n"; }));
    CHECK(status_of(d).find("systemd user manager (") != std::string::npos);
    REQUIRE(run({.argv = {"systemctl", "--user", "unset-environment", "PFDT_REAL"}}).code() == 0);
    CHECK(eventually([&] { return in_sandbox(d, {}, "$H printenv PFDT_REAL").out.empty(); }));
}

// Before: the kernel cannot read another uid's namespaces, so its client's
// word ("container":"podman") decided, and uid B read the owner's tokens.
TEST_CASE("another uid never gets the owner's session environment, whatever it says it is", "[session_env][root]")
{
    if (::geteuid() != 0 || !have_program("setpriv")) {
        WARN("skipped: needs root and setpriv to be a second, allowed uid");
        return;
    }
    if (!can_sandbox({"dbus-daemon"})) return;
    std::string why;
    std::string python = dbus_python(why);
    if (python.empty()) {
        WARN("skipped: " << why);
        return;
    }
    private_bus bus;
    fake_manager manager(python, bus, {"GITHUB_TOKEN=owner-secret-token", "PATH=/usr/bin:/bin"});
    temp_dir conf;
    std::ofstream(conf / "c.toml") << "[policy]\nallow_uids = [65534]\n";
    running_daemon d({"--config", conf / "c.toml"}, {"env", "DBUS_SESSION_BUS_ADDRESS=" + bus.address()});
    // The control: the owner's own container gets the session, token and all.
    CHECK(in_sandbox(d, {}, "$H printenv GITHUB_TOKEN").out == "owner-secret-token\n");

    REQUIRE(::chmod(d.dir().path().c_str(), 0711) == 0);
    REQUIRE(::chmod(d.socket().c_str(), 0666) == 0);
    std::vector<std::string> as_other = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    std::vector<std::string> printenv = {for_other_uids(hostexec_binary()), "--socket", d.socket(), "printenv"};
    // Saying so, and being one: in a mount namespace of its own, which a
    // daemon of another uid could not even see (here, as root, it can).
    // (There the daemon's uid 0 shows as the overflow uid: trusted so.)
    temp_dir client_conf;
    REQUIRE(::chmod(client_conf.path().c_str(), 0755) == 0);
    ::mkdir((client_conf / "pfd").c_str(), 0755);
    std::ofstream(client_conf / "pfd/config.toml") << "[discovery]\ntrust_daemon_uids = [65534]\n";
    std::vector<std::vector<std::string>> clients = {with(as_other, printenv)};
    if (run({.argv = with(as_other, {"unshare", "-Urm", "true"}), .cwd = "/"}).code() == 0)
        clients.push_back(with(with(as_other, {"unshare", "-Urm"}), printenv));
    else
        WARN("not tried from a namespace of its own: uid 65534 cannot unshare -Urm here");
    for (auto& argv : clients) {
        for (const char* claim : {"container=podman", "container=toolbox"}) {
            auto r = run({.argv = argv, .env = {claim, "XDG_CONFIG_HOME=" + client_conf.path()}, .cwd = "/"});
            INFO(argv[4] << " " << claim << ": " << r.err);
            CHECK(r.code() == 0);
            CHECK(r.out.find("owner-secret-token") == std::string::npos);
        }
    }
}
