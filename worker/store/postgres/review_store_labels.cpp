// PostgresReviewStore: labels (the one write), the calibration queue's
// strata and picks, calibration pairs and trends (review_store.h). Same
// order and meaning as SqliteReviewStore.
#include <mutex>

#include "core/time_format.h"
#include "store/postgres/conn.h"
#include "store/postgres/review_store.h"
#include "store/review_sql.h"

namespace assay {

using pg::PgParams;

namespace {

// count(*) of the score rows matching `cond` that have no label for their version.
std::string unlabelled_count(const std::string& cond) {
    return "count(*) FILTER (WHERE " + cond + " AND NOT " + k_review_has_label + ")";
}

}  // namespace

Result<int64_t> PostgresReviewStore::add_label(const NewLabel& n) {
    ASSAY_RETURN_IF_ERROR(check_new_label(n));
    std::lock_guard lock(m_mu);
    auto v = resolve_version(n.scorer, n.scorer_version);
    if (!v.ok()) {
        return v.status();
    }
    PgParams tp;
    auto t = m_conn->exec("SELECT id FROM traces WHERE trace_id = " + tp.text(n.trace_id), tp,
                          "reading trace");
    if (!t.ok()) {
        return t.status();
    }
    if (t->rows() == 0) {
        return Status::not_found("no trace '" + n.trace_id + "' in the store");
    }
    PgParams p;
    const std::string values = p.integer(t->integer(0, 0)) + ", " + p.integer(v->id) + ", " +
                               p.text(n.reviewer) + ", " + p.text(n.verdict) + ", " +
                               (n.verdict == "score" ? p.real(*n.score) : p.null()) + ", " +
                               p.text(n.note) + ", " + p.integer(n.at_ms) + ", " + p.text(n.source);
    auto ins = m_conn->exec(
        "INSERT INTO labels (trace, scorer_version, reviewer, verdict, score, note, at_ms, "
        "source) VALUES (" +
            values + ") RETURNING id",
        p, "storing label");
    if (!ins.ok()) {
        return ins.status();
    }
    return ins->integer(0, 0);
}

Result<VersionStrata> PostgresReviewStore::verdict_strata(const std::string& scorer,
                                                          const std::string& scorer_version,
                                                          bool count_unlabelled) {
    std::lock_guard lock(m_mu);
    auto v = resolve_version(scorer, scorer_version);
    if (!v.ok()) {
        return v.status();
    }
    VersionStrata out;
    out.version = v->version;
    PgParams p;
    const std::string sql =
        std::string(
            "SELECT count(*) FILTER (WHERE passed = 0), count(*) FILTER (WHERE passed = 1), "
            "count(*) FILTER (WHERE passed IS NULL)") +
        (count_unlabelled
             ? ", " + unlabelled_count("passed = 0") + ", " + unlabelled_count("passed = 1") +
                   ", " + unlabelled_count("passed IS NULL")
             : std::string()) +
        " FROM scores s WHERE s.scorer_version = " + p.integer(v->id) + " AND s.decision = 0";
    auto r = m_conn->exec(sql, p, "counting verdicts");
    if (!r.ok()) {
        return r.status();
    }
    const char* names[3] = {"fail", "pass", "none"};
    for (int i = 0; i < 3; ++i) {
        VerdictStratum st{names[i], r->integer(0, i), count_unlabelled ? r->integer(0, 3 + i) : 0};
        if (st.scored > 0) {
            out.strata.push_back(std::move(st));
        }
    }
    return out;
}

Result<std::optional<std::string>> PostgresReviewStore::unlabelled_trace(
    const std::string& scorer, const std::string& scorer_version, const std::string& verdict,
    int64_t index) {
    const char* cond = verdict == "fail"   ? " AND s.passed = 0"
                       : verdict == "pass" ? " AND s.passed = 1"
                       : verdict == "none" ? " AND s.passed IS NULL"
                                           : nullptr;
    if (cond == nullptr) {
        return Status::invalid_argument("verdict '" + verdict + "': expected fail, pass or none");
    }
    std::lock_guard lock(m_mu);
    auto v = resolve_version(scorer, scorer_version);
    if (!v.ok()) {
        return v.status();
    }
    // Walks scores_review in its order, skipping labelled traces.
    PgParams p;
    const std::string sql =
        "SELECT t.trace_id FROM scores s JOIN traces t ON t.id = s.trace WHERE s.scorer_version "
        "= " +
        p.integer(v->id) + " AND s.decision = 0" + cond + " AND NOT " + k_review_has_label +
        " ORDER BY s.value, s.trace DESC LIMIT 1 OFFSET " + p.integer(index);
    auto r = m_conn->exec(sql, p, "reading the calibration queue pick");
    if (!r.ok()) {
        return r.status();
    }
    if (r->rows() == 0) {
        return std::optional<std::string>();
    }
    return std::optional<std::string>(r->text(0, 0));
}

Result<std::vector<CalibrationPair>> PostgresReviewStore::calibration_pairs(
    const std::string& scorer, const std::string& scorer_version) {
    std::lock_guard lock(m_mu);
    PgParams p;
    std::string sql =
        "SELECT t.trace_id, v.version, s.value, s.passed, s.label, l.id, l.reviewer, l.verdict, "
        "l.score, l.note, l.at_ms, l.source FROM labels l "
        "JOIN scorer_versions v ON v.id = l.scorer_version JOIN traces t ON t.id = l.trace "
        "JOIN scores s ON s.trace = l.trace AND s.scorer_version = l.scorer_version AND "
        "s.decision = 0 WHERE v.scorer = " +
        p.text(scorer);
    if (!scorer_version.empty()) {
        sql += " AND v.version = " + p.text(scorer_version);
    }
    sql += " ORDER BY l.at_ms, l.id";
    auto r = m_conn->exec(sql, p, "reading calibration pairs");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<CalibrationPair> out;
    for (int i = 0; i < r->rows(); ++i) {
        CalibrationPair c;
        c.trace_id = r->text(i, 0);
        c.scorer_version = r->text(i, 1);
        c.value = r->real(i, 2);
        c.passed = r->opt_bool(i, 3);
        c.choice = r->text(i, 4);
        c.human.id = r->integer(i, 5);
        c.human.trace_id = c.trace_id;
        c.human.scorer = scorer;
        c.human.scorer_version = c.scorer_version;
        c.human.reviewer = r->text(i, 6);
        c.human.verdict = r->text(i, 7);
        c.human.score = r->opt_real(i, 8);
        c.human.note = r->text(i, 9);
        c.human.at_ms = r->integer(i, 10);
        c.human.source = r->text(i, 11);
        out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<TrendPoint>> PostgresReviewStore::trends(const std::string& scorer,
                                                            const std::string& scorer_version,
                                                            int64_t days) {
    std::lock_guard lock(m_mu);
    auto v = resolve_version(scorer, scorer_version);
    if (!v.ok()) {
        return v.status();
    }
    constexpr int64_t k_day_ms = 86400000;
    int64_t since_ms = 0;
    auto m = m_conn->exec("SELECT max(ts_ms) FROM traces", "reading the newest trace time");
    if (!m.ok()) {
        return m.status();
    }
    if (!m->null(0, 0)) {
        since_ms = (m->integer(0, 0) / k_day_ms - (days - 1)) * k_day_ms;
    }
    PgParams p;
    const std::string sql =
        "SELECT coalesce(t.feature, '') COLLATE \"C\" AS f, t.ts_ms / 86400000 AS d, count(*), "
        "avg(s.value), avg(s.passed)::double precision, count(s.passed) FROM traces t JOIN "
        "scores s ON s.trace = t.id WHERE s.scorer_version = " +
        p.integer(v->id) + " AND s.decision = 0 AND t.ts_ms >= " + p.integer(since_ms) +
        " GROUP BY f, d ORDER BY f, d";
    auto r = m_conn->exec(sql, p, "reading trends");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<TrendPoint> out;
    for (int i = 0; i < r->rows(); ++i) {
        TrendPoint pt;
        pt.feature = r->text(i, 0);
        pt.day = format_rfc3339_ms(r->integer(i, 1) * k_day_ms).substr(0, 10);
        pt.n = r->integer(i, 2);
        pt.mean = r->real(i, 3);
        if (r->integer(i, 5) > 0) {
            pt.pass_rate = r->real(i, 4);
        }
        out.push_back(std::move(pt));
    }
    return out;
}

}  // namespace assay
