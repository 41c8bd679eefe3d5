#pragma once
// CaseJudge: the seam through which the gate gets LLM-judge scores.
//
// The gate runs the code scorers itself. Every judge scorer (type with
// is_judge) that applies to a case on a side becomes one JudgeRequest; the
// gate hands all requests of one side to CaseJudge::judge() in one call and
// expects one JudgeOutcome per request, in the same order. The implementation
// (the judge stage: provider clients, cache, concurrency, retries, budget) is
// free to run them concurrently. Pass/fail must be computed by the judge
// stage from the score and the rubric's threshold (never from the model's own
// "pass" words), as for the worker.
//
// Failure: a non-OK Status means the stage as a whole is unusable (no
// provider, config error): the gate exits 2. A per-request failure (timeout,
// unparsable reply, budget) is an outcome with `error` set: the gate counts
// it and fails closed (exit 2) when there are more than
// gate.allow_judge_errors / --allow-judge-errors of them.
//
// Ownership: requests point into the gate's traces and scorers, valid for the
// duration of the call. Thread safety: called from one thread; the
// implementation may use its own threads inside the call.

#include <optional>
#include <string>
#include <vector>

#include "core/score.h"
#include "core/status.h"
#include "core/trace.h"
#include "pipeline/scorer_set.h"

namespace assay::gate {

struct JudgeRequest {
    const Trace* trace = nullptr;              // the side's output, completed from its case
    const ConfiguredScorer* scorer = nullptr;  // the judge scorer (name, version, config)
    std::string side;                          // "baseline" | "candidate"
};

struct JudgeOutcome {
    std::optional<Score> score;   // set on success
    std::string error;            // set on failure ("timeout after 3 attempts", ...)
    bool skipped_budget = false;  // not judged: over the judge budget (counts as an error)
};

class CaseJudge {
public:
    virtual ~CaseJudge() = default;
    virtual Result<std::vector<JudgeOutcome>> judge(const std::vector<JudgeRequest>& requests) = 0;
};

}  // namespace assay::gate
