// Token bucket, back-off and circuit breaker of the judge client, on a
// hand-driven clock.
#include <doctest/doctest.h>

#include <chrono>
#include <deque>

#include "llm/backoff.h"
#include "llm/circuit_breaker.h"
#include "llm/token_bucket.h"

using namespace assay;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("token bucket: starts full, refuses when empty, refills at its rate") {
    const auto t0 = Clock::time_point{} + 1h;
    TokenBucket b(3, 2.0, t0);  // 3 tokens, 2 per second
    CHECK(b.try_take(1, t0));
    CHECK(b.try_take(2, t0));
    CHECK_FALSE(b.try_take(1, t0));
    CHECK(b.time_until(1, t0) >= 499ms);
    CHECK(b.time_until(1, t0) <= 501ms);
    CHECK_FALSE(b.try_take(1, t0 + 400ms));
    CHECK(b.try_take(1, t0 + 500ms));
    // Never more than capacity, however long it idles.
    CHECK(b.level(t0 + 1h) == doctest::Approx(3.0));
}

TEST_CASE("token bucket: oversized takes are clamped to capacity; charge() makes debt") {
    const auto t0 = Clock::time_point{} + 1h;
    TokenBucket b(100, 10.0, t0);
    CHECK(b.try_take(5000, t0));  // clamped: a huge request passes on a full bucket
    CHECK(b.level(t0) == doctest::Approx(0.0));
    b.charge(50, t0);
    CHECK(b.level(t0) == doctest::Approx(-50.0));
    CHECK(b.time_until(1, t0) >= 5099ms);
    CHECK(b.try_take(1, t0 + 5100ms + 1ms));
}

TEST_CASE("token bucket: zero refill never becomes ready; set_refill changes the rate") {
    const auto t0 = Clock::time_point{} + 1h;
    TokenBucket b(1, 0.0, t0);
    CHECK(b.try_take(1, t0));
    CHECK(b.time_until(1, t0 + 1h) == Clock::duration::max());
    b.set_refill_per_second(1.0, t0 + 1h);
    CHECK(b.try_take(1, t0 + 1h + 1s));
}

TEST_CASE("token bucket: a per-minute limit never admits more than N in any 60 s window") {
    const auto t0 = Clock::time_point{} + 1h;
    const int per_minute = 1200;
    TokenBucket b = TokenBucket::per_minute_limit(per_minute, t0);
    // Greedy backlog for 5 minutes, taking as soon as a token is there.
    std::deque<Clock::time_point> starts;
    auto now = t0;
    int max_in_window = 0;
    int total = 0;
    while (now < t0 + 300s) {
        if (b.try_take(1, now)) {
            starts.push_back(now);
            ++total;
            while (now - starts.front() >= 60s) {
                starts.pop_front();
            }
            max_in_window = std::max(max_in_window, static_cast<int>(starts.size()));
        } else {
            now += b.time_until(1, now);
        }
    }
    CHECK(max_in_window <= per_minute);
    // >= 95% of the limit is used while there is a backlog.
    CHECK(total >= static_cast<int>(0.95 * per_minute * 5));
}

TEST_CASE("judge client backoff: full jitter within an exponential window, seedable") {
    Backoff a(100ms, 1000ms, 7);
    Backoff b(100ms, 1000ms, 7);
    CHECK(a.ceiling(1) == 100ms);
    CHECK(a.ceiling(2) == 200ms);
    CHECK(a.ceiling(4) == 800ms);
    CHECK(a.ceiling(5) == 1000ms);
    CHECK(a.ceiling(60) == 1000ms);
    for (int retry = 1; retry <= 8; ++retry) {
        const auto d = a.delay(retry);
        CHECK(d == b.delay(retry));  // same seed, same delays
        CHECK(d >= 0ms);
        CHECK(d <= a.ceiling(retry));
    }
    // Retry-After is a floor.
    CHECK(a.delay(1, 2000ms) == 2000ms);
}

TEST_CASE("judge client breaker: opens after N failures, half-open admits one trial") {
    const auto t0 = Clock::time_point{} + 1h;
    CircuitBreaker cb(3, 500ms);
    CHECK(cb.allow(t0));
    cb.record_failure(t0);
    cb.record_failure(t0);
    CHECK(cb.state(t0) == CircuitBreaker::State::closed);
    cb.record_success();  // resets the count
    cb.record_failure(t0);
    cb.record_failure(t0);
    cb.record_failure(t0);
    CHECK(cb.state(t0) == CircuitBreaker::State::open);
    CHECK_FALSE(cb.allow(t0 + 499ms));
    CHECK(cb.allow(t0 + 500ms));        // the trial
    CHECK_FALSE(cb.allow(t0 + 501ms));  // only one at a time
    cb.record_failure(t0 + 600ms);      // trial failed: open again
    CHECK(cb.state(t0 + 700ms) == CircuitBreaker::State::open);
    CHECK(cb.allow(t0 + 1100ms));
    cb.record_success();
    CHECK(cb.state(t0 + 1100ms) == CircuitBreaker::State::closed);
    CircuitBreaker off(0, 1s);
    for (int i = 0; i < 100; ++i) {
        off.record_failure(t0);
    }
    CHECK(off.allow(t0));
}
