#pragma once
// The daemon's life as one state machine: serving, then a stop or a
// hand-over, then stopped. Pure logic (no Asio, no clock, no descriptor):
// each event returns the next state's actions for the server to carry out,
// on its `control` strand, so that tests walk the table directly.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace pfd {

/// Where the daemon is in its life.
enum class life_state : std::uint8_t {
    serving,  ///< accepting; commands run
    draining, ///< a stop: accept no more, give running commands the grace
    ending,   ///< SIGTERM sent to what still runs: the grace again, then SIGKILL
    retiring, ///< handed over: accept no more, wait for commands without a deadline
    stopped,  ///< nothing more to do: the io_context runs out of work
};

/// Who asks for a stop; they differ (see the table in daemon_life.cpp).
enum class stopper : std::uint8_t {
    signal, ///< SIGINT or SIGTERM
    call,   ///< server::stop() of an embedding program
    asker,  ///< a client's `stop` (`pfd stop`), whose connection is kept
};

/// What the server does on a transition, as bits, in this order.
enum class life_action : std::uint16_t {
    none = 0,
    close_acceptor = 1 << 0, ///< accept no more connections
    remove_socket = 1 << 1,  ///< remove the socket file (a stop; notify systemd STOPPING=1)
    leave_socket = 1 << 2,   ///< leave the socket file to the successor
    terminate = 1 << 3,      ///< SIGTERM + SIGCONT what runs; askers told `term`
    kill = 1 << 4,           ///< SIGKILL what runs; askers told `kill`
    tell_ended = 1 << 5,     ///< askers told `ended`: nothing runs any more
    wait = 1 << 6,           ///< a new wait starts now: grace() long (no deadline when retiring)
    shorten_wait = 1 << 7,   ///< the wait in progress ends at its start + the new grace()
    apply_config = 1 << 8,   ///< re-read the configuration and replace it whole
    finish = 1 << 9,         ///< stopped: no more signals, watchers dropped, wait cancelled
};

constexpr life_action operator|(life_action a, life_action b)
{
    return static_cast<life_action>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(life_action set, life_action one)
{
    return (static_cast<unsigned>(set) & static_cast<unsigned>(one)) != 0;
}

/// Whether a `restart` may hand the socket over now.
enum class hand_over_answer : std::uint8_t {
    go,       ///< serving: start the successor, then handed_over()
    already,  ///< a successor has the socket: nothing to do, and no error
    stopping, ///< a stop is under way (the socket is closed): refused
};

class daemon_life {
public:
    using ms = std::chrono::milliseconds;

    life_state state() const noexcept { return state_; }
    /// How long each wait of the stop takes: the grace the stop started
    /// with, or a later, shorter one a `stop` asked for.
    ms grace() const noexcept { return grace_; }

    /// SIGTERM, server::stop() or `pfd stop` with its `grace` (the caller
    /// passes the live configuration's when the asker named none); `running`:
    /// the commands that run now.
    life_action request_stop(ms grace, stopper who, std::size_t running);
    hand_over_answer may_hand_over() const noexcept;
    /// A successor serves the socket now.
    life_action handed_over(std::size_t running);
    /// SIGHUP or `pfd reload`.
    life_action reload() const noexcept;
    /// The last running command ended.
    life_action commands_ended();
    /// The wait in progress reached its deadline; `running` still run.
    life_action wait_over(std::size_t running);

private:
    /// Out of a wait: SIGTERM to what runs (and wait again), or done.
    life_action end_commands(std::size_t running);

    life_state state_ = life_state::serving;
    ms grace_{};
    bool handed_over_ = false;
};

} // namespace pfd
