#include "judge/committed_traces.h"

namespace assay {

void CommittedTraces::add(std::vector<std::shared_ptr<const Trace>> traces) {
    std::lock_guard<std::mutex> lock(m_mu);
    for (auto& t : traces) {
        const std::string id = t->trace_id;
        m_by_id[id] = std::move(t);
        m_order.push_back(id);
    }
    // Ids of taken traces stay in m_order until they reach its front, so
    // this bounds both (an evicted id that was added again falls back to
    // parsing, which is only slower).
    while (m_order.size() > m_capacity) {
        m_by_id.erase(m_order.front());
        m_order.pop_front();
    }
}

std::shared_ptr<const Trace> CommittedTraces::take(const std::string& trace_id,
                                                   const std::string& raw) {
    std::lock_guard<std::mutex> lock(m_mu);
    auto it = m_by_id.find(trace_id);
    if (it == m_by_id.end() || it->second->raw != raw) {
        return nullptr;
    }
    auto t = std::move(it->second);
    m_by_id.erase(it);
    return t;
}

size_t CommittedTraces::size() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_by_id.size();
}

}  // namespace assay
