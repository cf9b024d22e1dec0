#pragma once
// Test harness: real processes, real pipes, a real daemon on a temporary
// socket. Every wait is bounded; nothing sleeps for readiness.

#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pfd::test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// Paths of the built programs (from the environment meson sets).
std::string pfd_binary();
std::string hostexec_binary();
std::string probe_binary();

/// `program` where every uid can run it: a copy in a world-readable
/// temporary directory (removed at exit), pfd-session beside pfd. The
/// checkout may sit where only its owner can reach (a clone in /root, which
/// is 0700), so whatever a test runs as another uid is run from there.
std::string for_other_uids(const std::string& program);

/// A private directory removed with its contents at the end of the test.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

/// How a process ended, and everything it wrote.
struct result {
    int status = -1; ///< raw wait status
    std::string out;
    std::string err;
    bool timed_out = false;

    bool exited() const;
    int code() const;   ///< exit code, -1 if killed
    int signal() const; ///< terminating signal, 0 if exited
    bool core() const;
};

struct spawn_options {
    std::vector<std::string> argv;
    /// "K=V" entries set on top of this test's environment; "K" alone removes K.
    std::vector<std::string> env;
    std::optional<std::string> cwd;
    std::optional<mode_t> umask;
    /// stdin: a pipe the test writes (default), or /dev/null.
    bool stdin_pipe = true;
    /// Extra descriptors: (descriptor in the test, number in the child).
    std::vector<std::pair<int, int>> fds;
    /// Run in a new session (no controlling terminal).
    bool new_session = false;
};

/// A child process with piped stdin/stdout/stderr.
class process {
public:
    explicit process(spawn_options options);
    ~process(); ///< kills and reaps if still running
    process(process&&) noexcept;
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    /// Queues data for stdin; what the pipe cannot take now is written while
    /// the other calls wait, so a test never deadlocks on a full pipe.
    void write_stdin(std::string_view data);
    /// Closes stdin once everything queued is written.
    void close_stdin();
    void signal(int signo) const;

    /// Reads stdout until it contains `needle` (bounded); returns all read so far.
    std::string read_stdout_until(std::string_view needle, milliseconds timeout = 20s);

    /// Waits for the process to exit (not for its pipes), bounded.
    int wait_status(milliseconds timeout = 30s);

    /// Reads both pipes to end of file and reaps, bounded: on timeout the
    /// process is killed and timed_out is set.
    result finish(milliseconds timeout = 30s);

private:
    bool pump(milliseconds timeout); // one poll round; false on timeout
    void flush_stdin();
    pid_t pid_ = -1;
    unique_fd pidfd_, in_, out_, err_;
    std::string out_buf_, err_buf_;
    std::string pending_in_;
    bool close_after_flush_ = false;
    std::optional<int> status_;
};

/// Runs to completion with `input` on stdin.
result run(spawn_options options, std::string_view input = {}, milliseconds timeout = 30s);

/// This process's environment with `changes` applied: "K=V" sets K, "K"
/// alone removes it.
std::vector<std::string> merged_environment(const std::vector<std::string>& changes);

/// `v`'s strings as the null-terminated array execve takes (pointing into `v`).
std::vector<char*> exec_pointers(std::vector<std::string>& v);

/// A pipe's two ends.
struct pipe_ends {
    unique_fd r, w;
};
/// A pipe, both ends close-on-exec unless `flags` says otherwise.
pipe_ends make_pipe(int flags = O_CLOEXEC);

/// A file's whole content ("" if it cannot be read).
std::string slurp(const std::string& path);

/// `{"pfd":1,"op":"exec",FIELDS}`, without its newline.
std::string exec_line(std::string_view fields);

/// Descriptors open in process `pid` (0: this one).
int open_fd_count(pid_t pid = 0);

/// Whether a program is installed in /usr/bin, /bin, /usr/sbin or /sbin.
bool have_program(const char* name);

/// Whether anything (a dangling symlink too) is at `path`.
bool exists(const std::string& path);

/// Sets (or, with nullopt, unsets) an environment variable of this process
/// for a scope, then puts back what was there.
class scoped_env {
public:
    scoped_env(std::string name, const std::optional<std::string>& value);
    ~scoped_env();
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::string name_;
    std::optional<std::string> previous_;
};

