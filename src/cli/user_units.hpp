#pragma once
// `pfd install-units`: the systemd user units that start the daemon on
// demand (socket activation) and tell systemd when it is ready.

#include <string>

namespace pfd {

/// Writes pfd.socket and pfd.service for `pfd_path` into `unit_dir`
/// (default $XDG_CONFIG_HOME/systemd/user); returns the directory. They are
/// the units `meson install` installs (data/pfd.*.in), but for the path.
std::string install_user_units(const std::string& pfd_path, std::string unit_dir = {});

} // namespace pfd
