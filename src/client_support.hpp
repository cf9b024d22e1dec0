#pragma once
// What the clients (hostexec, client.hpp, async_client.hpp) share: this
// process's context as a request, and the reading of events.

#include "pfd/client.hpp"
#include "pfd/protocol.hpp"

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// getcwd(), however long. Throws std::system_error.
std::string current_directory();
mode_t current_umask() noexcept;
/// Our environment, one entry per name (the first, as getenv sees it).
std::vector<std::string> current_environment();

/// A command's request and the descriptors to attach to it, in order.
struct prepared_run {
    exec_request request;
    std::vector<int> attached;
};

/// `plan`: number in the command -> descriptor here.
prepared_run prepare_run(const command& cmd, const std::map<int, int>& plan);

/// cmd.fds, or our 0, 1 and 2.
std::map<int, int> descriptor_plan(const command& cmd);

/// Refuses (std::runtime_error) a daemon that runs as another user, root aside.
void check_daemon_owner(int sock, const std::string& path);

/// One event line of a run: handed to the handler; an `error` event is
/// thrown as protocol_error; returns the `exited` event, the run's last.
std::optional<exited_event> take_event(std::string_view line, const run_options& options);

} // namespace pfd
