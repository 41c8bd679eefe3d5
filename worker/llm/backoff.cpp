#include "llm/backoff.h"

#include <algorithm>

namespace assay {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed)
    : m_base(std::max(base, std::chrono::milliseconds(1))),
      m_max(std::max(max, m_base)),
      m_rng(seed != 0 ? seed : std::random_device{}()) {}

std::chrono::milliseconds Backoff::ceiling(int retry) const {
    const int shift = std::clamp(retry - 1, 0, 30);
    const auto grown = m_base.count() * (std::int64_t{1} << shift);
    if (grown / (std::int64_t{1} << shift) != m_base.count() || grown > m_max.count()) {
        return m_max;
    }
    return std::chrono::milliseconds(grown);
}

std::chrono::milliseconds Backoff::delay(int retry,
                                         std::optional<std::chrono::milliseconds> retry_after) {
    const auto top = static_cast<std::uint64_t>(ceiling(retry).count());
    // Modulo of the raw engine output: the same seed gives the same delays on
    // every standard library (distributions are implementation-defined).
    const auto jittered = std::chrono::milliseconds(static_cast<std::int64_t>(m_rng() % (top + 1)));
    if (retry_after && *retry_after > jittered) {
        return *retry_after;
    }
    return jittered;
}

}  // namespace assay
