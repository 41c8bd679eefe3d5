#pragma once
// SplitMix64 (Steele, Lea, Flood 2014): a deterministic pseudo-random
// generator implemented here rather than taken from <random>, so the stream
// is fixed by this file alone: the same seed gives the same numbers with any
// compiler and standard library (the gate's and judges compare's bootstrap
// resamples). A plain value; not thread-safe (one per thread).

#include <cstdint>

namespace assay {

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    // Uniform integer in [0, n) without modulo bias (rejection sampling).
    // n must be > 0.
    uint64_t below(uint64_t n);

private:
    uint64_t m_state;
};

}  // namespace assay