/// A user of their own: empty runtime, config, state and data directories
/// (PFD_SOCKET and PFD_PROJECT unset) and a working directory with nothing
/// in it; pfd and hostexec run there as that user.
struct user_env {
    temp_dir run, config, state, data, work;
    std::vector<std::string> env() const;
    /// Runs `argv` to completion in `work` with env().
    result run_in(std::vector<std::string> argv) const;
    result pfd(std::vector<std::string> args) const;
    result hostexec(std::vector<std::string> args) const;
    /// $XDG_CONFIG_HOME/pfd/config.toml with `text`; its path.
    std::string write_config(const std::string& text) const;
};

/// Polls `condition` every few milliseconds until true or `timeout`.
bool eventually(const std::function<bool()>& condition, milliseconds timeout = 10s);

/// A real `pfd serve` on a socket in its own temporary directory.
class running_daemon {
public:
    /// `prefix` runs before pfd (e.g. {"prlimit", "--nofile=64"}).
    explicit running_daemon(std::vector<std::string> extra_args = {}, std::vector<std::string> prefix = {});
    ~running_daemon();
    running_daemon(const running_daemon&) = delete;
    running_daemon& operator=(const running_daemon&) = delete;

    const std::string& socket() const { return socket_; }
    const temp_dir& dir() const { return dir_; }
    pid_t pid() const { return proc_->pid(); }

    /// hostexec --socket <this> args...
    std::vector<std::string> hostexec(std::vector<std::string> args) const;

    /// Runs hostexec to completion.
    result run(std::vector<std::string> args, std::string_view input = {}) const;

    /// Number of descriptors the daemon holds now.
    int open_fds() const;
    /// The daemon's resident memory now, in KiB (VmRSS).
    long resident_kib() const;
    /// The daemon's children that are zombies.
    int zombies() const;
    /// The daemon's children, any state.
    int children() const;

    /// SIGTERM, then the daemon's exit status (bounded), with its log.
    result stop(milliseconds timeout = 30s);

    /// What the daemon wrote so far.
    std::string log() const;

private:
    temp_dir dir_;
    std::string socket_;
    std::optional<process> proc_;
    std::optional<result> stopped_;
};

/// A listening socket at `path` that accepts nothing: connections queue.
unique_fd idle_listener(const std::string& path);

/// `pfd serve` running as uid 65534 (needs root and setpriv) in a directory
/// of its own that root can reach, its socket open to everyone: the daemon
/// of another user. SIGTERM and reaped when it goes; not copied (no member is).
class foreign_daemon {
public:
    foreign_daemon();
    ~foreign_daemon();
    const std::string& socket() const { return socket_; }

private:
    temp_dir dir_;
    std::string socket_;
    std::optional<process> proc_;
};

/// Why bwrap cannot make a sandbox here, or nothing when it can.
std::optional<std::string> bwrap_unusable();

/// Whether bwrap can make a sandbox here and each of `programs` is
/// installed (have_program); if not, the test says why (WARN) and the
/// caller skips the rest.
bool can_sandbox(std::initializer_list<const char*> programs = {});

/// Runs `script` (sh -c; $H is hostexec --socket of `d`) in a bwrap sandbox
/// that sees the host read-only, with `options` (bwrap's: mounts, --setenv)
/// on top: a client in another mount namespace, a container client to the
/// daemon.
result in_sandbox(const running_daemon& d, std::vector<std::string> options, const std::string& script);

/// Connects to a daemon's socket as a raw protocol client.
unique_fd connect_raw(const std::string& socket);

/// Reads from `fd` until a '\n'-terminated line arrives or the peer closes
/// (bounded); returns what was read.
std::string read_line(int fd, milliseconds timeout = 10s);

/// Reads until end of file (bounded).
std::string read_all(int fd, milliseconds timeout = 10s);

/// Reads `fd` until end of file, bounded: nullopt if it did not come in
/// time. A reset counts as end of file: a daemon that hangs up on a client
/// with unread bytes makes the kernel report ECONNRESET after its data.
std::optional<std::string> read_to_eof(int fd, milliseconds timeout = 20s);

} // namespace pfd::test
