#include "judge/judge_comparison.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/splitmix64.h"

namespace assay {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs_of(const std::vector<ComparedVerdicts>& t, const std::vector<size_t>& idx,
               std::string ComparedVerdicts::*rater) {
    Pairs out;
    out.reserve(idx.size());
    for (size_t i : idx) {
        out.emplace_back(t[i].*rater, t[i].reviewer);
    }
    return out;
}

BootstrapInterval interval_of(std::vector<double> values, double confidence) {
    BootstrapInterval ci;
    ci.defined = static_cast<int>(values.size());
    std::sort(values.begin(), values.end());
    ci.lo = nearest_rank_quantile(values, (1.0 - confidence) / 2.0);
    ci.hi = nearest_rank_quantile(values, (1.0 + confidence) / 2.0);
    return ci;
}

RaterAgreement agreement_of(const std::vector<ComparedVerdicts>& t,
                            std::string ComparedVerdicts::*rater) {
    RaterAgreement a;
    std::vector<size_t> all(t.size());
    for (size_t i = 0; i < t.size(); ++i) {
        all[i] = i;
    }
    a.vs_reviewers = cohen_kappa(pairs_of(t, all, rater));
    a.raw_agreement = a.vs_reviewers.observed;
    size_t pass = 0;
    for (const auto& v : t) {
        pass += v.*rater == "pass" ? 1 : 0;
    }
    a.pass_rate = t.empty() ? 0.0 : static_cast<double>(pass) / static_cast<double>(t.size());
    return a;
}

}  // namespace

std::optional<double> nearest_rank_quantile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return std::nullopt;
    }
    const double rank = std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(sorted.size()));
    const size_t i = rank < 1.0 ? 0 : static_cast<size_t>(rank) - 1;
    return sorted[std::min(i, sorted.size() - 1)];
}

JudgeComparisonStats compare_judges(const std::vector<ComparedVerdicts>& traces,
                                    const ComparisonOptions& options) {
    JudgeComparisonStats s;
    s.traces = static_cast<int64_t>(traces.size());
    s.current = agreement_of(traces, &ComparedVerdicts::current);
    s.candidate = agreement_of(traces, &ComparedVerdicts::candidate);
    Pairs between;
    size_t reviewer_pass = 0;
    for (const auto& v : traces) {
        between.emplace_back(v.current, v.candidate);
        reviewer_pass += v.reviewer == "pass" ? 1 : 0;
    }
    s.between = cohen_kappa(between);
    if (!traces.empty()) {
        s.reviewer_pass_rate =
            static_cast<double>(reviewer_pass) / static_cast<double>(traces.size());
    }
    if (s.current.vs_reviewers.kappa && s.candidate.vs_reviewers.kappa) {
        s.kappa_diff = *s.candidate.vs_reviewers.kappa - *s.current.vs_reviewers.kappa;
    }
    if (traces.empty()) {
        return s;
    }
    SplitMix64 rng(options.seed);
    std::vector<double> cur, cand, diff;
    std::vector<size_t> idx(traces.size());
    for (int r = 0; r < std::max(1, options.resamples); ++r) {
        for (auto& i : idx) {
            i = static_cast<size_t>(rng.below(traces.size()));
        }
        const auto kc = cohen_kappa(pairs_of(traces, idx, &ComparedVerdicts::current)).kappa;
        const auto kn = cohen_kappa(pairs_of(traces, idx, &ComparedVerdicts::candidate)).kappa;
        if (kc) {
            cur.push_back(*kc);
        }
        if (kn) {
            cand.push_back(*kn);
        }
        if (kc && kn) {
            diff.push_back(*kn - *kc);
        }
    }
    s.current.kappa_ci = interval_of(std::move(cur), options.confidence);
    s.candidate.kappa_ci = interval_of(std::move(cand), options.confidence);
    s.kappa_diff_ci = interval_of(std::move(diff), options.confidence);
    s.candidate_worse = s.kappa_diff_ci.hi && *s.kappa_diff_ci.hi < 0.0;
    return s;
}

}  // namespace assay
