#pragma once
// The SQL that writes one `scores` row (store.h ScoreRow) and the binding of
// its parameters, in order: trace, scorer_version, decision, value, passed,
// label, explanation, reason, at_ms. Used by every SqliteStore path that
// writes scores (pipeline batches and judge outcomes), so the statement is
// written and its columns are bound one way only. The row's strings must
// outlive the statement's step().

#include <cstdint>

#include "store/sqlite/stmt.h"
#include "store/store.h"

namespace assay::sqlite_detail {

// A row of a trace that cannot have scores yet (inserted in this batch).
inline constexpr const char* k_insert_score = R"sql(
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
)sql";

// A row that may replace an earlier decision of the same scorer version.
inline constexpr const char* k_upsert_score = R"sql(
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (trace, scorer_version) DO UPDATE SET decision = excluded.decision,
  value = excluded.value, passed = excluded.passed, label = excluded.label,
  explanation = excluded.explanation, reason = excluded.reason, at_ms = excluded.at_ms
)sql";

inline void bind_score_row(Stmt& st, int64_t trace, int64_t version, const ScoreRow& r) {
    st.bind_int(1, trace);
    st.bind_int(2, version);
    st.bind_int(3, static_cast<int>(r.decision));
    if (r.score) {
        st.bind_double(4, r.score->value);
        if (r.score->passed) {
            st.bind_int(5, *r.score->passed ? 1 : 0);
        }
        st.bind_text_or_null(6, r.score->label);
        st.bind_text_or_null(7, r.score->explanation);
    }
    st.bind_text_or_null(8, r.reason);
    st.bind_int(9, r.at_ms);
}

}  // namespace assay::sqlite_detail
