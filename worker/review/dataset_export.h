#pragma once
// Turning reviewed traces into regression cases in the gate's dataset format
// (one JSON object per line):
//   {"id", "input", "reference"?, "context"?, "metadata"?, "expect"?: {...}}
// id is the trace id; input is the trace's input as sent (a string or the
// chat messages); reference and context are copied when the trace has them;
// metadata is the trace's metadata plus "review": {scorer, scorer_version,
// value, passed, label, verdict, reviewer, note, score} of the newest label.
//
// How the newest label of the exported scorer becomes the expectation:
//   - verdict "score" (the reviewer's own score x)   -> expect.min_score {SCORER: x}
//   - agree / disagree on a `refusal` scorer          -> expect.refusal = the passing
//     outcome for this trace (metadata.expected_refusal, default false): the
//     reviewer confirmed (agree with a fail, disagree with a pass) or corrected
//     the verdict, and the case pins the right behaviour
//   - agree / disagree on a `format` scorer when the trace has
//     metadata.expected_format                        -> expect.format = that format
//   - anything else (no label, other scorer types)    -> no expect; the label
//     and note stay in metadata.review for the person editing the dataset.
// Trace content keeps its key order (ordered_json). Pure functions, thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/review_store.h"

namespace assay::review {

// The case for `detail` as scored by `scorer` (its decision of version
// `scorer_version`, and that version's newest label). invalid_argument when
// the stored trace is not a JSON object with an input.
Result<nlohmann::ordered_json> build_case(const TraceDetail& detail, const std::string& scorer,
                                          const std::string& scorer_version);

}  // namespace assay::review

namespace assay::review {

// The cases for `trace_ids` when given (in that order), else for the first
// `limit` rows of the bottom list under `filter`. The scorer version is the
// filter's (empty: latest). not_found for an unknown trace id or scorer.
Result<std::vector<nlohmann::ordered_json>> export_cases(ReviewStore& store,
                                                         const ReviewFilter& filter, int64_t limit,
                                                         const std::vector<std::string>& trace_ids);

}  // namespace assay::review
