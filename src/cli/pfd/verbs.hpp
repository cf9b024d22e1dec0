#pragma once
// The verbs of `pfd` (pfd_cli.cpp parses the command line): the daemon's
// own (serve, start: daemon_verbs.cpp), those that talk to a running one
// (control_verbs.cpp) and trust (trust_verb.cpp).

#include "cli_table.hpp"
#include "context.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pfd {

/// The command line of every verb but install-units.
struct daemon_args {
    std::string verb;
    std::string socket_flag, project_flag, config_file;
    bool check_only = false;
    bool json = false;         ///< status, ps, watch: JSON lines instead of text
    bool in_container = false; ///< serve, start, restart: even inside a container
    std::optional<std::uint64_t> cancel_id;
    std::optional<unsigned> threads;
    std::optional<std::chrono::milliseconds> request_timeout, stop_grace;
    std::optional<int> ready_fd;
};

/// The context `pfd serve` runs with: a successor's is exactly what its
/// predecessor was started from ($PFD_CONFIG_SOURCES, config_sources.hpp),
/// the project file unchanged and still trusted; else the files found from
/// here. On an error, the reason goes to --ready-fd too. Throws.
context serve_context(const daemon_args& d);

int serve(const daemon_args& d, const context& ctx);
int start(const daemon_args& d, const context& ctx);

int stop(const daemon_args& d, const context& ctx);
int reload(const daemon_args& d, const context& ctx);
int restart(const daemon_args& d, const context& ctx);
int status(const daemon_args& d, const context& ctx);
int ps(const daemon_args& d, const context& ctx);
int cancel(const daemon_args& d, const context& ctx);
int watch(const daemon_args& d, const context& ctx);

/// `pfd trust [FILE] | --list | --revoke [FILE]` (trust_verb.cpp).
struct trust_args {
    bool list = false, revoke = false;
    std::optional<std::string> file;
};
int trust(const trust_args& t);

/// The pidfile: [daemon] pidfile, else beside the socket.
std::string pidfile_path(const context& ctx);

} // namespace pfd
