// democli: the pre-fork pattern on libpfd's public API alone. The first
// `democli APPLET ...` starts a daemon (this same program, `democli serve`)
// in the background; every call after that is answered by the warm daemon,
// which runs the applet with this process's arguments, environment,
// directory and descriptors.
//
//     democli add 1 2 3        # 6
//     democli add 1 x 3        # 4, and "democli: add: 'x' is not a number" on stderr; exit 1
//     democli slow 20          # 20 steps of 100 ms with progress; Ctrl-C or `pfd cancel` stops it
//     democli stop             # stops the daemon

#include <pfd/applet.hpp>
#include <pfd/client.hpp>
#include <pfd/discovery.hpp>
#include <pfd/server.hpp>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// The number `text` spells out completely, if it does.
std::optional<double> number_of(std::string_view text)
{
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::string format_number(double value)
{
    char buf[64];
    if (std::nearbyint(value) == value && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, end);
}

/// add N...: the sum of the arguments that are numbers, on stdout; each one
/// that is not is named on stderr, and the exit status is then 1.
int add(pfd::applet_context& ctx)
{
    double sum = 0;
    bool all_numbers = true;
    for (std::size_t i = 1; i < ctx.argv().size(); ++i) {
        const std::string& arg = ctx.argv()[i];
        if (auto n = number_of(arg)) {
            sum += *n;
        } else {
            ctx.err("democli: add: '" + arg + "' is not a number\n");
            all_numbers = false;
        }
    }
    ctx.out(format_number(sum) + "\n");
    return all_numbers ? 0 : 1;
}

/// slow [STEPS]: STEPS steps of 100 ms each, reporting progress, stopping
/// early (status 128+signal) when cancelled or interrupted.
int slow(pfd::applet_context& ctx)
{
    long steps = 10;
    if (ctx.argv().size() > 1) {
        auto n = number_of(ctx.argv()[1]);
        if (!n || *n < 1 || *n > 100000 || std::nearbyint(*n) != *n) {
            ctx.err("democli: slow: '" + ctx.argv()[1] + "' is not a number of steps (1..100000)\n");
            return 2;
        }
        steps = static_cast<long>(*n);
    }
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    for (long done = 0; done < steps; ++done) {
        ctx.progress("step " + std::to_string(done + 1) + " of " + std::to_string(steps),
                     static_cast<int>(done * 100 / steps));
        // Sleeps, but wakes at once when asked to stop.
        wake.wait_for(lock, ctx.stop_token(), std::chrono::milliseconds(100), [] { return false; });
        if (ctx.stop_requested()) {
            int signo = ctx.stop_signal() ? ctx.stop_signal() : SIGTERM;
            ctx.err("democli: slow: stopped by SIG" + std::string(sigabbrev_np(signo) ? sigabbrev_np(signo) : "?") +
                    " after " + std::to_string(done) + " of " + std::to_string(steps) + " steps\n");
            return 128 + signo;
        }
    }
    ctx.progress("done", 100);
    ctx.out("done: " + std::to_string(steps) + " steps\n");
    return 0;
}

std::string socket_path(const char* flag)
{
    if (flag) return flag;
    if (const char* env = std::getenv("DEMOCLI_SOCKET"); env && *env) return env;
    return pfd::runtime_dir() + "/democli.sock";
}

std::string this_program()
{
    std::string path(PATH_MAX, '\0');
    ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
    if (n <= 0) return "democli";
    path.resize(static_cast<std::size_t>(n));
    return path;
}

int serve(const std::string& socket)
{
    pfd::server_options options;
    options.socket_path = socket;
    // options.daemon.threads: left automatic (one per core but one).
    options.applets = {{"add", add}, {"slow", slow}};
    // add returns at once: run on the daemon's thread, not handed to one of
    // its own (most of a call's time). slow waits, so it may not.
    options.quick_applets = {"add"};
    options.run_commands = false; // only the applets: this is no general launcher
    options.limits.cancel_grace = std::chrono::seconds(2);
    pfd::server(std::move(options)).run();
    return 0;
}

// stdio, not iostream: <iostream> builds the standard streams and their
// locales at every start (ios_base::Init), ~10 page faults and tens of
// microseconds of a call that should take a millisecond.
int usage(std::FILE* out, int status)
{
    std::fputs("usage: democli [--socket PATH] add NUMBER...\n"
               "       democli [--socket PATH] slow [STEPS]\n"
               "       democli [--socket PATH] serve     run the daemon in the foreground\n"
               "       democli [--socket PATH] stop      stop the daemon\n"
               "The first call starts the daemon in the background; later ones are answered by it.\n"
               "Socket: --socket, $DEMOCLI_SOCKET, or $XDG_RUNTIME_DIR/democli.sock.\n",
               out);
    return status;
}

void complain(const std::string& message)
{
    std::fputs(("democli: " + message + "\n").c_str(), stderr);
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const char* socket_flag = nullptr;
    if (args.size() >= 2 && args[0] == "--socket") {
        socket_flag = argv[2];
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.empty()) return usage(stderr, 2);
    if (args[0] == "--help" || args[0] == "-h") return usage(stdout, 0);
    try {
        std::string socket = socket_path(socket_flag);
        if (args[0] == "serve") return serve(socket);
        if (args[0] == "stop") {
            if (!pfd::client(socket).stop()) complain("no daemon on " + socket);
            return 0;
        }
        auto daemon = pfd::client::connect_or_start(socket, {this_program(), "--socket", socket, "serve"});
        pfd::run_options options;
        options.forward_signals = true; // Ctrl-C reaches the applet as a stop request
        options.on_event = [&](const pfd::event& ev) {
            if (auto* p = std::get_if<pfd::progress_event>(&ev))
                complain(args[0] + ": " + (p->percent ? std::to_string(*p->percent) + "% " : "") + p->message);
        };
        pfd::command cmd;
        cmd.argv = args;
        return pfd::shell_status(daemon.run(cmd, options));
    } catch (const pfd::protocol_error& e) {
        complain(e.what());
        return e.code() == pfd::errc::not_found ? 127 : 125;
    } catch (const std::exception& e) {
        complain(e.what());
        return 125;
    }
}
