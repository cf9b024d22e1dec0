// pfd's command line: one table of verbs and options (cli_table.hpp turns
// it into the parser and every --help), then the verb.

#include "pfd_cli.hpp"

#include "verbs.hpp"
#include "shim.hpp"
#include "user_units.hpp"
#include "pfd/version.hpp"

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

enum option_id {
    o_socket,
    o_project,
    o_config,
    o_check_config,
    o_threads,
    o_ready_fd,
    o_request_timeout,
    o_stop_grace,
    o_json,
    o_list,
    o_revoke,
    o_in_container,
};

constexpr std::uint32_t bit(option_id id)
{
    return 1u << id;
}

constexpr std::uint32_t finding = bit(o_socket) | bit(o_project) | bit(o_config);
constexpr std::uint32_t starting =
    finding | bit(o_threads) | bit(o_request_timeout) | bit(o_stop_grace) | bit(o_in_container);

constexpr cli_option options[] = {
    {o_socket, "--socket", 0, "PATH", "the daemon's socket (default: $PFD_SOCKET, then discovery)"},
    {o_project, "--project", 0, "NAME", "the project's daemon ($XDG_RUNTIME_DIR/pfd.NAME.sock)"},
    {o_config, "--config", 0, "FILE", "read FILE after /etc/pfd/config.toml and ~/.config/pfd/config.toml"},
    {o_check_config, "--check-config", 0, "", "only validate the configuration, then exit"},
    {o_threads, "--threads", 0, "N", "worker threads (default: one per core but one)"},
    {o_ready_fd, "--ready-fd", 0, "N", "write a newline to descriptor N once serving, then close it"},
    {o_request_timeout, "--request-timeout-ms", 0, "N", "time a client has to send its request line (5000)"},
    {o_stop_grace, "--stop-grace-ms", 0, "N",
     "time running commands get before SIGTERM, and again\nbefore SIGKILL, when the daemon stops (10000)"},
    {o_json, "--json", 0, "", "print the daemon's JSON lines instead of text"},
    {o_list, "--list", 0, "", "list the trusted files and whether they changed since"},
    {o_revoke, "--revoke", 0, "", "no longer honour FILE (default: the nearest .pfd.toml)"},
    {o_in_container, "--in-container", 0, "",
     "start the daemon even inside a container, where it serves\nthat container, not the host"},
    {cli_help, "--help", 'h', "", "show this help and exit"},
    {cli_version, "--version", 'V', "", "print pfd's version and exit"},
};

constexpr cli_verb verbs[] = {
    {"serve", "", 0, 0, "run the daemon in the foreground until SIGINT or SIGTERM",
     "Logs go to stderr. A configuration with an error is refused (exit status 1).",
     starting | bit(o_check_config) | bit(o_ready_fd)},
    {"start", "", 0, 0, "start the daemon in the background; returns once it is ready",
     "Logs go to $XDG_STATE_HOME/pfd/, one file per socket.", starting},
    {"stop", "", 0, 0, "stop the daemon: running commands get a grace period", "", finding | bit(o_stop_grace)},
    {"status", "", 0, 0, "pid, socket, uptime, version, sessions, latency and RSS of the daemon",
     "Exit status 3 when no daemon runs, 4 when none can be asked (refused, or not a\nsocket), as systemctl status.",
     finding | bit(o_json)},
    {"ps", "", 0, 0, "the running commands: id, pid, peer uid and pid, origin, age, argv", "", finding | bit(o_json)},
    {"watch", "", 0, 0, "every event of every session, as it happens", "", finding | bit(o_json)},
    {"cancel", "ID", 1, 1, "SIGTERM to session ID's process group, SIGKILL after [limits] cancel_grace_ms",
     "'pfd ps' lists the sessions and their ids.", finding},
    {"restart", "", 0, 0, "hand the socket to a new daemon; running commands go on",
     "The new daemon reads the files the old one was started with; when it cannot\n"
     "(a project file gone, changed or no longer trusted), the old one serves on.\n"
     "When no daemon runs, starts one as 'pfd start' does, with these options.",
     starting},
    {"reload", "", 0, 0, "make the daemon read its configuration again (as SIGHUP does)",
     "It reads the files it was started with. A configuration with an error, or a\n"
     "project file gone, changed or no longer trusted, is refused and the old one kept.",
     finding},
    {"install-units", "[DIR]", 0, 1, "write systemd user units pfd.socket and pfd.service",
     "DIR defaults to $XDG_CONFIG_HOME/systemd/user. Then:\n"
     "  systemctl --user daemon-reload && systemctl --user enable --now pfd.socket",
     0},
    {"trust", "[FILE]", 0, 1, "honour a project's .pfd.toml as it is now (default: the nearest)",
     "An edit makes the file untrusted again. With --list or --revoke, nothing is trusted.",
     bit(o_list) | bit(o_revoke)},
    {"help", "[VERB]", 0, 1, "show this help, or VERB's", "", 0},
};

