#pragma once
// The directory a command starts in. A client in a container names it by a
// path that may mean another directory here (its /srv, /tmp, /work are its
// own), so hostexec sends the directory itself, as a descriptor. The command
// enters it by a name of the host's whenever the host has one (its path as
// the client gave it, or where the client's mount of it comes from): a
// directory entered through a descriptor of another mount namespace has no
// path from the root here, and getcwd() fails in git, make, Python, sh.
// The name is trusted only as far as it leads to the same directory (device
// and inode), here and again in the child after the chdir.

#include "unique_fd.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace pfd {

struct file_identity {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const file_identity&) const = default;
};

struct working_directory {
    std::string path; ///< as the client names it
    unique_fd fd;     ///< the directory itself, when the client sent it
    /// With fd: its name here, or empty when the host cannot name it (a
    /// directory of the container's own image or tmpfs). The container's
    /// own root maps to "/".
    std::string host_path;
    /// What a stat() of host_path shows: the descriptor's directory, or
    /// this root for a container's root.
    file_identity host_identity;
    /// With fd: the directory's own device and inode.
    file_identity identity;
    /// With fd: its file system may leave whoever touches it waiting for
    /// good (may_hang() of its mount's type; for a mount found in neither
    /// this daemon's table nor the client's, as a daemon in a chroot sees
    /// its own root's, an anonymous device that fusectl lists, or any when
    /// fusectl is not mounted): everything that touches it
    /// (naming it, looking the program up from it, entering it) must run
    /// off the daemon's I/O threads.
    bool may_hang = false;

    /// A name this daemon can resolve paths under: /proc/self/fd/N for the
    /// descriptor, else the client's path.
    std::string here() const;
};

/// Takes the directory descriptor off the front of `attached` when the
/// request says one is there, checks it is a directory and whether its file
/// system may hang (asking this daemon's mount table, then that of `client`,
/// a pid of this pid namespace, 0: unknown), without asking the file system
/// itself anything: cheap, and never waits on it. Throws
/// protocol_error(bad_cwd) when it is no directory.
working_directory take_working_directory(std::string path, bool sent_as_descriptor, std::vector<unique_fd>& attached,
                                         pid_t client);

/// Finds the sent directory's name here (host_path, host_identity), asking
/// the mount table of `client` where its mount comes from. Touches the
/// directory's file system: off the I/O threads when `dir.may_hang`.
void name_working_directory(working_directory& dir, pid_t client);

/// PWD as the command should see it, when the client sent one: the client's
/// when its path names the same directory here, else the directory's host
/// path, or none when it has no name here. Looks the client's PWD up (a
/// stat of it): with name_working_directory.
void set_pwd(std::vector<std::string>& env, const working_directory& dir);

} // namespace pfd
