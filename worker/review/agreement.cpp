#include "review/agreement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace assay::review {

KappaResult cohen_kappa(const std::vector<std::pair<std::string, std::string>>& pairs) {
    KappaResult r;
    std::map<std::string, size_t> index;
    for (const auto& [a, b] : pairs) {
        index.emplace(a, 0);
        index.emplace(b, 0);
    }
    size_t k = 0;
    for (auto& [name, i] : index) {
        i = k++;
        r.matrix.categories.push_back(name);
    }
    r.matrix.counts.assign(k, std::vector<int64_t>(k, 0));
    for (const auto& [a, b] : pairs) {
        ++r.matrix.counts[index[a]][index[b]];
    }
    r.matrix.total = static_cast<int64_t>(pairs.size());
    if (pairs.empty()) {
        r.not_defined = "no labels";
        return r;
    }
    const double n = static_cast<double>(pairs.size());
    double agree = 0;
    double chance = 0;
    for (size_t i = 0; i < k; ++i) {
        agree += static_cast<double>(r.matrix.counts[i][i]);
        double row = 0;
        double col = 0;
        for (size_t j = 0; j < k; ++j) {
            row += static_cast<double>(r.matrix.counts[i][j]);
            col += static_cast<double>(r.matrix.counts[j][i]);
        }
        chance += (row / n) * (col / n);
    }
    r.observed = agree / n;
    r.expected = chance;
    // Categories each side used at least once.
    auto single = [&](bool scorer_side) -> std::string {
        std::string only;
        for (size_t i = 0; i < k; ++i) {
            int64_t used = 0;
            for (size_t j = 0; j < k; ++j) {
                used += scorer_side ? r.matrix.counts[i][j] : r.matrix.counts[j][i];
            }
            if (used > 0) {
                if (!only.empty()) {
                    return "";
                }
                only = r.matrix.categories[i];
            }
        }
        return only;
    };
    if (std::string s = single(true); !s.empty()) {
        r.not_defined = "the scorer said '" + s + "' on every labelled trace";
    } else if (std::string h = single(false); !h.empty()) {
        r.not_defined = "the reviewers said '" + h + "' on every labelled trace";
    } else if (1.0 - chance > 1e-12) {
        r.kappa = (r.observed - r.expected) / (1.0 - r.expected);
    } else {
        r.not_defined = "agreement by chance is 1";
    }
    return r;
}

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
