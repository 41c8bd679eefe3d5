#include "review/login_throttle.h"

#include <algorithm>

namespace assay::review {

int64_t LoginThrottle::wait_ms(const std::string& addr, int64_t now_ms) const {
    std::lock_guard lock(m_mu);
    auto it = m_entries.find(addr);
    if (it == m_entries.end()) {
        return 0;
    }
    return std::max<int64_t>(0, it->second.locked_until_ms - now_ms);
}

LoginThrottle::Failure LoginThrottle::failed(const std::string& addr, int64_t now_ms) {
    std::lock_guard lock(m_mu);
    ++m_failures_total;
    auto it = m_entries.find(addr);
    if (it == m_entries.end()) {
        while (!m_order.empty() && m_entries.size() >= m_options.max_addresses) {
            m_entries.erase(m_order.front());
            m_order.pop_front();
        }
        if (m_options.max_addresses == 0) {
            return {1, 0};
        }
        it = m_entries.emplace(addr, Entry{}).first;
        it->second.order = m_order.insert(m_order.end(), addr);
    } else {
        m_order.splice(m_order.end(), m_order, it->second.order);
    }
    Entry& e = it->second;
    if (e.failures > 0 && now_ms - e.last_failure_ms >= m_options.forget_after_ms) {
        e.failures = 0;
    }
    ++e.failures;
    e.last_failure_ms = now_ms;
    Failure out{e.failures, 0};
    const int64_t over = e.failures - m_options.free_failures;
    if (over > 0) {
        int64_t delay = m_options.first_delay_ms;
        for (int64_t i = 1; i < over && delay < m_options.max_delay_ms; ++i) {
            delay *= 2;
        }
        out.lock_ms = std::min(delay, m_options.max_delay_ms);
        e.locked_until_ms = now_ms + out.lock_ms;
    }
    return out;
}

void LoginThrottle::succeeded(const std::string& addr) {
    std::lock_guard lock(m_mu);
    auto it = m_entries.find(addr);
    if (it != m_entries.end()) {
        m_order.erase(it->second.order);
        m_entries.erase(it);
    }
}

size_t LoginThrottle::addresses() const {
    std::lock_guard lock(m_mu);
    return m_entries.size();
}

uint64_t LoginThrottle::failures_total() const {
    std::lock_guard lock(m_mu);
    return m_failures_total;
}

}  // namespace assay::review
