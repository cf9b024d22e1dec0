#pragma once
// AF_UNIX stream sockets with the hygiene of spec §5: sun_path checked,
// 0600 sockets, stale sockets replaced and live ones never stolen.

#include "unique_fd.hpp"

#include <sys/types.h>

#include <string>
#include <utility>

namespace pfd {

/// Throws std::runtime_error unless the directory of `path` is ours and
/// writable by nobody else (spec §5): whoever else could write there could
/// replace the socket, or plant what lies beside it (pidfile, lock). A
/// missing directory (the last one only) is made, mode 0700.
void check_socket_directory(const std::string& path);

/// Creates, binds (umask 077 around bind) and listens on `path` (after
/// check_socket_directory). A socket
/// file nobody answers on is replaced; one a daemon answers on is not:
/// throws std::runtime_error "a daemon is already listening on '...'".
unique_fd listen_unix(const std::string& path, int backlog = 512);

/// Connects to `path` (blocking, close-on-exec). Throws std::system_error
/// naming the path.
unique_fd connect_unix(const std::string& path);
/// The message of connect_unix()'s std::system_error.
std::string connect_failure(const std::string& path);
/// connect_unix() that reports a refused or missing socket as a value (the
/// error, 0 when connected): hostexec's first attempt before it starts a
/// daemon. A throw costs ~1 ms in a static binary (libgcc sorts every FDE
/// on the first one), most of a cold start.
std::pair<unique_fd, int> try_connect_unix(const std::string& path);

/// The kernel's word on who is at the other end.
struct peer_credentials {
    pid_t pid = -1;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

/// SO_PEERCRED of a connected socket. Throws std::system_error.
peer_credentials peer_of(int sock);

} // namespace pfd
