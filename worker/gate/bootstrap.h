#pragma once
// Paired bootstrap confidence interval of a mean difference, with a
// deterministic pseudo-random generator so that the gate gives the same
// verdict on every machine and in every run.
// (core/splitmix64.h: the same seed gives the same resamples everywhere).
// Pure functions and plain values: thread-safe.

#include <cstdint>
#include <vector>

#include "core/splitmix64.h"

namespace assay::gate {

using assay::SplitMix64;  // core/splitmix64.h

struct BootstrapOptions {
    int resamples = 10000;     // gate.bootstrap_resamples
    uint64_t seed = 20261122;  // gate.bootstrap_seed
    double confidence = 0.95;  // gate.confidence: two-sided, percentile method
};

struct MeanDiffCI {
    int n = 0;          // pairs
    double mean = 0.0;  // mean of the differences (candidate - baseline)
    double low = 0.0;   // lower percentile bound
    double high = 0.0;  // upper percentile bound
};

// The percentile bootstrap CI of mean(diffs): `resamples` times, draw n
// indices with replacement, average those differences; the CI is the
// ((1-c)/2, (1+c)/2) quantiles (nearest-rank on the sorted resample means).
// Resampling pairs' differences is the paired bootstrap. With no pairs the
// result is all zeros with n = 0; with one pair low = high = mean.
MeanDiffCI paired_bootstrap(const std::vector<double>& diffs, const BootstrapOptions& options);

}  // namespace assay::gate
