#pragma once
// Re-judging stored traces with one judge outside the judge stage (`assay
// judges compare` asks a candidate judge about the traces reviewers
// labelled). Each trace is rendered under the rubric as the stage renders it
// (the judge's PII redaction, its structured verdict when on) and sent
// through the judge's normal JudgeClient (its limits, retries, pauses); the
// judge's daily budget is checked against judge_spend before each call
// (estimated as the stage does; over it, the trace is skipped_budget and
// nothing is sent) and what every call cost is added to judge_spend. A reply
// that does not parse is asked once more, as in the stage. judge_cache is
// neither read nor written: every answer is a fresh, timed call.
// Blocks until every trace has its answer. Not thread-safe on one Store.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "judge/judge_options.h"
#include "judge/reply_parser.h"
#include "judge/rubric.h"
#include "llm/judge_client.h"
#include "store/store.h"

namespace assay {

struct RejudgeItem {
    std::string trace_id;
    std::string raw;  // the stored trace JSON
};

struct RejudgeResult {
    std::string trace_id;
    std::optional<JudgeVerdict> verdict;  // nullopt: no verdict (see error)
    bool passed = false;                  // verdict score >= rubric.pass_threshold
    // "" with a verdict; else skipped_budget, skipped_missing_input,
    // parse_error or the client's JudgeError name; error_message says more.
    std::string error, error_message;
    double cost_usd = 0;    // every billed attempt
    double latency_ms = 0;  // the answering attempt's wall time (0: nothing sent)
    int attempts = 0;
    int64_t input_tokens = 0, output_tokens = 0;
};

// Judges `items` in order with `client` (built from `judge`). `day` is the
// UTC day spend is booked on and the budget read for. Returns one result per
// item, in order; a Store error while booking spend is returned as is.
Result<std::vector<RejudgeResult>> rejudge_traces(const JudgeRuntime& judge, JudgeClient& client,
                                                  const Rubric& rubric,
                                                  const std::vector<RejudgeItem>& items,
                                                  Store& store, const std::string& day,
                                                  int64_t now_ms);

}  // namespace assay
