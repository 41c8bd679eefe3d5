#pragma once
// Binds one `scores` row (store.h ScoreRow) to a prepared INSERT/UPSERT whose
// parameters are, in order: trace, scorer_version, decision, value, passed,
// label, explanation, reason, at_ms. Used by every SqliteStore path that
// writes scores (pipeline batches and judge outcomes), so the columns are
// bound one way only. The row's strings must outlive the statement's step().

#include <cstdint>

#include "store/sqlite/stmt.h"
#include "store/store.h"

namespace assay::sqlite_detail {

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
