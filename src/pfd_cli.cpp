#include "pfd_cli.hpp"

#include "pfd_verbs.hpp"
#include "shim.hpp"
#include "systemd.hpp"
#include "pfd/version.hpp"

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

void print_usage(std::FILE* to)
{
    fmt::print(to,
               "Usage: pfd serve [OPTIONS]     run the daemon in the foreground until SIGINT/SIGTERM\n"
               "       pfd start [OPTIONS]     start it in the background; returns once it is ready\n"
               "       pfd stop [OPTIONS]      stop the background daemon (drains running commands)\n"
               "       pfd status [--json] [OPTIONS]  pid, socket, uptime, version, sessions, latency, RSS\n"
               "       pfd ps [--json] [OPTIONS]      running commands: id, pid, peer uid/pid, age, argv\n"
               "       pfd watch [OPTIONS]            every event of every session, as NDJSON, as it happens\n"
               "       pfd cancel ID [OPTIONS]        SIGTERM to its group, SIGKILL after [limits] cancel_grace_ms\n"
               "       pfd restart [OPTIONS]   hand the socket to a new daemon; running commands go on\n"
               "       pfd reload [OPTIONS]    make the daemon read its configuration again (or SIGHUP)\n"
               "       pfd install-units [DIR]  write systemd user units (pfd.socket, pfd.service)\n"
               "       pfd trust [FILE]         honour a project's .pfd.toml (default: the nearest) as it is now\n"
               "       pfd trust --list | --revoke [FILE]\n"
               "       pfd --version | --help\n\n"
               "  --socket PATH   where to listen (default: $PFD_SOCKET, then discovery)\n"
               "  --project NAME  the project's daemon ($XDG_RUNTIME_DIR/pfd.NAME.sock)\n"
               "  --config FILE   read FILE after /etc/pfd/config.toml and ~/.config/pfd/config.toml\n"
               "  --check-config  only validate the configuration\n"
               "  --threads N     worker threads (default: one per core but one)\n"
               "  --ready-fd N    write a newline to descriptor N once serving, then close it\n"
               "  --request-timeout-ms N   time a client has to send its request line (5000)\n"
               "  --stop-grace-ms N        on SIGTERM, time running commands get before SIGTERM,\n"
               "                           and again before SIGKILL (10000)\n");
}

int parse_number(std::string_view option, std::string_view text)
{
    int v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v < 0)
        throw cli_usage_error{fmt::format("option '{}' needs a non-negative number, not '{}'", option, text)};
    return v;
}

daemon_args parse_daemon_args(int argc, char** argv)
{
    daemon_args d;
    d.verb = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        auto is = [&](std::string_view name) { return a == name || (a.starts_with(name) && a[name.size()] == '='); };
        auto value = [&](std::string_view name) -> std::string_view {
            if (a.size() > name.size()) return a.substr(name.size() + 1);
            if (i + 1 >= argc) throw cli_usage_error{fmt::format("option '{}' needs a value", name)};
            return argv[++i];
        };
        auto ms = [&](std::string_view name) { return std::chrono::milliseconds(parse_number(name, value(name))); };
        if (is("--socket"))
            d.socket_flag = value("--socket");
        else if (is("--project"))
            d.project_flag = value("--project");
        else if (is("--config"))
            d.config_file = value("--config");
        else if (d.verb == "cancel" && !a.empty() && a[0] != '-' && !d.cancel_id)
            d.cancel_id = static_cast<std::uint64_t>(parse_number("ID", a));
        else if (a == "--json" && (d.verb == "status" || d.verb == "ps"))
            d.json = true;
        else if (a == "--check-config" && d.verb == "serve")
            d.check_only = true;
        else if (is("--threads") && d.verb != "stop")
            d.threads = static_cast<unsigned>(parse_number("--threads", value("--threads")));
        else if (is("--request-timeout-ms") && d.verb != "stop")
            d.request_timeout = ms("--request-timeout-ms");
        else if (is("--stop-grace-ms"))
            d.stop_grace = ms("--stop-grace-ms");
        else if (is("--ready-fd") && d.verb == "serve")
            d.ready_fd = parse_number("--ready-fd", value("--ready-fd"));
        else
            throw cli_usage_error{fmt::format("unknown option '{}' for '{}'", a, d.verb)};
    }
    return d;
}

/// The verbs that find a daemon (or are one).
struct verb_row {
    std::string_view name;
    int (*run)(const daemon_args&, const context&);
};
constexpr verb_row verbs[] = {
    {"serve", serve},   {"start", start}, {"stop", stop},     {"reload", reload}, {"restart", restart},
    {"status", status}, {"ps", ps},       {"cancel", cancel}, {"watch", watch},
};

} // namespace

int pfd_main(int argc, char** argv)
{
    try {
        std::string_view verb = argc > 1 ? argv[1] : "";
        if (verb == "--help" || verb == "-h" || verb == "help") {
            print_usage(stdout);
            return 0;
        }
        if (verb == "--version") {
            fmt::print("pfd {} ({})\n", version(), build_id());
            return 0;
        }
        if (verb == "trust") return trust(argc, argv);
        if (verb == "install-units") {
            std::string dir = install_user_units(self_executable(), argc > 2 ? argv[2] : "");
            fmt::print("pfd: wrote {0}/pfd.socket and {0}/pfd.service\n"
                       "enable with: systemctl --user daemon-reload && systemctl --user enable --now pfd.socket\n",
                       dir);
            return 0;
        }
        for (auto& row : verbs) {
            if (row.name != verb) continue;
            auto d = parse_daemon_args(argc, argv);
            // Files (system, user, project, --config), then flags: later wins.
            return row.run(d, resolve_context(d.socket_flag, d.project_flag, d.config_file));
        }
        if (verb.empty()) throw cli_usage_error{"no verb given"};
        throw cli_usage_error{fmt::format("unknown verb '{}'", verb)};
    } catch (const cli_usage_error& e) {
        fmt::print(stderr, "pfd: {}\n", e.message);
        print_usage(stderr);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "pfd: {}\n", e.what());
        return 1;
    }
}

} // namespace pfd
