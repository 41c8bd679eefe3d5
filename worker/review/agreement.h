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

#include "core/kappa.h"

namespace assay::review {

// Cohen's kappa: core/kappa.h.
using assay::cohen_kappa;
using assay::ConfusionMatrix;
using assay::KappaResult;

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
