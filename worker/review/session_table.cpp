#include "review/session_table.h"

#include <algorithm>

#include "review/access.h"

namespace assay::review {

Result<std::string> SessionTable::create(int64_t now_ms) {
    auto sid = random_token();
    if (!sid.ok()) {
        return sid.status();
    }
    std::lock_guard lock(m_mu);
    if (m_expiry_ms.size() >= m_options.max_sessions) {
        std::erase_if(m_expiry_ms, [&](const auto& kv) { return kv.second <= now_ms; });
    }
    while (!m_expiry_ms.empty() && m_expiry_ms.size() >= m_options.max_sessions) {
        // Absolute expiry: the earliest to expire is the oldest login.
        auto oldest =
            std::min_element(m_expiry_ms.begin(), m_expiry_ms.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        m_expiry_ms.erase(oldest);
    }
    m_expiry_ms[*sid] = now_ms + m_options.ttl_ms;
    return sid;
}

bool SessionTable::valid(const std::string& sid, int64_t now_ms) {
    std::lock_guard lock(m_mu);
    auto it = m_expiry_ms.find(sid);
    if (it == m_expiry_ms.end()) {
        return false;
    }
    if (it->second <= now_ms) {
        m_expiry_ms.erase(it);
        return false;
    }
    return true;
}

bool SessionTable::end(const std::string& sid) {
    std::lock_guard lock(m_mu);
    return m_expiry_ms.erase(sid) > 0;
}

size_t SessionTable::size() const {
    std::lock_guard lock(m_mu);
    return m_expiry_ms.size();
}

}  // namespace assay::review
