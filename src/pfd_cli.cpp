#include "pfd/pfd_cli.hpp"

#include "pfd/config.hpp"
#include "pfd/discovery.hpp"
#include "pfd/server.hpp"
#include "pfd/shim.hpp"
#include "pfd/version.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

struct usage_error {
    std::string message;
};

void print_usage(std::FILE* to)
{
    fmt::print(to,
               "Usage: pfd serve [--socket PATH] [--config FILE] [--check-config] [--threads N] [--ready-fd N]\n"
               "       pfd --version | --help\n\n"
               "serve   run the daemon in the foreground until SIGINT/SIGTERM\n"
               "  --socket PATH   where to listen (default: $PFD_SOCKET, else $XDG_RUNTIME_DIR/pfd.sock)\n"
               "  --config FILE   read FILE after /etc/pfd/config.toml and ~/.config/pfd/config.toml\n"
               "  --check-config  only validate the configuration\n"
               "  --threads N     worker threads (default: one per core)\n"
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
        throw usage_error{fmt::format("option '{}' needs a non-negative number, not '{}'", option, text)};
    return v;
}

/// pfd-session next to this pfd (a build tree), else in the libexec dir.
std::string find_session_helper()
{
    std::string self = self_executable();
    for (std::string candidate : {self.substr(0, self.rfind('/') + 1) + "pfd-session",
                                  std::string(PFD_LIBEXECDIR) + "/pfd-session"})
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    fmt::print(stderr, "pfd: pfd-session not found: commands with a terminal will not stop on Ctrl-Z\n");
    return {};
}

int serve(int argc, char** argv)
{
    server_options options;
    std::string socket_flag, config_file;
    bool check_only = false;
    std::optional<unsigned> threads;
    std::optional<std::chrono::milliseconds> request_timeout, stop_grace;
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view name) -> std::string_view {
            if (a.size() > name.size() && a.starts_with(name) && a[name.size()] == '=')
                return a.substr(name.size() + 1);
            if (i + 1 >= argc) throw usage_error{fmt::format("option '{}' needs a value", name)};
            return argv[++i];
        };
        if (a == "--socket" || a.starts_with("--socket="))
            socket_flag = value("--socket");
        else if (a == "--config" || a.starts_with("--config="))
            config_file = value("--config");
        else if (a == "--check-config")
            check_only = true;
        else if (a == "--threads" || a.starts_with("--threads="))
            threads = static_cast<unsigned>(parse_number("--threads", value("--threads")));
        else if (a == "--request-timeout-ms" || a.starts_with("--request-timeout-ms="))
            request_timeout = std::chrono::milliseconds(parse_number("--request-timeout-ms", value("--request-timeout-ms")));
        else if (a == "--stop-grace-ms" || a.starts_with("--stop-grace-ms="))
            stop_grace = std::chrono::milliseconds(parse_number("--stop-grace-ms", value("--stop-grace-ms")));
        else if (a == "--ready-fd" || a.starts_with("--ready-fd="))
            options.ready_fd = parse_number("--ready-fd", value("--ready-fd"));
        else
            throw usage_error{fmt::format("unknown option '{}' for 'serve'", a)};
    }
    // Files, then flags: later wins.
    config cfg = load_config(default_config_files(), config_file);
    if (check_only) {
        fmt::print("pfd: configuration is valid\n");
        return 0;
    }
    options.threads = threads.value_or(cfg.threads);
    options.max_request_bytes = cfg.request_bytes;
    options.max_fds = cfg.fds;
    options.request_timeout = request_timeout.value_or(cfg.request_timeout);
    options.stop_grace = stop_grace.value_or(cfg.stop_grace);
    options.hangup_signal = cfg.hangup_signal;
    options.allow_uids = cfg.allow_uids;
    options.socket_path = find_socket(socket_flag);
    options.session_helper = find_session_helper();
    server daemon(std::move(options));
    daemon.run();
    return 0;
}

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
        if (verb == "serve") return serve(argc, argv);
        if (verb.empty()) throw usage_error{"no verb given"};
        throw usage_error{fmt::format("unknown verb '{}'", verb)};
    } catch (const usage_error& e) {
        fmt::print(stderr, "pfd: {}\n", e.message);
        print_usage(stderr);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "pfd: {}\n", e.what());
        return 1;
    }
}

} // namespace pfd
