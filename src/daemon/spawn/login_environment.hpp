#pragma once
// The environment a login builds, as `su -l`, login(1) and sshd build one:
// what a container client's command starts from when no systemd user
// manager answers on the user bus (session_environment.hpp). Nothing of the
// shell that started the daemon: not its PATH (a venv's), not its
// variables, not its bookkeeping.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// Where a login environment comes from; every file a parameter, so that a
/// test can point them elsewhere.
struct login_sources {
    uid_t uid = 0;
    std::string login_defs = "/etc/login.defs";
    std::string environment = "/etc/environment";
    std::string default_locale = "/etc/default/locale"; ///< Debian's
    std::string locale_conf = "/etc/locale.conf";       ///< systemd's, when Debian's is absent
    std::string run_user = "/run/user";
    /// The daemon's own environment: only its XDG_RUNTIME_DIR and the
    /// session's display and agent variables (session_variable) are taken.
    std::vector<std::string> daemon_env;
};

/// The login sources of the daemon: its uid, the system's files, its environ.
login_sources system_login_sources();

/// HOME, SHELL, USER, LOGNAME (the passwd entry), MAIL (login.defs MAIL_DIR),
/// PATH (login.defs ENV_SUPATH for root, else ENV_PATH, or Debian's
/// defaults), then /etc/environment, the system locale, XDG_RUNTIME_DIR,
/// and the daemon's values of the session variables.
std::vector<std::string> login_environment(const login_sources& from);

/// Variables of the graphical or ssh session the daemon's user is in,
/// passed from the daemon's environment: DISPLAY, WAYLAND_DISPLAY,
/// XAUTHORITY, SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS, XDG_SESSION_*,
/// XDG_CURRENT_DESKTOP, XDG_SEAT, XDG_VTNR, DESKTOP_SESSION.
bool session_variable(std::string_view name);

/// KEY=VALUE lines as pam_env reads /etc/environment and
/// /etc/default/locale: `#` comments, blank lines, an optional `export `,
/// the value's quotes taken off. Lines without a name or '=' are skipped.
std::vector<std::string> read_env_file(const std::string& path);

} // namespace pfd
