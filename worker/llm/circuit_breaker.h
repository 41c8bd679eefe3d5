#pragma once
// CircuitBreaker: stops calling a judge that keeps failing. After
// `failure_threshold` consecutive failed attempts it opens for `cool_down`;
// while open, allow() is false. When the cool-down has passed it is
// half-open: allow() admits one trial at a time; the trial's success closes
// it, its failure opens it again for another cool-down.
// What counts as a failure is the caller's choice (the judge client counts
// transport errors, timeouts, 5xx and malformed replies, not 4xx or 429).
//
// Not thread-safe: one owner (the judge client's event-loop thread).

#include <chrono>

namespace assay {

class CircuitBreaker {
public:
    using Clock = std::chrono::steady_clock;
    enum class State { closed, open, half_open };

    // failure_threshold <= 0 disables the breaker (always closed).
    CircuitBreaker(int failure_threshold, Clock::duration cool_down);

    // True when a new attempt may start now. In half-open state this also
    // reserves the single trial slot (call record_* for it later).
    bool allow(Clock::time_point now);
    void record_success();
    void record_failure(Clock::time_point now);

    // The state at `now` (open turns half-open once the cool-down is over).
    State state(Clock::time_point now);
    // When an open breaker turns half-open.
    Clock::time_point open_until() const { return m_open_until; }
    int consecutive_failures() const { return m_failures; }

private:
    int m_threshold;
    Clock::duration m_cool_down;
    State m_state = State::closed;
    int m_failures = 0;
    bool m_trial_in_flight = false;
    Clock::time_point m_open_until{};
};

const char* to_string(CircuitBreaker::State state);

}  // namespace assay
