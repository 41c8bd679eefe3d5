#include "gate/bootstrap.h"

#include <algorithm>
#include <cmath>

namespace assay::gate {

MeanDiffCI paired_bootstrap(const std::vector<double>& diffs, const BootstrapOptions& options) {
    MeanDiffCI ci;
    ci.n = static_cast<int>(diffs.size());
    if (diffs.empty()) {
        return ci;
    }
    double sum = 0.0;
    for (double d : diffs) {
        sum += d;
    }
    const double n = static_cast<double>(diffs.size());
    ci.mean = sum / n;
    if (diffs.size() == 1 || options.resamples < 1) {
        ci.low = ci.high = ci.mean;
        return ci;
    }
    SplitMix64 rng(options.seed);
    std::vector<double> means(static_cast<size_t>(options.resamples));
    for (double& m : means) {
        double s = 0.0;
        for (size_t i = 0; i < diffs.size(); ++i) {
            s += diffs[rng.below(diffs.size())];
        }
        m = s / n;
    }
    std::sort(means.begin(), means.end());
    const double alpha = (1.0 - options.confidence) / 2.0;
    const double b = static_cast<double>(means.size());
    // Nearest rank: the k-th smallest with k = ceil(q * B), 1-based.
    auto rank = [&](double q) {
        double k = std::ceil(q * b);
        k = std::clamp(k, 1.0, b);
        return means[static_cast<size_t>(k) - 1];
    };
    ci.low = rank(alpha);
    ci.high = rank(1.0 - alpha);
    return ci;
}

}  // namespace assay::gate
