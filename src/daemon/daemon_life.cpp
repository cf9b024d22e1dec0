#include "daemon_life.hpp"

// The transition table (tests/daemon_life_test.cpp walks every row).
// "running" is how many commands run when the event comes; the actions are
// carried out in the order of life_action's bits.
//
// state     event                      next      actions
// --------  -------------------------  --------  ---------------------------------------------
// serving   request_stop (any), run>0  draining  close_acceptor remove_socket wait; grace = its
// serving   request_stop (any), run=0  stopped   close_acceptor remove_socket tell_ended finish
// serving   handed_over, run>0         retiring  close_acceptor leave_socket wait (no deadline)
// serving   handed_over, run=0         stopped   close_acceptor leave_socket finish
// serving   commands_ended, wait_over  serving   -
// draining  request_stop (signal)      as wait_over: a second signal skips the wait
// draining  request_stop (asker)       draining  shorten_wait if its grace is shorter, else -
// draining  request_stop (call)        draining  -
// draining  wait_over, run>0           ending    terminate wait
// draining  wait_over, run=0           stopped   tell_ended finish
// draining  commands_ended             stopped   tell_ended finish
// ending    request_stop (signal)      as wait_over: a second signal skips the wait
// ending    request_stop (asker)       ending    shorten_wait if its grace is shorter, else -
// ending    request_stop (call)        ending    -
// ending    wait_over, run>0           stopped   kill finish
// ending    wait_over, run=0           stopped   tell_ended finish
// ending    commands_ended             stopped   tell_ended finish
// retiring  request_stop (signal/      ending    terminate wait; grace = its (not only a
//           asker), run>0                        shorter one: a hand-over had none)
// retiring  request_stop (same), run=0 stopped   tell_ended finish
// retiring  request_stop (call)        retiring  - (server::stop() only stops a serving daemon)
// retiring  commands_ended             stopped   finish (nobody asked: nobody to tell)
// retiring  wait_over                  retiring  - (its wait has no deadline)
// stopped   request_stop (asker)       stopped   - (a shorter grace is noted for the answer)
// stopped   anything else              stopped   -
// any       reload                     same      apply_config (a stop keeps the grace it has:
//                                                the new one is for the stops to come)
// draining, ending, stopped: handed_over changes nothing; may_hand_over() says `stopping`
// unless a hand-over came first (ending after retiring: `already`).
//
// SIGTERM and `pfd stop` differ: a second signal skips the wait in progress,
// a second `stop` only shortens it (to its own grace, if shorter); after a
// hand-over either ends the commands with its grace, but server::stop() does
// nothing there. An asker is answered with grace() after the step.

namespace pfd {

life_action daemon_life::request_stop(ms grace, stopper who, std::size_t running)
{
    switch (state_) {
    case life_state::serving:
        grace_ = grace;
        if (running == 0) {
            state_ = life_state::stopped;
            return life_action::close_acceptor | life_action::remove_socket | life_action::tell_ended |
                   life_action::finish;
        }
        state_ = life_state::draining;
        return life_action::close_acceptor | life_action::remove_socket | life_action::wait;
    case life_state::draining:
    case life_state::ending:
        if (who == stopper::signal) return wait_over(running);
        if (who == stopper::asker && grace < grace_) {
            grace_ = grace;
            return life_action::shorten_wait;
        }
        return life_action::none;
    case life_state::retiring:
        if (who == stopper::call) return life_action::none;
        grace_ = grace;
        return end_commands(running);
    case life_state::stopped:
        if (who == stopper::asker && grace < grace_) grace_ = grace;
        return life_action::none;
    }
    return life_action::none;
}

hand_over_answer daemon_life::may_hand_over() const noexcept
{
    if (handed_over_) return hand_over_answer::already;
    return state_ == life_state::serving ? hand_over_answer::go : hand_over_answer::stopping;
}

life_action daemon_life::handed_over(std::size_t running)
{
    if (state_ != life_state::serving) return life_action::none;
    handed_over_ = true;
    state_ = running == 0 ? life_state::stopped : life_state::retiring;
    return life_action::close_acceptor | life_action::leave_socket |
           (running == 0 ? life_action::finish : life_action::wait);
}

life_action daemon_life::reload() const noexcept
{
    return life_action::apply_config;
}

life_action daemon_life::commands_ended()
{
    switch (state_) {
    case life_state::draining:
    case life_state::ending:
        state_ = life_state::stopped;
        return life_action::tell_ended | life_action::finish;
    case life_state::retiring:
        state_ = life_state::stopped;
        return life_action::finish;
    case life_state::serving:
    case life_state::stopped:
        break;
    }
    return life_action::none;
}

life_action daemon_life::wait_over(std::size_t running)
{
    switch (state_) {
    case life_state::draining:
        return end_commands(running);
    case life_state::ending:
        state_ = life_state::stopped;
        return (running == 0 ? life_action::tell_ended : life_action::kill) | life_action::finish;
    case life_state::serving:
    case life_state::retiring:
    case life_state::stopped:
        break;
    }
    return life_action::none;
}

life_action daemon_life::end_commands(std::size_t running)
{
    if (running == 0) {
        state_ = life_state::stopped;
        return life_action::tell_ended | life_action::finish;
    }
    state_ = life_state::ending;
    return life_action::terminate | life_action::wait;
}

} // namespace pfd
