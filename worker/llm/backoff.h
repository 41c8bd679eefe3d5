#pragma once
// Retry timing for judge calls: exponential back-off with full jitter
// (delay = uniform(0, min(max, base * 2^(retry-1)))), and a seedable RNG so
// tests get the same delays every run. A provider's Retry-After is a floor:
// the delay is never shorter than what the provider asked for.
//
// Not thread-safe: one owner (the judge client's event-loop thread).

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace assay {

class Backoff {
public:
    // base > 0, max >= base. seed 0 seeds from std::random_device.
    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed);

    // The delay before retry number `retry` (1 for the first retry).
    // `retry_after`, when given, is honoured as a minimum.
    std::chrono::milliseconds delay(int retry,
                                    std::optional<std::chrono::milliseconds> retry_after = {});

    // The upper bound of the jitter window for retry number `retry`.
    std::chrono::milliseconds ceiling(int retry) const;

private:
    std::chrono::milliseconds m_base;
    std::chrono::milliseconds m_max;
    std::mt19937_64 m_rng;
};

}  // namespace assay
