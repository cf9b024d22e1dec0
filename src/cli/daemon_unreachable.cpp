#include "daemon_unreachable.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include <fmt/format.h>

namespace pfd {

namespace {

/// How discovery came to this socket, as the user would recognise it.
std::string origin(const discovery_result& where)
{
    if (where.how == "flag") return "given with --socket";
    if (where.how == "env") return "from $PFD_SOCKET";
    if (where.how == "local") return "found in this directory";
    if (where.how == "project") return fmt::format("the socket of project '{}'", where.project);
    return "the default: $XDG_RUNTIME_DIR/pfd.sock";
}

/// What is at `path` when it is something other than a socket ("a
/// directory", "a regular file"...): connecting to it fails as to a socket
/// nobody listens on (ECONNREFUSED), or one we may not write (EACCES).
std::optional<std::string> not_a_socket(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0 || S_ISSOCK(st.st_mode)) return std::nullopt;
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISREG(st.st_mode)) return "a regular file";
    if (S_ISFIFO(st.st_mode)) return "a named pipe";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
    return "a special file";
}

} // namespace

bool nobody_listens(const std::string& socket, const std::system_error& e) noexcept
{
    int error = e.code().value();
    return error == ENOENT || (error == ECONNREFUSED && !not_a_socket(socket));
}

std::string unreachable_reason(const discovery_result& where, const std::system_error& e)
{
    const std::string& path = where.socket;
    int error = e.code().value();
    bool named = where.how == "flag" || where.how == "env";
    if (error == ENOENT && named) return fmt::format("no socket at '{}' ({})", path, origin(where));
    if (error == ENOENT) return fmt::format("no daemon runs on '{}' ({})", path, origin(where));
    if (error == ECONNREFUSED || error == EACCES)
        if (auto what = not_a_socket(path))
            return fmt::format("'{}' ({}) is {}, not a socket", path, origin(where), *what);
    if (error == ECONNREFUSED)
        return fmt::format("no daemon answers on '{}' ({}); the one that made it is gone", path, origin(where));
    if (error == EACCES) {
        struct stat st {};
        if (::stat(path.c_str(), &st) < 0)
            return fmt::format("cannot reach '{}': a directory on the way is closed to uid {}", path, ::getuid());
        return fmt::format("cannot connect to '{}': Permission denied; the socket is uid {}'s (mode {:04o}) and only "
                           "uid {} may connect: run as that user, or start a daemon of your own (pfd start)",
                           path, st.st_uid, st.st_mode & 07777, st.st_uid);
    }
    return e.what();
}

std::string start_command(const discovery_result& where)
{
    if (where.how == "runtime") return "pfd start";
    if (where.how == "project") return "pfd start --project " + where.project;
    return "pfd start --socket " + where.socket;
}

std::string how_to_start(const discovery_result& where)
{
    std::string command = fmt::format("'{}'", start_command(where));
    if (where.how != "runtime") return command;
    return command + ", or for good with 'systemctl --user enable --now pfd.socket'";
}

std::string not_started_in_container(const discovery_result& where, std::string_view kind)
{
    return fmt::format("no daemon on '{}', and one started here would run inside this container ({}), not on the "
                       "host: start it on the host with {}, and share its socket's directory with the container "
                       "(docs/containers.md)",
                       where.socket, kind, how_to_start(where));
}

} // namespace pfd
