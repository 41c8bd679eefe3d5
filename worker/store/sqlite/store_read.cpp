// SqliteStore: the reads of `assay bottom`, `assay trace` and the counts
// (store.h). Kept apart from opening, migrating and the batched write path
// in store.cpp. All SQL is parameterised.
#include <sqlite3.h>

#include "store/sqlite/stmt.h"
#include "store/sqlite/store.h"

namespace assay {

using sqlite_detail::Stmt;

Result<std::vector<BottomRow>> SqliteStore::bottom(const BottomQuery& q) {
    std::string version = q.scorer_version;
    if (version.empty()) {
        Stmt v;
        if (v.prepare(m_db,
                      "SELECT version FROM scorer_versions WHERE scorer = ?1 "
                      "ORDER BY last_seen_ms DESC, id DESC LIMIT 1") != SQLITE_OK) {
            return error("preparing version lookup");
        }
        v.bind_text(1, q.scorer);
        int rc = v.step();
        if (rc == SQLITE_ROW) {
            version = v.col_text(0);
        } else if (rc == SQLITE_DONE) {
            return Status::not_found("no scorer named '" + q.scorer +
                                     "' has written to this store");
        } else {
            return error("looking up scorer version");
        }
    }
    std::string sql =
        "SELECT t.trace_id, v.version, s.value, s.passed, s.label, s.explanation, t.ts_ms, "
        "t.feature, t.tenant, t.prompt_version, t.model, t.raw "
        "FROM scorer_versions v JOIN scores s ON s.scorer_version = v.id JOIN traces t ON t.id = "
        "s.trace "
        "WHERE v.scorer = ?1 AND v.version = ?2 AND s.decision = 0";
    if (!q.feature.empty()) {
        sql += " AND t.feature = ?3";
    }
    if (!q.tenant.empty()) {
        sql += " AND t.tenant = ?4";
    }
    if (!q.prompt_version.empty()) {
        sql += " AND t.prompt_version = ?5";
    }
    if (!q.model.empty()) {
        sql += " AND t.model = ?6";
    }
    if (q.since_ms) {
        sql += " AND t.ts_ms >= ?7";
    }
    // Failures first, then the lowest values; newest first among equals.
    sql += " ORDER BY (s.passed IS NULL), s.passed, s.value, t.ts_ms DESC, t.trace_id LIMIT ?8";
    Stmt st;
    if (st.prepare(m_db, sql.c_str()) != SQLITE_OK) {
        return error("preparing bottom query");
    }
    st.bind_text(1, q.scorer);
    st.bind_text(2, version);
    if (!q.feature.empty()) {
        st.bind_text(3, q.feature);
    }
    if (!q.tenant.empty()) {
        st.bind_text(4, q.tenant);
    }
    if (!q.prompt_version.empty()) {
        st.bind_text(5, q.prompt_version);
    }
    if (!q.model.empty()) {
        st.bind_text(6, q.model);
    }
    if (q.since_ms) {
        st.bind_int(7, *q.since_ms);
    }
    st.bind_int(8, q.limit);
    std::vector<BottomRow> rows;
    int rc = 0;
    while ((rc = st.step()) == SQLITE_ROW) {
        BottomRow r;
        r.trace_id = st.col_text(0);
        r.scorer = q.scorer;
        r.scorer_version = st.col_text(1);
        r.value = st.col_double(2);
        if (!st.col_null(3)) {
            r.passed = st.col_int(3) != 0;
        }
        r.label = st.col_text(4);
        r.explanation = st.col_text(5);
        r.ts_ms = st.col_int(6);
        r.feature = st.col_text(7);
        r.tenant = st.col_text(8);
        r.prompt_version = st.col_text(9);
        r.model = st.col_text(10);
        r.raw = st.col_text(11);
        rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) {
        return error("running bottom query");
    }
    return rows;
}

Result<StoredTrace> SqliteStore::trace(const std::string& trace_id) {
    Stmt t;
    if (t.prepare(m_db, "SELECT raw, ts_ms, received_ms, id FROM traces WHERE trace_id = ?1") !=
        SQLITE_OK) {
        return error("preparing trace lookup");
    }
    t.bind_text(1, trace_id);
    int rc = t.step();
    if (rc == SQLITE_DONE) {
        return Status::not_found("no trace '" + trace_id + "' in the store");
    }
    if (rc != SQLITE_ROW) {
        return error("reading trace");
    }
    StoredTrace out;
    out.raw = t.col_text(0);
    out.ts_ms = t.col_int(1);
    out.received_ms = t.col_int(2);
    const int64_t row_id = t.col_int(3);
    Stmt s;
    if (s.prepare(
            m_db,
            "SELECT v.scorer, v.version, s.decision, s.value, s.passed, s.label, s.explanation, "
            "s.reason, s.at_ms FROM scores s JOIN scorer_versions v ON v.id = s.scorer_version "
            "WHERE s.trace = ?1 ORDER BY v.scorer, s.at_ms") != SQLITE_OK) {
        return error("preparing score lookup");
    }
    s.bind_int(1, row_id);
    while ((rc = s.step()) == SQLITE_ROW) {
        ScoreRow r;
        r.trace_id = trace_id;
        r.scorer = s.col_text(0);
        r.scorer_version = s.col_text(1);
        r.decision = static_cast<Decision>(s.col_int(2));
        if (!s.col_null(3)) {
            Score sc;
            sc.value = s.col_double(3);
            if (!s.col_null(4)) {
                sc.passed = s.col_int(4) != 0;
            }
            sc.label = s.col_text(5);
            sc.explanation = s.col_text(6);
            r.score = sc;
        }
        r.reason = s.col_text(7);
        r.at_ms = s.col_int(8);
        out.rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) {
        return error("reading scores");
    }
    return out;
}

Result<StoreCounts> SqliteStore::counts() {
    StoreCounts c;
    struct Q {
        const char* sql;
        int64_t* out;
    };
    Q qs[] = {{"SELECT count(*) FROM traces", &c.traces},
              {"SELECT count(*) FROM scores WHERE decision = 0", &c.scores},
              {"SELECT count(*) FROM scores", &c.decisions},
              {"SELECT count(*) FROM dead_letters", &c.dead_letters},
              {"SELECT count(*) FROM judge_queue", &c.judge_pending}};
    for (auto& q : qs) {
        Stmt st;
        if (st.prepare(m_db, q.sql) != SQLITE_OK || st.step() != SQLITE_ROW) {
            return error("counting");
        }
        *q.out = st.col_int(0);
    }
    return c;
}

Result<std::vector<CounterDelta>> SqliteStore::sampler_counters() {
    Stmt st;
    if (st.prepare(m_db,
                   "SELECT scorer, day, seen, in_scope, sampled, forced FROM sampler_counters "
                   "ORDER BY scorer, day") != SQLITE_OK) {
        return error("preparing counters query");
    }
    std::vector<CounterDelta> out;
    int rc = 0;
    while ((rc = st.step()) == SQLITE_ROW) {
        out.push_back({st.col_text(0), st.col_text(1), st.col_int(2), st.col_int(3), st.col_int(4),
                       st.col_int(5)});
    }
    if (rc != SQLITE_DONE) {
        return error("reading counters");
    }
    return out;
}

}  // namespace assay
