// What the sessions of a daemon share, each part alone: the table of running
// commands (session_registry), the watchers (watch_hub) and the latency
// figures (latency_window).
#include "latency_window.hpp"
#include "session_registry.hpp"
#include "watch_hub.hpp"
#include "pfd/protocol.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include <fmt/format.h>

using namespace pfd;
using namespace std::chrono_literals;

namespace {

session_info info_of(session_registry& r, uid_t uid)
{
    session_info info;
    info.id = r.next_id();
    info.peer_uid = uid;
    info.argv = keep_argv({"true"});
    return info;
}

} // namespace

TEST_CASE("the registry admits within its limits and says which one is reached", "[session_registry]")
{
    session_registry r;
    place_limits three{3, 2, 0};
    CHECK(r.admit(info_of(r, 1000), three, false) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1000), three, false) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1000), three, false) == admit_result::peer_limit);
    CHECK(r.admit(info_of(r, 1001), three, false) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1002), three, false) == admit_result::busy);
    CHECK(r.size() == 3);
    CHECK(r.admit(info_of(r, 1002), {}, false) == admit_result::admitted); // 0: no limit
}

TEST_CASE("other uids never take the sessions kept for the owner", "[session_registry]")
{
    session_registry r;
    place_limits four{4, 0, 1}; // other uids together: 3
    std::vector<std::uint64_t> theirs;
    for (uid_t uid : {1000, 1001, 1000}) {
        auto info = info_of(r, uid);
        theirs.push_back(info.id);
        REQUIRE(r.admit(info, four, false) == admit_result::admitted);
    }
    CHECK(r.admit(info_of(r, 1002), four, false) == admit_result::owner_reserve);
    CHECK(r.admit(info_of(r, 0), four, true) == admit_result::admitted); // the owner's place
    CHECK(r.admit(info_of(r, 0), four, true) == admit_result::busy);
    // One of theirs ends: its place is theirs again, not the owner's reserve.
    r.remove(theirs[0]);
    CHECK(r.admit(info_of(r, 1002), four, false) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1003), four, false) == admit_result::busy);
    // The reserve is at most half the total: a limit of 2 keeps 1, of 1 none.
    session_registry small;
    CHECK(small.admit(info_of(small, 1000), {2, 0, 8}, false) == admit_result::admitted);
    CHECK(small.admit(info_of(small, 1001), {2, 0, 8}, false) == admit_result::owner_reserve);
    session_registry single;
    CHECK(single.admit(info_of(single, 1000), {1, 0, 8}, false) == admit_result::admitted);
}

TEST_CASE("the registry keeps a bounded argv: cut with a mark, the rest left out", "[session_registry]")
{
    CHECK(keep_argv({"make", "-j8"}).args == std::vector<std::string>{"make", "-j8"});
    CHECK_FALSE(keep_argv({"make", "-j8"}).truncated);
    // One megabyte argument: 4096 bytes of it and "…".
    auto huge = keep_argv({"echo", std::string(1000000, 'x'), "after"});
    REQUIRE(huge.args.size() == 2);
    CHECK(huge.args[1] == std::string(session_argv_bytes - 4, 'x') + "\u2026");
    CHECK(huge.truncated);
    // Many small ones: at most session_argv_max of them.
    auto many = keep_argv(std::vector<std::string>(100000, "a"));
    CHECK(many.args.size() == session_argv_max);
    CHECK(many.truncated);
    // Exactly the budget is kept whole; one byte more is not.
    CHECK_FALSE(keep_argv({std::string(session_argv_bytes, 'y')}).truncated);
    CHECK(keep_argv({std::string(session_argv_bytes, 'y'), ""}).truncated);
    // A cut never splits a UTF-8 character.
    auto utf8 = keep_argv({std::string(session_argv_bytes - 1, 'z') + "\u00e9"});
    CHECK(utf8.args[0] == std::string(session_argv_bytes - 1, 'z') + "\u2026");
}

TEST_CASE("an admitted session is listed and signalled only once it runs", "[session_registry]")
{
    session_registry r;
    auto info = info_of(r, 1000);
    auto id = info.id;
    REQUIRE(r.admit(info, {}, false) == admit_result::admitted);
    CHECK(r.list().empty());
    CHECK_FALSE(r.signal(id, 0));
    CHECK(r.owner_of(id) == uid_t{1000});
    int delivered = -1;
    r.started(
        id, ::getpid(), -1, [] {},
        [&](int signo) {
            delivered = signo;
            return true;
        });
    REQUIRE(r.list().size() == 1);
    CHECK(r.list()[0].pid == ::getpid());
    CHECK(r.signal(id, SIGUSR1));
    CHECK(delivered == SIGUSR1);
    CHECK(r.signal_all(SIGUSR2) == 1);
    CHECK(delivered == SIGUSR2);
    CHECK(r.snapshot().running == 1);
    CHECK(r.snapshot().served == 1);
}

