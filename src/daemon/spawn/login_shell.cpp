// Only `pfd` links this (server_options::login_shell): getpwuid_r in a
// static binary (hostexec, democli) needs glibc's NSS modules at run time.

#include "login_shell.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace pfd {

passwd_entry passwd_of(uid_t uid)
{
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    passwd entry{};
    passwd* found = nullptr;
    int error;
    while ((error = ::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (error != 0 || !found) return {};
    auto str = [](const char* s) { return std::string(s ? s : ""); };
    return {str(found->pw_name), str(found->pw_dir), str(found->pw_shell)};
}

std::string passwd_shell(uid_t uid)
{
    std::string shell = passwd_of(uid).shell;
    return shell.empty() ? "/bin/sh" : shell;
}

} // namespace pfd
