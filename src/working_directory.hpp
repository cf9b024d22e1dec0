#pragma once
// The directory a command starts in. A client in a container names it by a
// path that may mean another directory here (its /srv, /tmp, /work are its
// own), so hostexec sends the directory itself, as a descriptor; the path
// stays for display and for clients that send none.

#include "unique_fd.hpp"

#include <string>
#include <vector>

namespace pfd {

struct working_directory {
    std::string path; ///< as the client names it
    unique_fd fd;     ///< the directory itself, when the client sent it

    /// A name this daemon can resolve paths under: /proc/self/fd/N for the
    /// descriptor, else the client's path.
    std::string here() const;
};

/// Takes the directory descriptor off the front of `attached` when the
/// request says one is there. Throws protocol_error(bad_cwd) when it is no
/// directory.
working_directory take_working_directory(std::string path, bool sent_as_descriptor, std::vector<unique_fd>& attached);

/// PWD as the command should see it, when the client sent one: the client's
/// when its path names the same directory here, else this directory's path
/// here, or none when it has no name here (a directory private to a
/// container).
void set_pwd(std::vector<std::string>& env, const working_directory& dir);

} // namespace pfd
