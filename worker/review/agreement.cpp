#include "review/agreement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace assay::review {

Interval wilson_interval(double p, double n, double z) {
    if (n <= 0) {
        return {0, 1};
    }
    const double z2 = z * z;
    const double den = 1.0 + z2 / n;
    const double centre = (p + z2 / (2.0 * n)) / den;
    const double half = z * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / den;
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::vector<double> average_ranks(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> ranks(v.size());
    size_t i = 0;
    while (i < order.size()) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) {
            ++j;
        }
        double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t m = i; m <= j; ++m) {
            ranks[order[m]] = rank;
        }
        i = j + 1;
    }
    return ranks;
}

std::optional<double> spearman(const std::vector<std::pair<double, double>>& pairs) {
    if (pairs.size() < 2) {
        return std::nullopt;
    }
    std::vector<double> a, b;
    for (const auto& [x, y] : pairs) {
        a.push_back(x);
        b.push_back(y);
    }
    auto ra = average_ranks(a);
    auto rb = average_ranks(b);
    const double n = static_cast<double>(pairs.size());
    double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
    double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
    double cov = 0, va = 0, vb = 0;
    for (size_t i = 0; i < ra.size(); ++i) {
        cov += (ra[i] - ma) * (rb[i] - mb);
        va += (ra[i] - ma) * (ra[i] - ma);
        vb += (rb[i] - mb) * (rb[i] - mb);
    }
    if (va <= 0 || vb <= 0) {
        return std::nullopt;
    }
    return cov / std::sqrt(va * vb);
}

std::optional<double> mean_absolute_error(const std::vector<std::pair<double, double>>& pairs) {
    if (pairs.empty()) {
        return std::nullopt;
    }
    double sum = 0;
    for (const auto& [a, b] : pairs) {
        sum += std::fabs(a - b);
    }
    return sum / static_cast<double>(pairs.size());
}

}  // namespace assay::review
