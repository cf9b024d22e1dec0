#pragma once
// Which file a command name runs, decided once, before anything runs: the
// daemon matches [policy] against this file and executes exactly it, with no
// second lookup (spec §7; docs/security.md).

#include <string>
#include <vector>

namespace pfd {

struct found_program {
    /// What to pass to execve: as execvpe(3) would (relative names stay
    /// relative to the command's working directory).
    std::string exec_path;
    /// The same file as an absolute path, without resolving symlinks.
    std::string absolute;
};

/// Looks `name` up as execvpe(3) does, but with PATH from `env` (the
/// command's environment; glibc's "/bin:/usr/bin" without one) and relative
/// names taken from `cwd`. Throws spawn_error: not_found, not_executable, or
/// bad_cwd when a relative name meets a working directory that does not exist.
found_program find_program(const std::string& name, const std::vector<std::string>& env, const std::string& cwd);

/// The directories of a PATH value, in order; an empty one ("a::b", a
/// leading or trailing ':') means the current directory, as for execvp.
std::vector<std::string> path_entries(const std::string& path);

/// `path` with every symlink, "." and ".." resolved; empty when it cannot be.
std::string resolved_path(const std::string& path);

/// True when `dir` (resolved) and every directory above it belong to root and
/// are writable by nobody else: only root can have put a name there.
bool root_controlled_directory(const std::string& dir);

} // namespace pfd
