#pragma once
// A mount namespace's table as /proc/PID/mountinfo tells it: which part of
// which file system each mount shows, and where. The daemon reads a
// container client's table to find where the client's directory is mounted
// from, and its own to find a name for that place here.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

struct mount_entry {
    unsigned long id = 0;
    dev_t device = 0;  ///< major:minor of the file system
    std::string root;  ///< the directory of the file system the mount shows
    std::string point; ///< where it is mounted, in its namespace
    std::string type;  ///< the file system type ("ext4", "fuse.sshfs")
};

/// The entries of a mountinfo text; lines that do not parse are left out
/// (the caller verifies every name it derives from them).
std::vector<mount_entry> parse_mountinfo(std::string_view text);

/// /proc/PID/mountinfo (or /proc/self/mountinfo for pid 0) read and parsed;
/// empty when it cannot be read.
std::vector<mount_entry> read_mountinfo(pid_t pid);

/// The mount ID of the mount an open descriptor is on (/proc/self/fdinfo).
std::optional<unsigned long> mount_id_of(int fd);

/// Whether a file system of this type may leave a caller waiting for good:
/// FUSE ("fuse", "fuse.*", "fuseblk", "fuseblk.*"), whose server is a
/// process, perhaps the client's own, that need never answer.
bool may_hang(std::string_view type);

/// `path` relative to `dir` when it is `dir` or below it ("" for `dir`
/// itself, else starting with '/'); nothing otherwise. Whole components
/// only: /srv is not above /srvx.
std::optional<std::string_view> below(std::string_view path, std::string_view dir);

} // namespace pfd
