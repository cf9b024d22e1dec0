#pragma once
// Which file a command name runs, decided once, before anything runs: the
// daemon opens it here, matches [policy] against that open file and the
// child executes that very descriptor (execveat), so no name is resolved a
// second time in another context: not after the child's fchdir, not after
// its descriptors move, not in a mount namespace the client made (spec §7;
// docs/security.md).

#include "unique_fd.hpp"
#include "working_directory.hpp"

#include <string>
#include <vector>

namespace pfd {

struct found_program {
    /// The path the lookup found it by, as execvpe(3) would pass it to
    /// execve (relative names stay relative to the command's directory):
    /// what a script gets as $0, and what messages name.
    std::string name;
    /// The file itself (O_PATH): what [policy] judges and the child runs.
    unique_fd file;
    file_identity identity;
};

/// Looks `name` up as execvpe(3) does, with PATH from `env` (the command's
/// environment; glibc's "/bin:/usr/bin" without one), relative names and
/// PATH entries from the directory `dir` (-1: none, e.g. it does not exist),
/// absolute ones from this process's root. No /proc link is followed and no
/// file on /proc is taken. Throws spawn_error: not_found, not_executable, or
/// bad_cwd (naming `dir_name`) when a relative name has no directory to
/// start from.
found_program find_program(const std::string& name, const std::vector<std::string>& env, int dir,
                           const std::string& dir_name);

/// The file at `path` itself, with no PATH search (what execve(2) does with
/// a name): as find_program() does with a name that holds a '/'.
found_program open_program(const std::string& path, int dir, const std::string& dir_name);

/// The file's path here as the kernel names its descriptor, when that path
/// leads to the same file (device and inode); else empty. A descriptor of
/// another mount namespace has a name there that means another file here,
/// or none.
std::string path_here(const found_program& file);

/// `path` opened as O_PATH from `dir` (AT_FDCWD: this process's), through
/// no /proc magic link; -1 with errno set when it cannot be.
unique_fd open_path(int dir, const std::string& path, int extra_flags = 0);

/// The directories of a PATH value, in order; an empty one ("a::b", a
/// leading or trailing ':') means the current directory, as for execvp.
std::vector<std::string> path_entries(const std::string& path);

/// The PATH a command with environment `env` searches.
std::string search_path_of(const std::vector<std::string>& env);

/// `path` with every symlink, "." and ".." resolved; empty when it cannot be.
std::string resolved_path(const std::string& path);

/// True when `dir` (resolved) and every directory above it belong to root and
/// are writable by nobody else: only root can have put a name there.
bool root_controlled_directory(const std::string& dir);

} // namespace pfd
