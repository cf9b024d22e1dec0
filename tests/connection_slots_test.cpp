// connection_slots alone: the [limits] connections and connections_per_uid
// counts, what a refusal says, and that a slot is given back when it goes.
#include "connection_slots.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using pfd::connection_slots;

TEST_CASE("connection_slots: in total, per uid, and given back", "[connection_slots]")
{
    connection_slots slots;
    std::string why;
    CHECK(slots.open() == 0);

    SECTION("zero limits: no limit")
    {
        std::vector<connection_slots::slot> held;
        for (int i = 0; i < 100; ++i) {
            auto s = slots.take(1000, false, {0, 0}, why);
            REQUIRE(s);
            held.push_back(std::move(*s));
        }
        CHECK(slots.open() == 100);
        CHECK(why.empty());
        held.clear();
        CHECK(slots.open() == 0);
    }
    SECTION("in total: up to the limit exactly, then refused, naming the key")
    {
        auto a = slots.take(1000, false, {2, 0}, why);
        auto b = slots.take(1001, false, {2, 0}, why);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(slots.open() == 2);
        CHECK_FALSE(slots.take(1002, false, {2, 0}, why));
        CHECK(why == "the daemon holds 2 connections already ([limits] connections); try again later");
        CHECK(slots.open() == 2); // a refusal takes nothing

        // One given back: its place is free again, then taken again.
        b.reset();
        CHECK(slots.open() == 1);
        auto c = slots.take(1002, false, {2, 0}, why);
        CHECK(c);
        CHECK(slots.open() == 2);
        CHECK_FALSE(slots.take(1003, false, {2, 0}, why));
    }
    SECTION("per uid: one uid at its limit, another still served")
    {
        auto a1 = slots.take(1000, false, {0, 2}, why);
        auto a2 = slots.take(1000, false, {0, 2}, why);
        REQUIRE(a1);
        REQUIRE(a2);
        CHECK_FALSE(slots.take(1000, false, {0, 2}, why));
        CHECK(why == "uid 1000 holds 2 connections already ([limits] connections_per_uid); try again later");
        auto b = slots.take(1001, false, {0, 2}, why);
        CHECK(b);
        CHECK(slots.open() == 3);

        a2.reset();
        auto a3 = slots.take(1000, false, {0, 2}, why);
        CHECK(a3);
        CHECK_FALSE(slots.take(1000, false, {0, 2}, why));
    }
    SECTION("the total is checked before the uid's count")
    {
        auto a = slots.take(1000, false, {1, 1}, why);
        REQUIRE(a);
        CHECK_FALSE(slots.take(1000, false, {1, 1}, why));
        CHECK(why == "the daemon holds 1 connections already ([limits] connections); try again later");
    }
    SECTION("a uid's count starts again from nothing once all its slots are back")
    {
        {
            auto a = slots.take(1000, false, {0, 1}, why);
            REQUIRE(a);
        }
        CHECK(slots.open() == 0);
        auto again = slots.take(1000, false, {0, 1}, why);
        CHECK(again);
    }
    SECTION("a moved slot is given back once, by its new owner")
    {
        auto a = slots.take(1000, false, {0, 1}, why);
        REQUIRE(a);
        {
            connection_slots::slot moved(std::move(*a));
            CHECK(slots.open() == 1);
            a.reset(); // the moved-from slot gives nothing back
            CHECK(slots.open() == 1);
            CHECK_FALSE(slots.take(1000, false, {0, 1}, why));
        }
        CHECK(slots.open() == 0);
        CHECK(slots.take(1000, false, {0, 1}, why));
    }
}

TEST_CASE("connection_slots: other uids never take the connections kept for the owner", "[connection_slots]")
{
    connection_slots slots;
    std::string why;
    pfd::place_limits six{6, 0, 2}; // other uids together: 4
    std::vector<connection_slots::slot> theirs, mine;
    for (uid_t uid : {1000, 1001, 1002, 1000}) {
        auto s = slots.take(uid, false, six, why);
        REQUIRE(s);
        theirs.push_back(std::move(*s));
    }
    CHECK_FALSE(slots.take(1003, false, six, why));
    CHECK(why == fmt::format("other uids hold 4 connections, all but the 2 kept for uid {} and root ([limits] "
                             "connections, owner_reserve); try again later",
                             ::getuid()));
    for (int i = 0; i < 2; ++i) {
        auto s = slots.take(0, true, six, why);
        REQUIRE(s);
        mine.push_back(std::move(*s));
    }
    CHECK_FALSE(slots.take(0, true, six, why)); // the total
    // The owner's connections gone, other uids still cannot take their places.
    mine.clear();
    CHECK_FALSE(slots.take(1003, false, six, why));
    theirs.pop_back();
    CHECK(slots.take(1003, false, six, why));
}

TEST_CASE("connection_slots: a burst over the trim threshold comes and goes", "[connection_slots]")
{
    // The last of 16 or more at once trims the heap (malloc_trim): nothing
    // a test sees but that counting goes on right after.
    connection_slots slots;
    std::string why;
    for (int round = 0; round < 2; ++round) {
        std::vector<connection_slots::slot> held;
        for (int i = 0; i < 20; ++i) {
            auto s = slots.take(static_cast<uid_t>(1000 + i % 3), false, {20, 7}, why);
            REQUIRE(s);
            held.push_back(std::move(*s));
        }
        CHECK(slots.open() == 20);
        CHECK_FALSE(slots.take(2000, false, {20, 7}, why));
        held.clear();
        CHECK(slots.open() == 0);
    }
}
