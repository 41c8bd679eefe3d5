#pragma once
// The statistics of `assay judges compare`: how well the current judge and a
// candidate judge agree with the reviewers on the same labelled traces, and
// whether the candidate is worse beyond the noise. Verdicts are categories
// ("pass" / "fail" under the rubric's threshold). Pure functions with a
// seeded generator (core/splitmix64.h): the same input and seed give the
// same numbers everywhere. Thread-safe.
//
// Per judge against the reviewers: Cohen's kappa (core/kappa.h) with a
// percentile bootstrap 95% CI (traces resampled with replacement; resamples
// where kappa is not defined are left out), raw agreement, the confusion
// matrix and the judge's own pass rate; the reviewers' pass rate (the base
// rate); kappa and raw agreement between the two judges; and the paired
// bootstrap CI of (candidate kappa - current kappa), drawn on the same
// resamples. The candidate is worse beyond the CI when that interval lies
// entirely below 0.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/kappa.h"

namespace assay {

struct ComparedVerdicts {
    std::string reviewer;   // the reviewers' category
    std::string current;    // what the current judge said
    std::string candidate;  // what the candidate said
};

struct ComparisonOptions {
    int resamples = 2000;      // bootstrap resamples (>= 1)
    uint64_t seed = 20261122;  // SplitMix64 seed
    double confidence = 0.95;  // two-sided, percentile method
};

struct BootstrapInterval {
    std::optional<double> lo, hi;  // nullopt when no resample had it defined
    int defined = 0;               // resamples where the statistic was defined
};

struct RaterAgreement {
    KappaResult vs_reviewers;  // rows: the judge, columns: the reviewers
    BootstrapInterval kappa_ci;
    double raw_agreement = 0;  // share of traces where the judge said what the reviewers said
    double pass_rate = 0;      // share of "pass" verdicts of the judge
};

struct JudgeComparisonStats {
    int64_t traces = 0;
    double reviewer_pass_rate = 0;  // the base rate
    RaterAgreement current, candidate;
    KappaResult between;               // rows: the current judge, columns: the candidate
    std::optional<double> kappa_diff;  // candidate - current (both defined)
    BootstrapInterval kappa_diff_ci;
    bool candidate_worse = false;  // kappa_diff_ci.hi < 0
};

// The p-quantile (0..1) of sorted `values` by nearest rank; nullopt when empty.
std::optional<double> nearest_rank_quantile(const std::vector<double>& sorted, double p);

// Everything above over `traces` (each with all three verdicts).
JudgeComparisonStats compare_judges(const std::vector<ComparedVerdicts>& traces,
                                    const ComparisonOptions& options);

}  // namespace assay
