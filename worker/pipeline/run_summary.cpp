#include "pipeline/run_summary.h"

namespace assay {

double ScorerTally::pass_rate() const {
    int64_t n = passed + failed_check;
    return n ? static_cast<double>(passed) / static_cast<double>(n) : -1.0;
}

void ScorerTally::count(Decision d) {
    ++seen;
    switch (d) {
        case Decision::scored:
            ++scored;
            break;
        case Decision::filtered_out:
            ++filtered_out;
            break;
        case Decision::sampled_out:
            ++sampled_out;
            break;
        case Decision::skipped_missing_input:
            ++missing_input;
            break;
        case Decision::pending:
            ++pending;
            break;
        case Decision::skipped_budget:
            ++skipped_budget;
            break;
        case Decision::failed:
            ++errors;
            break;
    }
}

void ScorerTally::merge(const ScorerTally& o) {
    seen += o.seen;
    scored += o.scored;
    value_sum += o.value_sum;
    passed += o.passed;
    failed_check += o.failed_check;
    filtered_out += o.filtered_out;
    sampled_out += o.sampled_out;
    missing_input += o.missing_input;
    pending += o.pending;
    skipped_budget += o.skipped_budget;
    errors += o.errors;
}

void RunSummary::merge(const RunSummary& o) {
    records += o.records;
    accepted += o.accepted;
    rejected += o.rejected;
    if (scorers.size() < o.scorers.size()) {
        scorers.resize(o.scorers.size());
    }
    for (size_t i = 0; i < o.scorers.size(); ++i) {
        if (scorers[i].scorer.empty()) {
            scorers[i].scorer = o.scorers[i].scorer;
            scorers[i].version = o.scorers[i].version;
            scorers[i].is_judge = o.scorers[i].is_judge;
        }
        scorers[i].merge(o.scorers[i]);
    }
    for (const auto& [k, v] : o.reject_reasons) {
        reject_reasons[k] += v;
    }
}

}  // namespace assay
