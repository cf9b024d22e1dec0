// The daemon's life (src/daemon/daemon_life.*): every row of the transition table
// in daemon_life.cpp, from each state, then a few lives end to end.
#include "daemon_life.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// In a namespace of their own: the actions `kill` and `wait` hide the
// functions of <signal.h> and <sys/wait.h> there.
namespace pfd::life_test {

using enum life_action;

namespace {

/// A state to start a row from, and how a fresh machine gets there.
struct start {
    std::string name;
    std::function<void(daemon_life&)> reach;
    life_state state;
};

const start serving{"serving", [](daemon_life&) {}, life_state::serving};
const start draining{"draining", [](daemon_life& l) { l.request_stop(1000ms, stopper::signal, 2); },
                     life_state::draining};
const start ending{"ending",
                   [](daemon_life& l) {
                       l.request_stop(1000ms, stopper::signal, 2);
                       l.wait_over(2);
                   },
                   life_state::ending};
const start retiring{"retiring", [](daemon_life& l) { l.handed_over(2); }, life_state::retiring};
const start retired_ending{"ending after a hand-over",
                           [](daemon_life& l) {
                               l.handed_over(2);
                               l.request_stop(1000ms, stopper::signal, 2);
                           },
                           life_state::ending};
const start stopped{"stopped", [](daemon_life& l) { l.request_stop(1000ms, stopper::signal, 0); }, life_state::stopped};

struct event {
    std::string name;
    std::function<life_action(daemon_life&)> send;
};

event stop(stopper who, std::chrono::milliseconds grace, std::size_t running)
{
    const char* names[] = {"SIGTERM", "server::stop()", "pfd stop"};
    return {std::string(names[static_cast<int>(who)]) + " grace " + std::to_string(grace.count()) + " running " +
                std::to_string(running),
            [=](daemon_life& l) { return l.request_stop(grace, who, running); }};
}
const event ended{"commands ended", [](daemon_life& l) { return l.commands_ended(); }};
event wait_over(std::size_t running)
{
    return {"wait over, running " + std::to_string(running), [=](daemon_life& l) { return l.wait_over(running); }};
}
event handed_over(std::size_t running)
{
    return {"handed over, running " + std::to_string(running), [=](daemon_life& l) { return l.handed_over(running); }};
}
const event reload{"reload", [](daemon_life& l) { return l.reload(); }};

struct row {
    const start& from;
    event on;
    life_state next;
    life_action actions;
    std::chrono::milliseconds grace; ///< grace() afterwards
};

} // namespace

TEST_CASE("every transition of the daemon's life", "[daemon_life]")
{
    const auto stop_now = close_acceptor | remove_socket;
    const auto s = stopper::signal, c = stopper::call, a = stopper::asker;
    const row table[] = {
        // serving: any stop drains (or ends at once); a hand-over retires.
        {serving, stop(s, 300ms, 1), life_state::draining, stop_now | wait, 300ms},
        {serving, stop(c, 300ms, 1), life_state::draining, stop_now | wait, 300ms},
        {serving, stop(a, 300ms, 1), life_state::draining, stop_now | wait, 300ms},
        {serving, stop(s, 300ms, 0), life_state::stopped, stop_now | tell_ended | finish, 300ms},
        {serving, stop(a, 300ms, 0), life_state::stopped, stop_now | tell_ended | finish, 300ms},
        {serving, handed_over(1), life_state::retiring, close_acceptor | leave_socket | wait, 0ms},
        {serving, handed_over(0), life_state::stopped, close_acceptor | leave_socket | finish, 0ms},
        {serving, ended, life_state::serving, none, 0ms},
        {serving, wait_over(1), life_state::serving, none, 0ms},
        {serving, reload, life_state::serving, apply_config, 0ms},
        // draining: a second signal skips the wait, a second `stop` only
        // shortens it, server::stop() is not heard.
        {draining, stop(s, 5000ms, 2), life_state::ending, terminate | wait, 1000ms},
        {draining, stop(s, 5000ms, 0), life_state::stopped, tell_ended | finish, 1000ms},
        {draining, stop(a, 200ms, 2), life_state::draining, shorten_wait, 200ms},
        {draining, stop(a, 5000ms, 2), life_state::draining, none, 1000ms},
        {draining, stop(c, 200ms, 2), life_state::draining, none, 1000ms},
        {draining, wait_over(2), life_state::ending, terminate | wait, 1000ms},
        {draining, wait_over(0), life_state::stopped, tell_ended | finish, 1000ms},
        {draining, ended, life_state::stopped, tell_ended | finish, 1000ms},
        {draining, handed_over(2), life_state::draining, none, 1000ms},
        {draining, reload, life_state::draining, apply_config, 1000ms},
        // ending: SIGTERM sent; the grace again, then SIGKILL.
        {ending, stop(s, 5000ms, 2), life_state::stopped, kill | finish, 1000ms},
        {ending, stop(s, 5000ms, 0), life_state::stopped, tell_ended | finish, 1000ms},
        {ending, stop(a, 200ms, 2), life_state::ending, shorten_wait, 200ms},
        {ending, stop(a, 5000ms, 2), life_state::ending, none, 1000ms},
        {ending, stop(c, 200ms, 2), life_state::ending, none, 1000ms},
        {ending, wait_over(2), life_state::stopped, kill | finish, 1000ms},
        {ending, wait_over(0), life_state::stopped, tell_ended | finish, 1000ms},
        {ending, ended, life_state::stopped, tell_ended | finish, 1000ms},
        {ending, handed_over(2), life_state::ending, none, 1000ms},
        {ending, reload, life_state::ending, apply_config, 1000ms},
        // retiring: a stop during a hand-over ends the commands with its
        // grace, whatever it is; server::stop() is not heard.
        {retiring, stop(s, 5000ms, 2), life_state::ending, terminate | wait, 5000ms},
        {retiring, stop(a, 5000ms, 2), life_state::ending, terminate | wait, 5000ms},
        {retiring, stop(s, 5000ms, 0), life_state::stopped, tell_ended | finish, 5000ms},
        {retiring, stop(a, 5000ms, 0), life_state::stopped, tell_ended | finish, 5000ms},
        {retiring, stop(c, 5000ms, 2), life_state::retiring, none, 0ms},
        {retiring, ended, life_state::stopped, finish, 0ms},
        {retiring, wait_over(2), life_state::retiring, none, 0ms},
        {retiring, handed_over(2), life_state::retiring, none, 0ms},
        {retiring, reload, life_state::retiring, apply_config, 0ms},
        // ending after a hand-over: as any ending.
        {retired_ending, stop(s, 5000ms, 2), life_state::stopped, kill | finish, 1000ms},
        {retired_ending, stop(a, 200ms, 2), life_state::ending, shorten_wait, 200ms},
        {retired_ending, ended, life_state::stopped, tell_ended | finish, 1000ms},
        {retired_ending, wait_over(2), life_state::stopped, kill | finish, 1000ms},
        // stopped: nothing more, but a later asker's shorter grace is what
        // its answer reports.
        {stopped, stop(s, 200ms, 2), life_state::stopped, none, 1000ms},
        {stopped, stop(c, 200ms, 2), life_state::stopped, none, 1000ms},
        {stopped, stop(a, 200ms, 2), life_state::stopped, none, 200ms},
        {stopped, stop(a, 5000ms, 2), life_state::stopped, none, 1000ms},
        {stopped, ended, life_state::stopped, none, 1000ms},
        {stopped, wait_over(2), life_state::stopped, none, 1000ms},
        {stopped, handed_over(2), life_state::stopped, none, 1000ms},
        {stopped, reload, life_state::stopped, apply_config, 1000ms},
    };
    for (auto& r : table) {
        INFO(r.from.name << " + " << r.on.name);
        daemon_life life;
        r.from.reach(life);
        REQUIRE(life.state() == r.from.state);
        auto actions = r.on.send(life);
        CHECK(static_cast<unsigned>(actions) == static_cast<unsigned>(r.actions));
        CHECK(life.state() == r.next);
        CHECK(life.grace() == r.grace);
    }
}

TEST_CASE("a restart goes on only while serving, once", "[daemon_life]")
{
    const std::pair<const start*, hand_over_answer> answers[] = {
        {&serving, hand_over_answer::go},       {&draining, hand_over_answer::stopping},
        {&ending, hand_over_answer::stopping},  {&stopped, hand_over_answer::stopping},
        {&retiring, hand_over_answer::already}, {&retired_ending, hand_over_answer::already},
    };
    for (auto& [from, answer] : answers) {
        INFO(from->name);
        daemon_life life;
        from->reach(life);
        CHECK(life.may_hand_over() == answer);
    }
    daemon_life life;
    life.handed_over(0);
    CHECK(life.may_hand_over() == hand_over_answer::already);
}

TEST_CASE("whole lives: stops, hand-overs and reloads in turn", "[daemon_life]")
{
    daemon_life life;
    SECTION("SIGTERM, a shorter pfd stop, commands that never end: SIGTERM, then SIGKILL")
    {
        CHECK(has(life.request_stop(10000ms, stopper::signal, 3), wait));
        CHECK(has(life.reload(), apply_config));
        CHECK(life.grace() == 10000ms); // a reload does not change the stop under way
        CHECK(life.request_stop(1000ms, stopper::asker, 3) == shorten_wait);
        CHECK(has(life.wait_over(3), terminate));
        CHECK(life.request_stop(500ms, stopper::asker, 3) == shorten_wait);
        CHECK(life.wait_over(3) == (kill | finish));
        CHECK(life.state() == life_state::stopped);
    }
    SECTION("a hand-over, then SIGTERM, then the commands end")
    {
        CHECK(life.may_hand_over() == hand_over_answer::go);
        CHECK(has(life.handed_over(1), leave_socket));
        CHECK(life.request_stop(2000ms, stopper::call, 1) == none);
        CHECK(life.request_stop(2000ms, stopper::signal, 1) == (terminate | wait));
        CHECK(life.grace() == 2000ms);
        CHECK(life.commands_ended() == (tell_ended | finish));
        CHECK(life.may_hand_over() == hand_over_answer::already);
    }
    SECTION("pfd stop while nothing runs ends at once; a second one is only answered")
    {
        CHECK(has(life.request_stop(3000ms, stopper::asker, 0), tell_ended));
        CHECK(life.request_stop(100ms, stopper::asker, 0) == none);
        CHECK(life.grace() == 100ms);
    }
}

} // namespace pfd::life_test
