#pragma once
// hostexec ends or stops as the command did, so that its shell sees the
// same job: the same signal, the same stop.

namespace pfd {

/// Ends this process the way the command ended: same signal, no core dump.
[[noreturn]] void die_of(int signo);

/// Stops this process with `signo` as a local job would stop; returns once
/// continued (SIGCONT from the shell's `fg`).
void stop_self(int signo);

} // namespace pfd
