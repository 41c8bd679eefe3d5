#include "llm/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace assay {

TokenBucket::TokenBucket(double capacity, double refill_per_second, Clock::time_point now)
    : m_capacity(std::max(capacity, 1e-9)),
      m_refill(std::max(refill_per_second, 0.0)),
      m_level(m_capacity),
      m_last(now) {}

TokenBucket TokenBucket::per_minute_limit(double per_minute, Clock::time_point now) {
    const double burst = std::max(1.0, std::floor(per_minute / 60.0));
    // (N - burst) per minute keeps every 60 s window at <= N; tiny limits
    // (N < 2) fall back to N per minute so the bucket still refills.
    double per_second = (per_minute - burst) / 60.0;
    if (per_second <= 0.0) {
        per_second = per_minute / 60.0;
    }
    return TokenBucket(burst, per_second, now);
}

void TokenBucket::refill(Clock::time_point now) {
    if (now <= m_last) {
        return;
    }
    const double seconds = std::chrono::duration<double>(now - m_last).count();
    m_level = std::min(m_capacity, m_level + seconds * m_refill);
    m_last = now;
}

bool TokenBucket::try_take(double n, Clock::time_point now) {
    refill(now);
    n = std::min(n, m_capacity);
    if (m_level + 1e-9 < n) {
        return false;
    }
    m_level -= n;
    return true;
}

TokenBucket::Clock::duration TokenBucket::time_until(double n, Clock::time_point now) {
    refill(now);
    n = std::min(n, m_capacity);
    const double missing = n - m_level;
    if (missing <= 1e-9) {
        return Clock::duration::zero();
    }
    if (m_refill <= 0.0) {
        return Clock::duration::max();
    }
    const auto wait = std::chrono::duration<double>(missing / m_refill);
    // Round up so that a wake-up at now + wait finds the tokens there.
    return std::chrono::ceil<Clock::duration>(wait) + std::chrono::microseconds(1);
}

void TokenBucket::charge(double n, Clock::time_point now) {
    refill(now);
    m_level -= n;
}

void TokenBucket::set_refill_per_second(double refill_per_second, Clock::time_point now) {
    refill(now);
    m_refill = std::max(refill_per_second, 0.0);
}

double TokenBucket::level(Clock::time_point now) {
    refill(now);
    return m_level;
}

}  // namespace assay
