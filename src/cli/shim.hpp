#pragma once
// Shims: symlinks named after a program that make `NAME args` run through
// the daemon, and the guard that stops a shim from reaching itself again.
//
// The loop: with a ~/.local/bin shared by container and host (distrobox),
// the daemon's PATH lookup of NAME finds the shim again, which would hand
// NAME to the daemon again, forever. A shim therefore marks the command it
// hands over with PFD_SHIM=NAME; a shim started with PFD_SHIM=NAME for its
// own name knows it is already on the daemon's side and runs the real NAME
// from PATH directly, skipping every link to hostexec.

#include <optional>
#include <string>
#include <vector>

namespace pfd {

inline constexpr const char* shim_guard_variable = "PFD_SHIM";

/// Creates DIR/NAME -> target for each name, DIR and its parents first if
/// missing; an existing symlink to the same target is kept, anything else in
/// the way is an error.
/// Throws std::runtime_error naming the path.
void install_shims(const std::string& dir, const std::vector<std::string>& names, const std::string& target);

/// The first NAME along `path` (a PATH value) that is not `self` (a real
/// path to this hostexec) once symlinks are resolved.
std::optional<std::string> find_real_program(const std::string& name, const std::string& path, const std::string& self);

/// `path` (a PATH value) without the directories where NAME is a shim of
/// hostexec: a program run through its shim must not find the shim when it
/// looks itself up (gcc finds its cc1 from where `gcc` is in PATH).
std::string path_without_shims(const std::string& path, const std::string& name, const std::string& self);

/// The real path of the running executable.
std::string self_executable();

} // namespace pfd