TEST_CASE("removing sessions calls their watchers, and on_empty once the last is gone", "[session_registry]")
{
    session_registry r;
    int empties = 0, removed = 0;
    r.on_empty([&] { ++empties; });
    auto a = info_of(r, 1), b = info_of(r, 1);
    REQUIRE(r.admit(a, {}, false) == admit_result::admitted);
    REQUIRE(r.admit(b, {}, false) == admit_result::admitted);
    CHECK(r.on_removed(a.id, [&] { ++removed; }));
    CHECK_FALSE(r.on_removed(999, [] {}));
    r.remove(a.id);
    CHECK(removed == 1);
    CHECK(empties == 0);
    r.remove(b.id);
    CHECK(empties == 1);
    CHECK_FALSE(r.owner_of(a.id));
    CHECK(r.snapshot().served == 0); // none of them ever ran
}

TEST_CASE("watchers get the lines they may see, and are dropped when too far behind", "[watch_hub]")
{
    watch_hub hub;
    int wakes = 0, drops = 0;
    std::string why;
    auto all = hub.subscribe([&] { ++wakes; }, [&] { ++drops; }, 0, true, {2}, 10, why);
    auto only = hub.subscribe([] {}, [] {}, 7, false, {2}, 100, why);
    CHECK(hub.subscribe([] {}, [] {}, 0, true, {2}, 100, why) == nullptr); // [limits] watchers
    CHECK(why == "2 watchers already ([limits] watchers)");
    hub.publish("abcd\n", 7);
    hub.publish("efgh\n", 8);
    CHECK(wakes == 2);
    auto mine = only->take();
    REQUIRE(mine);
    CHECK(*mine == std::deque<std::string>{"abcd\n"});
    bool made = false;
    hub.publish_to_watchers(8, [&] {
        made = true;
        return std::string("ijkl\n"); // past the 10 bytes of backlog
    });
    CHECK(made);
    CHECK(drops == 1);
    CHECK_FALSE(all->take());
    hub.unsubscribe(all);
    hub.unsubscribe(only);
    made = false;
    hub.publish_to_watchers(8, [&] {
        made = true;
        return std::string("x\n");
    });
    CHECK_FALSE(made); // nobody watches: the line is never made
}

TEST_CASE("other uids never take the watchers kept for the owner", "[watch_hub]")
{
    watch_hub hub;
    std::string why;
    place_limits four{4, 0, 2}; // other uids together: 2
    auto a = hub.subscribe([] {}, [] {}, 1000, false, four, 100, why);
    auto b = hub.subscribe([] {}, [] {}, 1001, false, four, 100, why);
    REQUIRE(a);
    REQUIRE(b);
    CHECK_FALSE(hub.subscribe([] {}, [] {}, 1002, false, four, 100, why));
    CHECK(why == fmt::format("other uids have 2 watchers, all but the 2 kept for uid {} and root ([limits] watchers, "
                             "owner_reserve)",
                             ::getuid()));
    auto mine = hub.subscribe([] {}, [] {}, 0, true, four, 100, why);
    auto also = hub.subscribe([] {}, [] {}, 0, true, four, 100, why);
    CHECK(mine);
    CHECK(also);
    CHECK_FALSE(hub.subscribe([] {}, [] {}, 0, true, four, 100, why));
    CHECK(why == "4 watchers already ([limits] watchers)");
    hub.unsubscribe(a);
    CHECK(hub.subscribe([] {}, [] {}, 1002, false, four, 100, why));
}

TEST_CASE("a stopping daemon drops its watchers, and those that come later", "[watch_hub]")
{
    watch_hub hub;
    int drops = 0;
    std::string why;
    auto w = hub.subscribe([] {}, [&] { ++drops; }, 0, true, {}, 100, why);
    hub.drop_all();
    CHECK(drops == 1);
    CHECK_FALSE(w->take());
    auto late = hub.subscribe([] {}, [&] { ++drops; }, 0, true, {}, 100, why);
    REQUIRE(late);
    CHECK_FALSE(late->take());
}

TEST_CASE("the latency figures are over the last 1024 samples", "[latency_window]")
{
    latency_window l;
    CHECK(l.summary().mean_us == 0);
    for (int i = 1; i <= 100; ++i) l.record(std::chrono::microseconds(i));
    CHECK(l.summary().mean_us == 50);
    CHECK(l.summary().p99_us == 100);
    for (int i = 0; i < 1024; ++i) l.record(7us);
    CHECK(l.summary().mean_us == 7);
    CHECK(l.summary().p99_us == 7);
}
