#pragma once
// Scores one side's outputs: every configured scorer through the same
// per-trace evaluation as `assay score` (pipeline/evaluate.h), then the
// judge scorers through the CaseJudge seam, then every case's expect checks.
//
// The gate scores every case: sample_rate is set to 1 for every scorer (a
// gate must not sample), while `filter` and `when` still apply.
// Short-circuit (GateRules::short_circuit): a judge is not asked about a case
// whose code checks (expect checks or a code scorer with passed = false)
// already failed on this side; the outcome is "skipped_short_circuit".
//
// Failure: unavailable when judge scorers apply to some case and `judge` is
// null ("judge scorers are configured but ..."), or the judge's own non-OK
// Status. Thread safety: one call at a time per `judge`.

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gate/case_checks.h"
#include "gate/case_judge.h"
#include "gate/dataset.h"
#include "gate/gate_rules.h"
#include "gate/side_result.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay::gate {

struct SideInput {
    std::string side;                            // "baseline" | "candidate"
    std::string source;                          // file path, for the report
    const std::vector<Trace>* traces = nullptr;  // dataset order
};

// The scorers as the gate runs them (sample_rate 1).
std::vector<ConfiguredScorer> gate_scorers(const std::vector<ConfiguredScorer>& configured);

// `progress(done, total)` is called after each case (may be empty).
// `batch` (optional) receives the traces and score rows, for --db.
Result<SideResult> score_side(const SideInput& in, const std::vector<ConfiguredScorer>& scorers,
                              const std::vector<CaseChecks>& checks, const GateRules& rules,
                              CaseJudge* judge, const std::function<void(size_t, size_t)>& progress,
                              WriteBatch* batch);

}  // namespace assay::gate
