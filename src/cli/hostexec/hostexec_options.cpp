#include "hostexec_options.hpp"

#include "did_you_mean.hpp"

#include <charconv>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

int parse_fd(std::string_view text)
{
    int fd = -1;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
    if (ec != std::errc{} || p != text.data() + text.size() || fd < 0)
        throw usage_error{fmt::format("--forward-fd needs a descriptor number, not '{}'", text)};
    return fd;
}

/// Every long option, for "did you mean".
constexpr std::string_view long_options[] = {
    "--tty",          "--no-tty",     "--detach",         "--env",    "--unset-env", "--clear-env", "--env-forward",
    "--directory",    "--forward-fd", "--no-inherit-fds", "--socket", "--project",   "--create",    "--json",
    "--install-shim", "--version",    "--help",
};

usage_error unknown_option(std::string_view spelled)
{
    std::string_view name = spelled.substr(0, spelled.find('='));
    for (auto known : long_options)
        if (known == name) return usage_error{fmt::format("option '{}' takes no value", name)};
    std::string message = fmt::format("unknown option '{}'", name);
    // A short option is one letter: any other is as close, so none is suggested.
    if (name.size() > 2) {
        closest_word close(name);
        for (auto candidate : long_options) close.consider(candidate);
        if (!close.best().empty()) message += fmt::format("; did you mean '{}'?", close.best());
    }
    return usage_error{message};
}

std::string_view base_name(std::string_view path)
{
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace

const char* hostexec_usage() noexcept
{
    return "Usage: hostexec [OPTIONS] [--] COMMAND [ARG...]\n"
           "       hostexec [OPTIONS]       (no COMMAND: your login shell on the host, in a terminal)\n"
           "       hostexec --install-shim DIR NAME...\n"
           "Run COMMAND through the pfd daemon, with this process's descriptors (every one\n"
           "open without close-on-exec), environment and working directory.\n\n"
           "  -t, --tty            run in a new pseudo-terminal (default when stdin and stdout are terminals)\n"
           "  -T, --no-tty         never allocate a pseudo-terminal\n"
           "  -d, --detach         hand the command over, print its id and exit at once\n"
           "  --env=VAR=VALUE      set VAR in the command's environment\n"
           "  --unset-env=VAR      remove VAR from the command's environment\n"
           "  --clear-env          start the command with an empty environment\n"
           "  --env-forward=NAME,...  from a container: keep these variables of ours over the\n"
           "                       host's environment (--env ones are kept anyway)\n"
           "  --directory=DIR      run the command in DIR\n"
           "  --forward-fd=FD      also pass descriptor FD, even if close-on-exec (any number of times)\n"
           "  --no-inherit-fds     pass only descriptors 0-2 and those --forward-fd names, not\n"
           "                       every descriptor open without close-on-exec\n"
           "  --socket=PATH        daemon socket (default: $PFD_SOCKET, then discovery)\n"
           "  --project=NAME       use the project's daemon ($XDG_RUNTIME_DIR/pfd.NAME.sock)\n"
           "  -C, --create         start the daemon if none answers\n"
           "  --json               print the daemon's events (NDJSON) on stderr\n"
           "  --install-shim DIR NAME...  make DIR/NAME symlinks to hostexec: running NAME then\n"
           "                       runs NAME through the daemon\n"
           "  -V, --version        print hostexec's version and exit\n"
           "  -h, --help           show this help and exit\n\n"
           "Exit status: the command's; 125 if hostexec itself failed, 126 if the\n"
           "command cannot be executed, 127 if it was not found.\n";
}

hostexec_action parse_hostexec_args(int argc, char** argv)
{
    hostexec_options o;
    std::string_view self = argc > 0 ? base_name(argv[0]) : "hostexec";
    // Any name not starting with "hostexec" is a shim (hostexec-static,
    // hostexec.new and the like are still hostexec).
    if (!self.empty() && !self.starts_with("hostexec")) {
        // The command exactly as called: argv[0] stays what the caller gave
        // (a path stays a path); the daemon runs the program named `shim`.
        o.shim = std::string(self);
        for (int i = 0; i < argc; ++i) o.command.emplace_back(argv[i]);
        return o;
    }

    int i = 1;
    for (; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-') break;
        // "--name=value" or "--name value" for options that take a value.
        auto value_of = [&](std::string_view name) -> std::optional<std::string> {
            if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=')
                return std::string(a.substr(name.size() + 1));
            if (a != name) return std::nullopt;
            if (i + 1 >= argc) throw usage_error{fmt::format("option '{}' needs a value", name)};
            return std::string(argv[++i]);
        };
        if (a == "--help" || a == "-h") return print_help{};
        if (a == "--version" || a == "-V") return print_version{};
        if (a == "--json") {
            o.json = true;
        } else if (a == "-t" || a == "--tty") {
            o.tty = tty_mode::always;
        } else if (a == "-T" || a == "--no-tty") {
            o.tty = tty_mode::never;
        } else if (a == "-d" || a == "--detach") {
            o.detach = true;
        } else if (a == "-C" || a == "--create") {
            o.create = true;
        } else if (a == "--no-inherit-fds") {
            o.no_inherit_fds = true;
        } else if (a == "--clear-env") {
            o.clear_env = true;
        } else if (a == "--install-shim") {
            if (i + 2 >= argc) throw usage_error{"--install-shim needs a directory and at least one name"};
            install_shims_request s{argv[i + 1], {}};
            for (int k = i + 2; k < argc; ++k) s.names.emplace_back(argv[k]);
            return s;
        } else if (auto v = value_of("--socket")) {
            if (v->empty()) throw usage_error{"option '--socket' needs a path"};
            o.socket = *v;
        } else if (auto v = value_of("--project")) {
            o.project = *v;
        } else if (auto v = value_of("--env")) {
            auto eq = v->find('=');
            if (eq == std::string::npos || eq == 0)
                throw usage_error{fmt::format("--env needs VAR=VALUE, not '{}'", *v)};
            o.set_env.push_back(*v);
        } else if (auto v = value_of("--env-forward")) {
            for (std::size_t start = 0;;) {
                auto comma = v->find(',', start);
                std::string name = v->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (name.empty() || name.find('=') != std::string::npos)
                    throw usage_error{fmt::format("--env-forward needs variable names, not '{}'", *v)};
                o.env_forward.push_back(name);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (auto v = value_of("--unset-env")) {
            if (v->empty() || v->find('=') != std::string::npos)
                throw usage_error{fmt::format("--unset-env needs a variable name, not '{}'", *v)};
            o.unset_env.push_back(*v);
        } else if (auto v = value_of("--directory")) {
            if (v->empty()) throw usage_error{"option '--directory' needs a directory"};
            o.directory = *v;
        } else if (auto v = value_of("--forward-fd")) {
            o.forward_fds.push_back(parse_fd(*v));
        } else {
            throw unknown_option(a);
        }
    }
    for (; i < argc; ++i) o.command.emplace_back(argv[i]);
    o.login_shell = o.command.empty(); // as ssh, host-spawn and distrobox-host-exec do
    return o;
}

} // namespace pfd
