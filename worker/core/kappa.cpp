#include "core/kappa.h"

#include <map>

namespace assay {

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

}  // namespace assay
