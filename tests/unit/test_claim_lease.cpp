// ClaimLease (worker/judge/claim_lease.h): the judge stage's own count of its
// claims' lease, which withdraws the queued requests of a claim that may have
// passed to another worker.
#include <doctest/doctest.h>

#include "judge/claim_lease.h"

using assay::ClaimLease;

TEST_CASE("claim lease: a renewal in time extends the claims already held") {
    ClaimLease lease(60000);
    const int64_t now = ClaimLease::steady_ms();
    lease.renewed(now - 50000, now - 49990);  // claimed 50 s ago: 10 s left
    auto held = lease.still_held();
    CHECK(held());
    lease.renewed(now, now + 5);  // renewed before the end: the same claims now last 60 s
    CHECK(held());
    CHECK(lease.still_held()());
}

TEST_CASE("claim lease: after a stall past the lease the earlier claims stay lapsed") {
    ClaimLease lease(1000);
    const int64_t now = ClaimLease::steady_ms();
    lease.renewed(now - 5000, now - 4990);  // claimed 5 s ago with a 1 s lease
    auto before_stall = lease.still_held();
    CHECK_FALSE(before_stall());
    // The next claim call succeeds, but ended after the lease ran out: another worker may
    // own the earlier tasks now, so their requests must not be sent; new claims hold.
    lease.renewed(now, now + 5);
    CHECK_FALSE(before_stall());
    CHECK(lease.still_held()());
}
