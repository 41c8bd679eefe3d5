#pragma once
// Agreement statistics between a scorer and human labels: Cohen's kappa with
// its confusion matrix (pass/fail and choice scales), Spearman's rank
// correlation and mean absolute error (numeric scales). Pure functions,
// thread-safe. A statistic that is undefined for the input (too few pairs,
// no variance) is nullopt, never NaN.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace assay::review {

// counts[i][j]: pairs where the scorer said categories[i] and the human categories[j].
struct ConfusionMatrix {
    std::vector<std::string> categories;  // sorted
    std::vector<std::vector<int64_t>> counts;
    int64_t total = 0;
};

struct KappaResult {
    ConfusionMatrix matrix;
    double observed = 0;          // p_o: share of pairs that agree
    double expected = 0;          // p_e: agreement expected by chance
    std::optional<double> kappa;  // (p_o - p_e) / (1 - p_e); nullopt when p_e == 1 or no pairs
};

// pairs: (scorer's category, human's category).
KappaResult cohen_kappa(const std::vector<std::pair<std::string, std::string>>& pairs);

// Spearman's rho: Pearson correlation of the ranks (ties get their average
// rank). nullopt with fewer than 2 pairs or when either side is constant.
std::optional<double> spearman(const std::vector<std::pair<double, double>>& pairs);

// Mean of |a - b|; nullopt when empty.
std::optional<double> mean_absolute_error(const std::vector<std::pair<double, double>>& pairs);

// Average ranks (1-based) of `v`, ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& v);

}  // namespace assay::review
