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
    std::optional<double> kappa;  // (p_o - p_e) / (1 - p_e); nullopt when not defined:
    std::string not_defined;      // why kappa is nullopt ("" when it is set)
};

// pairs: (scorer's category, human's category). Kappa is defined only when
// both sides use at least two categories: when one side says the same thing
// on every pair, p_o == p_e and kappa is 0 (or 0/0) whatever the agreement,
// e.g. labels of a bottom list where the scorer said "fail" on every trace.
KappaResult cohen_kappa(const std::vector<std::pair<std::string, std::string>>& pairs);

// A share and its 95% Wilson score interval.
struct Interval {
    double lo = 0, hi = 0;
};
// Wilson score interval of a proportion p observed over n trials (n may be an
// effective, non-integer sample size; n > 0), z = 1.96 for 95%.
Interval wilson_interval(double p, double n, double z = 1.959964);

// Spearman's rho: Pearson correlation of the ranks (ties get their average
// rank). nullopt with fewer than 2 pairs or when either side is constant.
std::optional<double> spearman(const std::vector<std::pair<double, double>>& pairs);

// Mean of |a - b|; nullopt when empty.
std::optional<double> mean_absolute_error(const std::vector<std::pair<double, double>>& pairs);

// Average ranks (1-based) of `v`, ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& v);

}  // namespace assay::review
