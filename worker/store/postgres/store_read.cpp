// PostgresStore: the reads of `assay bottom`, `assay trace` and the counts
// (store.h), in the same order and meaning as SqliteStore's. All SQL is
// parameterised. Text ties are ordered COLLATE "C" (byte order, as SQLite).
#include "store/postgres/conn.h"
#include "store/postgres/store.h"

namespace assay {

using pg::PgParams;

Result<std::vector<BottomRow>> PostgresStore::bottom(const BottomQuery& q) {
    std::string version = q.scorer_version;
    if (version.empty()) {
        PgParams p;
        const std::string sql =
            "SELECT version FROM scorer_versions WHERE scorer = " + p.text(q.scorer) +
            " ORDER BY last_seen_ms DESC, id DESC LIMIT 1";
        auto r = m_conn->exec(sql, p, "looking up scorer version");
        if (!r.ok()) {
            return r.status();
        }
        if (r->rows() == 0) {
            return Status::not_found("no scorer named '" + q.scorer +
                                     "' has written to this store");
        }
        version = r->text(0, 0);
    }
    PgParams p;
    std::string sql =
        "SELECT t.trace_id, v.version, s.value, s.passed, s.label, s.explanation, t.ts_ms, "
        "t.feature, t.tenant, t.prompt_version, t.model, t.raw "
        "FROM scorer_versions v JOIN scores s ON s.scorer_version = v.id "
        "JOIN traces t ON t.id = s.trace WHERE v.scorer = " +
        p.text(q.scorer) + " AND v.version = " + p.text(version) + " AND s.decision = 0";
    if (!q.feature.empty()) {
        sql += " AND t.feature = " + p.text(q.feature);
    }
    if (!q.tenant.empty()) {
        sql += " AND t.tenant = " + p.text(q.tenant);
    }
    if (!q.prompt_version.empty()) {
        sql += " AND t.prompt_version = " + p.text(q.prompt_version);
    }
    if (!q.model.empty()) {
        sql += " AND t.model = " + p.text(q.model);
    }
    if (q.since_ms) {
        sql += " AND t.ts_ms >= " + p.integer(*q.since_ms);
    }
    // Failures first, then the lowest values; newest first among equals.
    sql +=
        " ORDER BY (s.passed IS NULL), s.passed, s.value, t.ts_ms DESC, t.trace_id COLLATE \"C\" "
        "LIMIT " +
        p.integer(q.limit);
    auto r = m_conn->exec(sql, p, "running bottom query");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<BottomRow> rows;
    rows.reserve(static_cast<size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        BottomRow b;
        b.trace_id = r->text(i, 0);
        b.scorer = q.scorer;
        b.scorer_version = r->text(i, 1);
        b.value = r->real(i, 2);
        b.passed = r->opt_bool(i, 3);
        b.label = r->text(i, 4);
        b.explanation = r->text(i, 5);
        b.ts_ms = r->integer(i, 6);
        b.feature = r->text(i, 7);
        b.tenant = r->text(i, 8);
        b.prompt_version = r->text(i, 9);
        b.model = r->text(i, 10);
        b.raw = r->text(i, 11);
        rows.push_back(std::move(b));
    }
    return rows;
}

Result<StoredTrace> PostgresStore::trace(const std::string& trace_id) {
    PgParams p;
    const std::string sql =
        "SELECT raw, ts_ms, received_ms, id FROM traces WHERE trace_id = " + p.text(trace_id);
    auto t = m_conn->exec(sql, p, "reading trace");
    if (!t.ok()) {
        return t.status();
    }
    if (t->rows() == 0) {
        return Status::not_found("no trace '" + trace_id + "' in the store");
    }
    StoredTrace out;
    out.raw = t->text(0, 0);
    out.ts_ms = t->integer(0, 1);
    out.received_ms = t->integer(0, 2);
    PgParams sp;
    const std::string scores_sql =
        "SELECT v.scorer, v.version, s.decision, s.value, s.passed, s.label, s.explanation, "
        "s.reason, s.at_ms FROM scores s JOIN scorer_versions v ON v.id = s.scorer_version "
        "WHERE s.trace = " +
        sp.integer(t->integer(0, 3)) + " ORDER BY v.scorer COLLATE \"C\", s.at_ms";
    auto s = m_conn->exec(scores_sql, sp, "reading scores");
    if (!s.ok()) {
        return s.status();
    }
    for (int i = 0; i < s->rows(); ++i) {
        ScoreRow r;
        r.trace_id = trace_id;
        r.scorer = s->text(i, 0);
        r.scorer_version = s->text(i, 1);
        r.decision = static_cast<Decision>(s->integer(i, 2));
        if (!s->null(i, 3)) {
            Score sc;
            sc.value = s->real(i, 3);
            sc.passed = s->opt_bool(i, 4);
            sc.label = s->text(i, 5);
            sc.explanation = s->text(i, 6);
            r.score = sc;
        }
        r.reason = s->text(i, 7);
        r.at_ms = s->integer(i, 8);
        out.rows.push_back(std::move(r));
    }
    return out;
}

Result<StoreCounts> PostgresStore::counts() {
    auto r = m_conn->exec(
        "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM scores WHERE decision = 0), "
        "(SELECT count(*) FROM scores), (SELECT count(*) FROM dead_letters), "
        "(SELECT count(*) FROM judge_queue)",
        "counting");
    if (!r.ok()) {
        return r.status();
    }
    StoreCounts c;
    c.traces = r->integer(0, 0);
    c.scores = r->integer(0, 1);
    c.decisions = r->integer(0, 2);
    c.dead_letters = r->integer(0, 3);
    c.judge_pending = r->integer(0, 4);
    return c;
}

Result<std::vector<CounterDelta>> PostgresStore::sampler_counters() {
    auto r = m_conn->exec(
        "SELECT scorer, day, seen, in_scope, sampled, forced FROM sampler_counters "
        "ORDER BY scorer COLLATE \"C\", day COLLATE \"C\"",
        "reading counters");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<CounterDelta> out;
    for (int i = 0; i < r->rows(); ++i) {
        out.push_back({r->text(i, 0), r->text(i, 1), r->integer(i, 2), r->integer(i, 3),
                       r->integer(i, 4), r->integer(i, 5)});
    }
    return out;
}

}  // namespace assay
