#include "daemon_unreachable.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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

} // namespace

bool nobody_listens(const std::system_error& e) noexcept
{
    return e.code().value() == ENOENT || e.code().value() == ECONNREFUSED;
}

std::string unreachable_reason(const discovery_result& where, const std::system_error& e)
{
    const std::string& path = where.socket;
    int error = e.code().value();
    bool named = where.how == "flag" || where.how == "env";
    if (error == ENOENT && named) return fmt::format("no socket at '{}' ({})", path, origin(where));
    if (error == ENOENT) return fmt::format("no daemon runs on '{}' ({})", path, origin(where));
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

} // namespace pfd
