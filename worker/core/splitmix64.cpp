#include "core/splitmix64.h"

namespace assay {

uint64_t SplitMix64::next() {
    uint64_t z = (m_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
    // Rejection of the lowest (2^64 mod n) values makes x mod n exactly uniform.
    const uint64_t threshold = (0 - n) % n;
    uint64_t x = next();
    while (x < threshold) {
        x = next();
    }
    return x % n;
}

}  // namespace assay
