#pragma once
// The parts of the review store's SQL and checks that do not depend on the
// backend (SQLite and PostgreSQL share the schema): the WHERE clause of a
// filtered review list, the "has a label" condition and the validation of a
// new label. Pure functions: safe from any thread.

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "store/review_store.h"

namespace assay {

// The score row `s` has a label for its trace and scorer version (index labels_trace).
extern const char* const k_review_has_label;

// How a backend binds a value: each call appends one parameter and returns
// its placeholder (SQLite "?n", PostgreSQL "$n").
struct SqlPlaceholders {
    std::function<std::string(const std::string&)> text;
    std::function<std::string(int64_t)> integer;
};

struct ReviewWhere {
    std::string sql;            // " WHERE s.scorer_version = ... AND s.decision = 0 ..."
    bool trace_filter = false;  // a column of traces is filtered
    bool needs_join = false;    // the condition names traces as t: the query must join it
};

// How the trace filters and the label filter are written.
enum class ReviewFilterShape {
    // t.feature = ... (the query joins traces as t); labels by a correlated
    // EXISTS.
    join,
    // One `s.trace IN (SELECT id FROM traces WHERE col = ... [AND ts_ms
    // range])` per filtered column (each an index-only scan of that column's
    // (col, ts_ms) INCLUDE (id) index; time alone: traces_ts) and labels by
    // an uncorrelated `s.trace [NOT] IN (SELECT l.trace FROM labels l ...)`
    // (one hashed scan of the version's labels): no join with traces.
    subquery,
};

// The rows of scorer version `version_id` (scores as s, traces as t) that
// `f` selects; f.scorer and f.scorer_version are not read (the caller
// resolved them into version_id).
ReviewWhere review_where(const ReviewFilter& f, int64_t version_id, const SqlPlaceholders& ph,
                         ReviewFilterShape shape = ReviewFilterShape::join);

// OK for a label add_label may store; else invalid_argument naming the
// field and value (verdict, a score for "score", reviewer, source).
Status check_new_label(const NewLabel& n);

}  // namespace assay
