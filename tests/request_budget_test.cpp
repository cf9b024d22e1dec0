// request_budget alone: what unfinished requests hold together, who gives
// way when a total is passed (the one holding the most; of equals, the
// newcomer), and that a share gives everything back once released.
#include "request_budget.hpp"

#include <catch2/catch.hpp>

#include <utility>

using pfd::request_budget;

namespace {

/// A share that counts how often it was told to give way.
struct counted_share {
    int evictions = 0;
    request_budget::share share;
    explicit counted_share(request_budget& b) : share(b.join([this] { ++evictions; })) {}
};

} // namespace

namespace pfd {
// Where Catch's comparisons find it (argument-dependent lookup).
static bool operator==(const request_budget::totals& a, const request_budget::totals& b)
{
    return a.bytes == b.bytes && a.fds == b.fds;
}
} // namespace pfd

namespace Catch {
template <>
struct StringMaker<request_budget::totals> {
    static std::string convert(const request_budget::totals& t)
    {
        return "{" + std::to_string(t.bytes) + " bytes, " + std::to_string(t.fds) + " fds}";
    }
};
} // namespace Catch

TEST_CASE("request_budget: holding, and the totals of what is held", "[request_budget]")
{
    request_budget b;
    const request_budget::totals limits{100, 10};
    CHECK(b.held() == request_budget::totals{0, 0});

    counted_share a(b), c(b);
    CHECK(b.held() == request_budget::totals{0, 0}); // joining holds nothing yet
    CHECK(a.share.hold(30, 2, limits));
    CHECK(c.share.hold(20, 1, limits));
    CHECK(b.held() == request_budget::totals{50, 3});

    SECTION("a share's hold is what it holds now, not an increment")
    {
        CHECK(a.share.hold(10, 1, limits));
        CHECK(b.held() == request_budget::totals{30, 2});
        CHECK(a.share.hold(0, 0, limits));
        CHECK(b.held() == request_budget::totals{20, 1});
    }
    SECTION("exactly at a limit is within it")
    {
        CHECK(a.share.hold(80, 9, limits));
        CHECK(b.held() == request_budget::totals{100, 10});
        CHECK_FALSE(a.share.evicted());
        CHECK_FALSE(c.share.evicted());
        CHECK(a.evictions == 0);
        CHECK(c.evictions == 0);
    }
    SECTION("release gives everything back, and twice is once")
    {
        a.share.release();
        CHECK(b.held() == request_budget::totals{20, 1});
        a.share.release();
        CHECK(b.held() == request_budget::totals{20, 1});
        CHECK_FALSE(a.share.hold(5, 0, limits)); // a released share holds nothing more
        CHECK(b.held() == request_budget::totals{20, 1});
    }
    SECTION("a destroyed share gives everything back")
    {
        {
            counted_share gone(b);
            CHECK(gone.share.hold(40, 4, limits));
            CHECK(b.held() == request_budget::totals{90, 7});
        }
        CHECK(b.held() == request_budget::totals{50, 3});
    }
    SECTION("a moved share keeps its holding; the moved-from one holds nothing")
    {
        request_budget::share moved(std::move(a.share));
        CHECK(b.held() == request_budget::totals{50, 3});
        a.share.release(); // nothing: no longer its
        CHECK(b.held() == request_budget::totals{50, 3});
        CHECK_FALSE(a.share.hold(1, 0, limits));
        CHECK(moved.hold(35, 2, limits));
        CHECK(b.held() == request_budget::totals{55, 3});
        request_budget::share assigned;
        assigned = std::move(moved);
        CHECK(b.held() == request_budget::totals{55, 3});
        assigned = request_budget::share(); // assigning over a share releases it
        CHECK(b.held() == request_budget::totals{20, 1});
    }
    SECTION("zero limits: no limit")
    {
        CHECK(a.share.hold(1'000'000, 1'000, {0, 0}));
        CHECK(b.held() == request_budget::totals{1'000'020, 1'001});
        CHECK_FALSE(c.share.evicted());
    }
}

TEST_CASE("request_budget: over a total, the request holding the most gives way", "[request_budget]")
{
    request_budget b;
    const request_budget::totals limits{100, 10};
    counted_share big(b), small(b);
    REQUIRE(big.share.hold(70, 1, limits));
    REQUIRE(small.share.hold(10, 1, limits));

    SECTION("bytes: a small newcomer is served, the large holder evicted")
    {
        counted_share newcomer(b);
        CHECK(newcomer.share.hold(30, 0, limits)); // 110 > 100
        CHECK(big.share.evicted());
        CHECK(big.evictions == 1);
        CHECK_FALSE(small.share.evicted());
        CHECK(small.evictions == 0);
        CHECK_FALSE(newcomer.share.evicted());
        CHECK(newcomer.evictions == 0); // its own eviction is its answer, not a call
        CHECK(b.held() == request_budget::totals{40, 1});
        // An evicted share holds nothing, whatever it asks, and is told once.
        CHECK_FALSE(big.share.hold(1, 0, limits));
        CHECK(b.held() == request_budget::totals{40, 1});
        CHECK(big.evictions == 1);
        // Releasing it changes nothing more.
        big.share.release();
        CHECK(b.held() == request_budget::totals{40, 1});
    }
    SECTION("bytes: the one that grows past the others gives way itself")
    {
        CHECK_FALSE(small.share.hold(95, 1, limits)); // now the largest
        CHECK(small.share.evicted());
        CHECK(small.evictions == 0);
        CHECK_FALSE(big.share.evicted());
        CHECK(b.held() == request_budget::totals{70, 1});
    }
    SECTION("of requests holding as much, the newcomer gives way")
    {
        counted_share newcomer(b);
        CHECK_FALSE(newcomer.share.hold(70, 0, limits));
        CHECK(newcomer.share.evicted());
        CHECK_FALSE(big.share.evicted());
        CHECK(big.evictions == 0);
        CHECK(b.held() == request_budget::totals{80, 2});
    }
    SECTION("descriptors: the holder of the most descriptors gives way")
    {
        counted_share many(b);
        REQUIRE(many.share.hold(1, 8, limits)); // 10 fds: at the limit
        counted_share newcomer(b);
        CHECK(newcomer.share.hold(1, 2, limits)); // 12 > 10
        CHECK(many.share.evicted());
        CHECK(many.evictions == 1);
        CHECK_FALSE(big.share.evicted()); // the most bytes, but bytes are within
        CHECK(b.held() == request_budget::totals{81, 4});
    }
    SECTION("as many give way as it takes to be within the limit")
    {
        counted_share newcomer(b);
        CHECK(newcomer.share.hold(5, 0, {50, 10})); // 85 > 50: big goes, 15 is within
        CHECK(big.evictions == 1);
        CHECK(small.evictions == 0);
        CHECK(b.held() == request_budget::totals{15, 1});
        CHECK_FALSE(newcomer.share.hold(60, 0, {50, 10})); // the largest itself
        CHECK(small.evictions == 0);
        CHECK(b.held() == request_budget::totals{10, 1});
    }
    SECTION("after a release, the room is there again")
    {
        big.share.release();
        counted_share newcomer(b);
        CHECK(newcomer.share.hold(90, 0, limits)); // 100: exactly the limit
        CHECK_FALSE(small.share.evicted());
        CHECK(b.held() == request_budget::totals{100, 1});
    }
}
