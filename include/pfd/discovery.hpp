#pragma once
// Where the daemon's socket is (spec §5), shared by client and daemon.

#include <string>

namespace pfd {

/// --socket, else PFD_SOCKET, else <runtime dir>/pfd.sock. `flag` is the
/// --socket value, empty when not given.
std::string find_socket(const std::string& flag);

/// $XDG_RUNTIME_DIR, else /run/user/$UID when it exists and is ours, else
/// /tmp/pfd-$UID created 0700 and checked (owner, mode, not a symlink), as
/// tmux does. Throws std::runtime_error when no safe directory can be had.
std::string runtime_dir();

} // namespace pfd
