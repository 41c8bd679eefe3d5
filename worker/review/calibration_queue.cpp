#include "review/calibration_queue.h"

#include <cctype>
#include <set>

namespace assay::review {

Result<CalibrationQueue> sample_calibration_queue(ReviewStore& store, const std::string& scorer,
                                                  const std::string& scorer_version, int64_t n,
                                                  std::mt19937_64& rng) {
    auto strata = store.verdict_strata(scorer, scorer_version, true);
    if (!strata.ok()) {
        return strata.status();
    }
    auto pairs = store.calibration_pairs(scorer, strata->version);
    if (!pairs.ok()) {
        return pairs.status();
    }
    CalibrationQueue q;
    q.scorer = scorer;
    q.version = strata->version;
    for (const auto& st : strata->strata) {
        QueueStratum qs{st.verdict, st.scored, st.unlabelled, 0};
        for (const auto& p : *pairs) {
            const char* verdict = !p.passed ? "none" : (*p.passed ? "pass" : "fail");
            qs.queue_labels += (p.human.source == "calibration" && qs.verdict == verdict) ? 1 : 0;
        }
        q.strata.push_back(std::move(qs));
    }
    // Indexes already taken per stratum (sampling without replacement).
    std::vector<std::set<int64_t>> taken(q.strata.size());
    for (int64_t k = 0; k < n; ++k) {
        size_t best = q.strata.size();
        for (size_t i = 0; i < q.strata.size(); ++i) {
            const auto& st = q.strata[i];
            if (static_cast<int64_t>(taken[i].size()) >= st.unlabelled) {
                continue;
            }
            const int64_t load = st.queue_labels + static_cast<int64_t>(taken[i].size());
            if (best == q.strata.size() ||
                load < q.strata[best].queue_labels + static_cast<int64_t>(taken[best].size())) {
                best = i;
            }
        }
        if (best == q.strata.size()) {
            break;  // every verdict is fully labelled
        }
        std::uniform_int_distribution<int64_t> pick(0, q.strata[best].unlabelled - 1);
        int64_t index = pick(rng);
        while (taken[best].count(index)) {
            index = pick(rng);
        }
        taken[best].insert(index);
        auto id = store.unlabelled_trace(scorer, q.version, q.strata[best].verdict, index);
        if (!id.ok()) {
            return id.status();
        }
        if (!*id) {
            // Labelled meanwhile by someone else: this stratum is smaller now.
            q.strata[best].unlabelled = index;
            continue;
        }
        q.items.push_back({**id, q.strata[best].verdict});
    }
    return q;
}

namespace {

// `s` for a URL query value: unreserved characters (RFC 3986) as they are,
// every other byte as %XX.
std::string query_escape(const std::string& s) {
    static const char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string workspace_link(const CalibrationQueue& q, const QueueItem& item) {
    return "/?scorer=" + query_escape(q.scorer) + "&scorer_version=" + query_escape(q.version) +
           "&queue=calibration&id=" + query_escape(item.trace_id);
}

nlohmann::json to_json(const CalibrationQueue& q) {
    nlohmann::json strata = nlohmann::json::array();
    for (const auto& st : q.strata) {
        strata.push_back({{"verdict", st.verdict},
                          {"scored", st.scored},
                          {"unlabelled", st.unlabelled},
                          {"queue_labels", st.queue_labels}});
    }
    nlohmann::json items = nlohmann::json::array();
    for (const auto& it : q.items) {
        items.push_back(
            {{"trace_id", it.trace_id}, {"verdict", it.verdict}, {"link", workspace_link(q, it)}});
    }
    return {
        {"scorer", q.scorer}, {"scorer_version", q.version}, {"strata", strata}, {"traces", items}};
}

}  // namespace assay::review
