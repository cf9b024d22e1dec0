#pragma once
// `hostexec` without a command: the user's login shell. Only the daemon's
// side knows which shell that is (its user's passwd entry); a client in a
// container sees the container's /etc/passwd, if any.

#include <sys/types.h>

#include <string>
#include <string_view>

namespace pfd {

/// What login(1) takes from a passwd entry; all empty when there is none.
struct passwd_entry {
    std::string name, home, shell;
};
passwd_entry passwd_of(uid_t uid);

/// The shell of `uid`'s passwd entry; /bin/sh when it names none (as
/// login(1) does) or there is no entry.
std::string passwd_shell(uid_t uid);

/// argv[0] of a login shell: "-" and the file's name ("-bash"), the
/// convention that makes a shell read its profile.
inline std::string login_argv0(std::string_view shell)
{
    auto slash = shell.rfind('/');
    return "-" + std::string(slash == std::string_view::npos ? shell : shell.substr(slash + 1));
}

} // namespace pfd
