#pragma once
// A pseudo-terminal the test plays the user at: programs run on its slave as
// their controlling terminal, the test types into the master and reads what
// a screen would show. Every read is bounded.

#include "harness.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace pfd::test {

class terminal {
public:
    terminal(unsigned short rows = 24, unsigned short cols = 80);
    ~terminal(); ///< kills and reaps what still runs
    terminal(const terminal&) = delete;
    terminal& operator=(const terminal&) = delete;

    /// Starts argv as the leader of a new session whose controlling
    /// terminal is this one (as a login shell is); `env` as for process.
    void start(std::vector<std::string> argv, std::vector<std::string> env = {});

    /// Writes keys as typed.
    void type(std::string_view keys);

    /// Reads until the output since the last expect() contains `needle`;
    /// returns that output (empty string on timeout, with the output so far
    /// kept for the failure message in seen()).
    std::string expect(std::string_view needle, milliseconds timeout = 20s);

    /// Everything shown since the last successful expect().
    const std::string& seen() const { return pending_; }

    /// Changes the window size (the kernel sends SIGWINCH to its foreground).
    void resize(unsigned short rows, unsigned short cols);

    /// The session leader's exit status (bounded wait; -1 on timeout).
    int wait(milliseconds timeout = 20s);

    pid_t leader() const { return pid_; }
    const std::string& slave_name() const { return slave_name_; }

private:
    unique_fd master_;
    std::string slave_name_;
    pid_t pid_ = -1;
    unique_fd pidfd_;
    std::string pending_;
    bool reaped_ = false;
};

/// Pids of the processes whose command line contains `needle`.
std::vector<pid_t> find_processes(std::string_view needle);

} // namespace pfd::test
