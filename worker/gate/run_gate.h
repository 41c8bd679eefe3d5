#pragma once
// One gate run, end to end and without the CLI: load the dataset and both
// sides (or the baseline from an earlier report), build every case's expect
// checks, score both sides with the configured scorers (judges through the
// CaseJudge seam), and compute the verdict. Pairwise scorers (judge scorers
// with a pairwise rubric) are not run per side: after the verdict they
// compare the two sides case by case (gate/pairwise.h) and fold their rule
// into it; they need --baseline (a --baseline-report is invalid_argument).
//
// Failure (the gate's exit 2): a non-OK Status for an unloadable or empty
// dataset, a missing or unknown case id in an outputs file, a bad expect
// block, a baseline report made for another dataset or other scorer versions,
// or judge scorers without a judge stage. Judge errors beyond the allowance
// are not a Status: they give a verdict with result "error".
// Not thread-safe (one run at a time per `judge`).

#include <functional>
#include <string>

#include "config/config.h"
#include "core/status.h"
#include "gate/case_judge.h"
#include "gate/gate_report.h"
#include "gate/gate_rules.h"
#include "store/store.h"

namespace assay::gate {

struct GateOptions {
    std::string dataset;          // --dataset
    std::string baseline;         // --baseline (outputs JSONL), or
    std::string baseline_report;  // --baseline-report (an earlier JSON report)
    std::string candidate;        // --candidate
};

// `progress(side, done, total)` after each case (may be empty). `batch`
// (optional, for --db) receives both sides' traces, with trace ids
// "<side>/<case id>", and their code-scorer rows.
Result<GateReport> run_gate(const Config& config, const GateRules& rules, const GateOptions& options,
                            CaseJudge* judge,
                            const std::function<void(const std::string&, size_t, size_t)>& progress,
                            WriteBatch* batch);

}  // namespace assay::gate
