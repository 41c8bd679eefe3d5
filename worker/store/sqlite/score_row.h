#pragma once
// The SQL that writes one `scores` row (store.h ScoreRow) and the binding of
// its parameters, in order: trace, scorer_version, decision, value, passed,
// label, explanation, reason, at_ms. Used by every SqliteStore path that
// writes scores (pipeline batches and judge outcomes), so the statement is
// written and its columns are bound one way only. The row's strings must
// outlive the statement's step().

#include <cstdint>
#include <string>

#include "store/sqlite/stmt.h"
#include "store/store.h"

namespace assay::sqlite_detail {

// A row of a trace that cannot have scores yet (inserted in this batch).
inline constexpr const char* k_insert_score = R"sql(
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
)sql";

// Rows per statement of the pipeline's bulk insert of new traces' rows: one
// statement per 32 rows instead of one per row (statement start and end, cursor
// set-up, were a tenth of the writer's instructions).
inline constexpr int k_score_rows_per_insert = 32;
inline constexpr int k_score_columns = 9;

// k_insert_score for `rows` rows: row r's parameters are ?(9r+1) .. ?(9r+9).
// OR FAIL: a failing row stops the statement without undoing the rows before
// it, so SQLite keeps no statement journal (with the default ABORT, that
// journal cost more than the statements saved); the caller rolls back the
// whole transaction on any failure.
inline std::string insert_scores_sql(int rows) {
    std::string sql =
        "INSERT OR FAIL INTO scores (trace, scorer_version, decision, value, passed, label, "
        "explanation, "
        "reason, at_ms) VALUES ";
    for (int r = 0; r < rows; ++r) {
        sql += r ? ",(" : "(";
        for (int c = 1; c <= k_score_columns; ++c) {
            sql += (c > 1 ? ",?" : "?") + std::to_string(r * k_score_columns + c);
        }
        sql += ")";
    }
    return sql;
}

// A row that may replace an earlier decision of the same scorer version.
inline constexpr const char* k_upsert_score = R"sql(
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (trace, scorer_version) DO UPDATE SET decision = excluded.decision,
  value = excluded.value, passed = excluded.passed, label = excluded.label,
  explanation = excluded.explanation, reason = excluded.reason, at_ms = excluded.at_ms
)sql";

// changed_hours (schema.cpp): the hour of trace time `ts_ms` (floored, also
// before 1970) and the upsert that records a score row written at ?2 for a
// trace of hour ?1. Every path that writes score rows runs it once per hour
// it touched, in the same transaction, so the aggregator finds that hour.
constexpr int64_t k_hour_ms = 3600000;
inline int64_t hour_of(int64_t ts_ms) {
    return ts_ms - ((ts_ms % k_hour_ms) + k_hour_ms) % k_hour_ms;
}
inline constexpr const char* k_mark_hour = R"sql(
INSERT INTO changed_hours (hour_ms, changed_ms) VALUES (?1, ?2)
ON CONFLICT (hour_ms) DO UPDATE SET changed_ms = max(changed_ms, excluded.changed_ms)
)sql";
// The same for the stored trace of row id ?1 (its hour read from the table).
inline constexpr const char* k_mark_trace_hour = R"sql(
INSERT INTO changed_hours (hour_ms, changed_ms)
SELECT ts_ms - ((ts_ms % 3600000) + 3600000) % 3600000, ?2 FROM traces WHERE id = ?1
ON CONFLICT (hour_ms) DO UPDATE SET changed_ms = max(changed_ms, excluded.changed_ms)
)sql";

// Binds the row's nine parameters from ?(first) on (the row's place in a
// multi-row insert); unset ones stay NULL after a reset().
inline void bind_score_row(Stmt& st, int64_t trace, int64_t version, const ScoreRow& r,
                           int first = 1) {
    const int o = first - 1;
    st.bind_int(o + 1, trace);
    st.bind_int(o + 2, version);
    st.bind_int(o + 3, static_cast<int>(r.decision));
    if (r.score) {
        st.bind_double(o + 4, r.score->value);
        if (r.score->passed) {
            st.bind_int(o + 5, *r.score->passed ? 1 : 0);
        }
        st.bind_text_or_null(o + 6, r.score->label);
        st.bind_text_or_null(o + 7, r.score->explanation);
    }
    st.bind_text_or_null(o + 8, r.reason);
    st.bind_int(o + 9, r.at_ms);
}

}  // namespace assay::sqlite_detail
