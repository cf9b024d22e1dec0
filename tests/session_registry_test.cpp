// What the sessions of a daemon share, each part alone: the table of running
// commands (session_registry), the watchers (watch_hub) and the latency
// figures (latency_window).
#include "latency_window.hpp"
#include "session_registry.hpp"
#include "watch_hub.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>

using namespace pfd;
using namespace std::chrono_literals;

namespace {

session_info info_of(session_registry& r, uid_t uid)
{
    session_info info;
    info.id = r.next_id();
    info.peer_uid = uid;
    info.argv = {"true"};
    return info;
}

} // namespace

TEST_CASE("the registry admits within its limits and says which one is reached", "[session_registry]")
{
    session_registry r;
    CHECK(r.admit(info_of(r, 1000), 3, 2) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1000), 3, 2) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1000), 3, 2) == admit_result::peer_limit);
    CHECK(r.admit(info_of(r, 1001), 3, 2) == admit_result::admitted);
    CHECK(r.admit(info_of(r, 1002), 3, 2) == admit_result::busy);
    CHECK(r.size() == 3);
    CHECK(r.admit(info_of(r, 1002), 0, 0) == admit_result::admitted); // 0: no limit
}

TEST_CASE("an admitted session is listed and signalled only once it runs", "[session_registry]")
{
    session_registry r;
    auto info = info_of(r, 1000);
    auto id = info.id;
    REQUIRE(r.admit(info, 0, 0) == admit_result::admitted);
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
    REQUIRE(r.admit(a, 0, 0) == admit_result::admitted);
    REQUIRE(r.admit(b, 0, 0) == admit_result::admitted);
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
    auto all = hub.subscribe([&] { ++wakes; }, [&] { ++drops; }, 2, 10);
    auto only = hub.subscribe([] {}, [] {}, 2, 100, uid_t{7});
    CHECK(hub.subscribe([] {}, [] {}, 2, 100) == nullptr); // max_watchers
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

TEST_CASE("a stopping daemon drops its watchers, and those that come later", "[watch_hub]")
{
    watch_hub hub;
    int drops = 0;
    auto w = hub.subscribe([] {}, [&] { ++drops; }, 0, 100);
    hub.drop_all();
    CHECK(drops == 1);
    CHECK_FALSE(w->take());
    auto late = hub.subscribe([] {}, [&] { ++drops; }, 0, 100);
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
