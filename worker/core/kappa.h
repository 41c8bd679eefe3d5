#pragma once
// Cohen's kappa between two raters over categorical verdicts, with its
// confusion matrix (review/agreement.h for scorers against reviewers,
// judge/judge_comparison.h for two judges against reviewers). Pure function,
// thread-safe. Kappa that is undefined for the input is nullopt, never NaN.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace assay {

// counts[i][j]: pairs where the first rater (the scorer) said categories[i] and the second
// (the human) categories[j].
struct ConfusionMatrix {
    std::vector<std::string> categories;  // sorted
    std::vector<std::vector<int64_t>> counts;
    int64_t total = 0;
};

struct KappaResult {
    ConfusionMatrix matrix;
    double observed = 0;          // p_o: share of pairs that agree
    double expected = 0;          // p_e: agreement expected by chance
    std::optional<double> kappa;  // (p_o - p_e) / (1 - p_e); nullopt when not defined:
    std::string not_defined;      // why kappa is nullopt ("" when it is set)
};

// pairs: (scorer's category, human's category). Kappa is defined only when
// both sides use at least two categories: when one side says the same thing
// on every pair, p_o == p_e and kappa is 0 (or 0/0) whatever the agreement,
// e.g. labels of a bottom list where the scorer said "fail" on every trace.
KappaResult cohen_kappa(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace assay
