#pragma once

namespace pfd {

/// The whole of `hostexec`: parses the command line, hands the command and
/// this process's descriptors to the daemon, and returns the exit status to
/// use; when the command was killed by a signal it kills this process with
/// the same signal instead of returning.
int hostexec_main(int argc, char** argv);

} // namespace pfd
