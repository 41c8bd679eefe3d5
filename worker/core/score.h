#pragma once
// What a scorer produces for one trace, and the decision record that says
// what happened to every trace × scorer pair.

#include <optional>
#include <string>

namespace assay {

struct Score {
    double value = 0.0;
    std::optional<bool> passed;  // nullopt: the scorer has no pass/fail notion here
    std::string label;           // short class name, e.g. "refusal", "valid", "leak"
    std::string explanation;     // what was found, for humans
};

// The decision for one trace × scorer. Stored with every row in `scores`;
// the numbers are the codes of the `decisions` table: never renumber.
// Stored as its code. A new code needs a migration on both backends: a row
// in `decisions`, and on PostgreSQL a wider `scores_decision_known` CHECK.
enum class Decision {
    scored = 0,                 // a Score was produced
    filtered_out = 1,           // the scorer's filter (or `when`) excluded the trace
    sampled_out = 2,            // in scope, but u(trace_id) >= sample_rate
    skipped_missing_input = 3,  // the trace lacks an input the scorer needs
    pending = 4,                // sampled for an LLM judge; waiting in judge_queue
    skipped_budget = 5,         // sampled, but the judge budget was exhausted
    failed = 6,                 // the scorer failed; the error is in `reason`
};

const char* to_string(Decision d);

}  // namespace assay
