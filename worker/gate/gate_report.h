#pragma once
// GateReport: everything one gate run decided, the model that every output
// format (terminal, Markdown, JUnit, JSON) renders. Plain value.

#include <string>
#include <vector>

#include "gate/gate_rules.h"
#include "gate/pairwise_result.h"
#include "gate/side_result.h"
#include "gate/verdict.h"

namespace assay::gate {

struct ReportScorer {
    std::string name;
    std::string type;
    std::string version;  // scores of different versions are never compared
    bool judge = false;
    bool pairwise = false;  // pairwise mode: compares the sides, has no per-side scores
};

struct GateReport {
    std::string generated_at;  // RFC 3339; the only field that changes between identical runs
    std::string dataset_path;
    std::string dataset_sha256;
    int cases = 0;
    std::string config_source;
    GateRules rules;
    std::vector<ReportScorer> scorers;
    Verdict verdict;
    SideResult baseline;
    SideResult candidate;
    std::vector<PairwiseSummary> pairwise;  // pairwise mode: one per pairwise scorer (config order)
};

}  // namespace assay::gate
