#include "store/review_sql.h"

namespace assay {

const char* const k_review_has_label =
    "EXISTS (SELECT 1 FROM labels l WHERE l.trace = s.trace AND l.scorer_version = "
    "s.scorer_version)";

namespace {

// " AND t.ts_ms >= ... AND t.ts_ms < ..." of f (the prefix names the table).
std::string time_range(const ReviewFilter& f, const SqlPlaceholders& ph, const char* prefix) {
    std::string sql;
    if (f.since_ms) {
        sql += std::string(" AND ") + prefix + "ts_ms >= " + ph.integer(*f.since_ms);
    }
    if (f.until_ms) {
        sql += std::string(" AND ") + prefix + "ts_ms < " + ph.integer(*f.until_ms);
    }
    return sql;
}

}  // namespace

ReviewWhere review_where(const ReviewFilter& f, int64_t version_id, const SqlPlaceholders& ph,
                         ReviewFilterShape shape) {
    ReviewWhere w;
    const std::string version = ph.integer(version_id);
    w.sql = " WHERE s.scorer_version = " + version + " AND s.decision = 0";
    const bool subquery = shape == ReviewFilterShape::subquery;
    bool column = false;
    auto eq = [&](const char* col, const std::string& val) {
        if (val.empty()) {
            return;
        }
        column = true;
        if (subquery) {
            w.sql += std::string(" AND s.trace IN (SELECT id FROM traces WHERE ") + col + " = " +
                     ph.text(val) + time_range(f, ph, "") + ")";
        } else {
            w.sql += std::string(" AND t.") + col + " = " + ph.text(val);
        }
    };
    eq("feature", f.feature);
    eq("tenant", f.tenant);
    eq("prompt_version", f.prompt_version);
    eq("model", f.model);
    const bool timed = f.since_ms || f.until_ms;
    if (!subquery) {
        w.sql += time_range(f, ph, "t.");
    } else if (timed && !column) {
        w.sql += " AND s.trace IN (SELECT id FROM traces WHERE true" + time_range(f, ph, "") + ")";
    }
    w.trace_filter = column || timed;
    w.needs_join = w.trace_filter && !subquery;
    if (f.passed) {
        w.sql += *f.passed ? " AND s.passed = 1" : " AND s.passed = 0";
    }
    if (f.labelled && subquery) {
        w.sql += std::string(*f.labelled ? " AND s.trace IN" : " AND s.trace NOT IN") +
                 " (SELECT l.trace FROM labels l WHERE l.scorer_version = " + version + ")";
    } else if (f.labelled) {
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
