#pragma once
// The systemd user manager's environment over the user bus, for
// session_environment.hpp's bus thread. sd-bus comes from libsystemd.so.0,
// opened at the first container client only.

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pfd {

/// What the bus thread found: the manager's block, or null with why not;
/// `ended`: the thread ends after this report. False once the daemon stops.
using manager_report =
    std::function<bool(std::shared_ptr<const std::vector<std::string>> manager, const std::string& why, bool ended)>;

/// Why there is plainly no user bus to connect to, before libsystemd is
/// loaded for nothing; "" when there may be one.
std::string no_user_bus();

/// The bus thread: connect, read, then follow until the connection goes or
/// `wake` (an eventfd) is written, reporting each finding to `publish`.
void follow_manager(int wake, const manager_report& publish);

} // namespace pfd
