#pragma once
// TokenBucket: a classic token bucket over an explicit clock, so tests can
// drive time by hand. It holds at most `capacity` tokens and refills at
// `refill_per_second`; take() succeeds only when enough tokens are present.
// The level may go below zero through charge() (debt for work that cost more
// than estimated); nothing can be taken until the debt is refilled.
//
// per_minute_limit() builds the bucket the judge client uses for a
// "N per minute" limit: a burst of about one second's worth and a refill of
// (N - burst) per minute, so that no 60 s window ever admits more than N,
// while a backlog still gets >= 98% of N.
//
// Not thread-safe: one owner (the judge client's event-loop thread).

#include <chrono>
#include <cstdint>

namespace assay {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    // capacity > 0, refill_per_second >= 0. The bucket starts full at `now`.
    TokenBucket(double capacity, double refill_per_second, Clock::time_point now);

    // A bucket for "at most `per_minute` in any 60 s window" (per_minute > 0).
    static TokenBucket per_minute_limit(double per_minute, Clock::time_point now);

    // Takes `n` tokens (clamped to capacity, so an oversized request can still
    // pass once the bucket is full) and returns true; returns false and takes
    // nothing when fewer are available.
    bool try_take(double n, Clock::time_point now);
    // How long until try_take(n) would succeed: zero when it would now;
    // Clock::duration::max() when the refill rate is zero and it never will.
    Clock::duration time_until(double n, Clock::time_point now);
    // Removes `n` tokens unconditionally (the level may go negative).
    void charge(double n, Clock::time_point now);
    // Changes the refill rate from `now` on (AIMD cuts and recoveries).
    void set_refill_per_second(double refill_per_second, Clock::time_point now);

    double level(Clock::time_point now);
    double capacity() const { return m_capacity; }
    double refill_per_second() const { return m_refill; }

private:
    void refill(Clock::time_point now);

    double m_capacity;
    double m_refill;
    double m_level;
    Clock::time_point m_last;
};

}  // namespace assay
