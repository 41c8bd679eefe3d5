#include "ingest/otlp/pending_rows.h"

#include <algorithm>
#include <unordered_map>

namespace assay {

std::string pending_group_key(std::vector<std::string_view> span_ids) {
    std::sort(span_ids.begin(), span_ids.end());
    uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits
    for (std::string_view id : span_ids) {
        for (unsigned char c : id) {
            h = (h ^ c) * 1099511628211ULL;
        }
        h = (h ^ static_cast<unsigned char>(',')) * 1099511628211ULL;
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string key(16, 'g');
    for (int i = 15; i >= 1; --i) {
        key[static_cast<size_t>(i)] = k_hex[h & 0xF];
        h >>= 4;
    }
    return key;
}

std::vector<PendingSpanRow> pending_rows(const std::vector<OtlpSpan>& spans, int64_t now_ms) {
    // The spans of each trace, by first appearance.
    std::vector<std::vector<const OtlpSpan*>> groups;
    std::unordered_map<std::string_view, size_t> group_of;
    for (const OtlpSpan& s : spans) {
        auto [it, fresh] = group_of.try_emplace(s.trace_id, groups.size());
        if (fresh) {
            groups.emplace_back();
        }
        groups[it->second].push_back(&s);
    }
    std::vector<PendingSpanRow> rows;
    rows.reserve(groups.size());
    for (const std::vector<const OtlpSpan*>& g : groups) {
        PendingSpanRow r;
        r.trace_key = g.front()->trace_id;
        if (g.size() == 1) {
            r.span_id = g.front()->span_id;
        } else {
            std::vector<std::string_view> ids;
            ids.reserve(g.size());
            for (const OtlpSpan* s : g) {
                ids.push_back(s->span_id);
            }
            r.span_id = pending_group_key(std::move(ids));
        }
        r.received_ms = now_ms;
        r.span_json = to_otlp_json(g);
        r.span_count = static_cast<int64_t>(g.size());
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace assay
