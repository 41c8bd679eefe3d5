#include "store/review_sql.h"

namespace assay {

const char* const k_review_has_label =
    "EXISTS (SELECT 1 FROM labels l WHERE l.trace = s.trace AND l.scorer_version = "
    "s.scorer_version)";

ReviewWhere review_where(const ReviewFilter& f, int64_t version_id, const SqlPlaceholders& ph) {
    ReviewWhere w;
    w.sql = " WHERE s.scorer_version = " + ph.integer(version_id) + " AND s.decision = 0";
    auto eq = [&](const char* col, const std::string& val) {
        if (!val.empty()) {
            w.sql += std::string(" AND t.") + col + " = " + ph.text(val);
            w.trace_filter = true;
        }
    };
    eq("feature", f.feature);
    eq("tenant", f.tenant);
    eq("prompt_version", f.prompt_version);
    eq("model", f.model);
    if (f.since_ms) {
        w.sql += " AND t.ts_ms >= " + ph.integer(*f.since_ms);
        w.trace_filter = true;
    }
    if (f.until_ms) {
        w.sql += " AND t.ts_ms < " + ph.integer(*f.until_ms);
        w.trace_filter = true;
    }
    if (f.passed) {
        w.sql += *f.passed ? " AND s.passed = 1" : " AND s.passed = 0";
    }
    if (f.labelled) {
        w.sql += std::string(*f.labelled ? " AND " : " AND NOT ") + k_review_has_label;
    }
    return w;
}

Status check_new_label(const NewLabel& n) {
    if (n.verdict != "agree" && n.verdict != "disagree" && n.verdict != "score") {
        return Status::invalid_argument("verdict '" + n.verdict +
                                        "': expected agree, disagree or score");
    }
    if (n.verdict == "score" && !n.score) {
        return Status::invalid_argument("verdict 'score' needs a score");
    }
    if (n.reviewer.empty()) {
        return Status::invalid_argument("reviewer: a name is required");
    }
    if (n.source != "review" && n.source != "calibration") {
        return Status::invalid_argument("source '" + n.source +
                                        "': expected review or calibration");
    }
    return {};
}

}  // namespace assay
