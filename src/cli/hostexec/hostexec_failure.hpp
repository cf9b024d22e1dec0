#pragma once
// How hostexec's own failures travel to main: thrown, then printed and
// turned into its exit status.

#include <string>

namespace pfd {

/// A failure of hostexec itself: message and exit status (125, or 126/127
/// as env(1) reports a command it cannot run).
struct failure {
    int status;
    std::string message;
};

} // namespace pfd