constexpr cli_program program{"pfd",
                              "The pre-fork daemon: runs commands for hostexec clients (from containers too) with\n"
                              "their descriptors, environment and directory.",
                              verbs, options};

std::uint64_t parse_number(const std::string& verb, std::string_view what, std::string_view text)
{
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v > 0x7fffffff)
        throw cli_usage_error{fmt::format("{} must be a non-negative number, not '{}'", what, text), verb};
    return v;
}

daemon_args daemon_args_of(const cli_parsed& p)
{
    daemon_args d;
    d.verb = p.verb->name;
    for (auto& [id, value] : p.options) {
        auto number = [&, id = id] {
            std::string_view name;
            for (auto& o : options)
                if (o.id == id) name = o.name;
            return static_cast<int>(parse_number(d.verb, fmt::format("option '{}'", name), value));
        };
        switch (id) {
        case o_socket:
            d.socket_flag = value;
            break;
        case o_project:
            d.project_flag = value;
            break;
        case o_config:
            d.config_file = value;
            break;
        case o_check_config:
            d.check_only = true;
            break;
        case o_json:
            d.json = true;
            break;
        case o_in_container:
            d.in_container = true;
            break;
        case o_threads:
            d.threads = static_cast<unsigned>(number());
            break;
        case o_ready_fd:
            d.ready_fd = number();
            break;
        case o_request_timeout:
            d.request_timeout = std::chrono::milliseconds(number());
            break;
        case o_stop_grace:
            d.stop_grace = std::chrono::milliseconds(number());
            break;
        }
    }
    if (d.verb == "cancel") d.cancel_id = parse_number(d.verb, "the session ID", p.args.at(0));
    return d;
}

/// The verbs that find a daemon (or are one).
struct verb_runner {
    std::string_view name;
    int (*run)(const daemon_args&, const context&);
    /// A daemon never runs with part of its configuration; a client
    /// leaves a broken file out, so that a typo never keeps the user from
    /// stopping or asking the daemon that runs.
    config_errors on_config_error = config_errors::leave_out;
};
constexpr verb_runner runners[] = {
    {"serve", serve, config_errors::fail},
    {"start", start, config_errors::fail},
    {"restart", restart, config_errors::fail},
    {"stop", stop},
    {"reload", reload},
    {"status", status},
    {"ps", ps},
    {"cancel", cancel},
    {"watch", watch},
};

int run_verb(const cli_parsed& p)
{
    std::string_view verb = p.verb->name;
    if (verb == "trust") {
        trust_args t{p.has(o_list), p.has(o_revoke), {}};
        if (!p.args.empty()) t.file = p.args[0];
        return trust(t);
    }
    if (verb == "install-units") {
        std::string dir = install_user_units(self_executable(), p.args.empty() ? "" : p.args[0]);
        fmt::print("pfd: wrote {0}/pfd.socket and {0}/pfd.service\n"
                   "enable with: systemctl --user daemon-reload && systemctl --user enable --now pfd.socket\n",
                   dir);
        return 0;
    }
    for (auto& row : runners) {
        if (row.name != verb) continue;
        auto d = daemon_args_of(p);
        // Files (system, user, project, --config), then flags: later wins.
        auto ctx = verb == "serve"
                       ? serve_context(d)
                       : resolve_context(d.socket_flag, d.project_flag, d.config_file, {}, row.on_config_error);
        report_left_out(ctx, "pfd");
        return row.run(d, ctx);
    }
    throw std::logic_error(fmt::format("verb '{}' has no runner", verb));
}

} // namespace

int pfd_main(int argc, char** argv)
{
    try {
        auto p = parse_command_line(program, argc, argv);
        if (p.version) {
            fmt::print("pfd {} ({})\n", version(), build_id());
            return 0;
        }
        if (p.help) {
            print_help(program, p.verb, stdout);
            return 0;
        }
        return run_verb(p);
    } catch (const cli_usage_error& e) {
        return report_usage_error(program, e);
    } catch (const std::exception& e) {
        fmt::print(stderr, "pfd: {}\n", e.what());
        return 1;
    }
}

} // namespace pfd
