#include "judge/claim_lease.h"

#include <chrono>

namespace assay {

ClaimLease::ClaimLease(int64_t lease_ms)
    : m_lease_ms(lease_ms), m_until(std::make_shared<std::atomic<int64_t>>(0)) {}

void ClaimLease::renewed(int64_t started, int64_t ended) {
    if (ended < m_until->load()) {
        m_until->store(started + m_lease_ms);
    } else {
        m_until = std::make_shared<std::atomic<int64_t>>(started + m_lease_ms);
    }
}

std::function<bool()> ClaimLease::still_held() const {
    return [until = m_until] { return steady_ms() < until->load(); };
}

int64_t ClaimLease::steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace assay
