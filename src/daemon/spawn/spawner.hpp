#pragma once
// Starting a command with exactly the descriptors it is given (spec §7).
// POSIX only, no sockets: usable and testable without the daemon.
//
// Everything the child needs is laid out before clone(); the child then runs
// only async-signal-safe system calls until execve. It shares the parent's
// memory (CLONE_VM | CLONE_VFORK, as posix_spawn does) so starting it costs no
// page-table copy, and the kernel hands back a pidfd atomically
// (CLONE_PIDFD), so the process is never addressed by a pid that could be
// reused. exec failures come back through that shared memory.

#include "program_launch.hpp"
#include "spawn_error.hpp"
#include "unique_fd.hpp"
#include "working_directory.hpp"

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pfd {

/// What to run and in which context.
struct spawn_spec {
    /// The file the child executes, opened and judged before (program_launch):
    /// this very descriptor is run (execveat), no name is resolved again.
    int program_fd = -1;
    /// For a file that is neither ELF nor a script: /bin/sh (with program_fd,
    /// its descriptor) and its argument list, run when the kernel answers
    /// ENOEXEC.
    int shell_fd = -1;
    std::vector<std::string> shell_argv;
    /// Without program_fd: the file to execute by name (the daemon's own
    /// helper); empty: argv[0] looked up (find_program, launch_of) over env's
    /// PATH from cwd.
    std::string program;
    std::vector<std::string> argv;
    /// What messages call the command; empty: argv[0] (a script's argv
    /// starts with its interpreter).
    std::string name;
    std::vector<std::string> env;
    std::string cwd = "/";
    /// The directory itself. The child enters it by `cwd` when
    /// `cwd_identity` says what a stat() of that name must show (checked
    /// after the chdir: a rename may have raced it), else, and when the
    /// check fails, by the descriptor (fchdir).
    int cwd_fd = -1;
    std::optional<file_identity> cwd_identity;
    mode_t umask = 022;
    /// (descriptor in this process, number it gets in the child); nothing
    /// else stays open in the child.
    std::vector<std::pair<int, int>> fds;
    /// A new session; else a new process group.
    bool new_session = false;
    /// With new_session: the descriptor (its number in the child) that
    /// becomes the session's controlling terminal; -1: none.
    int controlling_terminal = -1;
    /// Soft/hard RLIMIT_NOFILE for the child (the daemon may have raised its own).
    std::optional<rlimit> nofile;
    /// Sent to the child when the thread that started it dies (the daemon
    /// killed outright, prctl PR_SET_PDEATHSIG); 0: none.
    int parent_death_signal = 0;
};

/// A started child: its pid (= its process group id) and the pidfd that owns it.
struct child_process {
    pid_t pid = -1;
    unique_fd pidfd;
};

/// Makes `spec` run what `launch` worked out for the command `argv`: its
/// stable name with `argv`, or its executed file's descriptor (and the
/// shell's) with the launch's leading words and argv[1..]. `launch` must
/// outlive the spawn.
void set_program(spawn_spec& spec, const program_launch& launch, std::vector<std::string> argv);

/// Starts the command. Throws spawn_error: not_found, not_executable, bad_cwd
/// or spawn_failed.
child_process spawn(const spawn_spec& spec);

/// How a child ended.
struct exit_status {
    std::optional<int> code; ///< set when it exited
    int signo = 0;           ///< else the signal that killed it
    bool core = false;
};

/// Reaps the child behind `pidfd` if it has exited (never blocks). Throws
/// std::system_error if the pidfd is not a waitable child.
std::optional<exit_status> try_reap(int pidfd);

/// Blocks until the child behind `pidfd` exits and reaps it.
exit_status reap(int pidfd);

/// The RLIMIT_NOFILE this process had when first asked; the daemon raises its
/// own and children get this one back.
const rlimit& original_nofile_limit();

} // namespace pfd
