// Only `pfd` links this (server_options::login_shell): getpwuid_r in a
// static binary (hostexec, democli) needs glibc's NSS modules at run time.

#include "login_shell.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace pfd {

std::string passwd_shell(uid_t uid)
{
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    passwd entry{};
    passwd* found = nullptr;
    int error;
    while ((error = ::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (error != 0 || !found || !found->pw_shell || !*found->pw_shell) return "/bin/sh";
    return found->pw_shell;
}

} // namespace pfd
