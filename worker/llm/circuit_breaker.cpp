#include "llm/circuit_breaker.h"

namespace assay {

CircuitBreaker::CircuitBreaker(int failure_threshold, Clock::duration cool_down)
    : m_threshold(failure_threshold), m_cool_down(cool_down) {}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) {
    if (m_state == State::open && now >= m_open_until) {
        m_state = State::half_open;
        m_trial_in_flight = false;
    }
    return m_state;
}

bool CircuitBreaker::allow(Clock::time_point now) {
    switch (state(now)) {
        case State::closed:
            return true;
        case State::open:
            return false;
        case State::half_open:
            if (m_trial_in_flight) {
                return false;
            }
            m_trial_in_flight = true;
            return true;
    }
    return false;
}

void CircuitBreaker::record_success() {
    m_failures = 0;
    m_trial_in_flight = false;
    m_state = State::closed;
}

void CircuitBreaker::record_failure(Clock::time_point now) {
    ++m_failures;
    m_trial_in_flight = false;
    if (m_threshold <= 0) {
        return;
    }
    if (m_state == State::half_open || m_failures >= m_threshold) {
        m_state = State::open;
        m_open_until = now + m_cool_down;
    }
}

const char* to_string(CircuitBreaker::State state) {
    switch (state) {
        case CircuitBreaker::State::closed:
            return "closed";
        case CircuitBreaker::State::open:
            return "open";
        case CircuitBreaker::State::half_open:
            return "half_open";
    }
    return "?";
}

}  // namespace assay
