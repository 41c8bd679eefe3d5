#include "gate/verdict_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace assay::gate {

namespace {

std::string pct(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * v);
    return buf;
}

void scorer_count_rule(ScorerSummary& s, const ScorerRule& rule) {
    if (rule.max_regressions && s.regressions > *rule.max_regressions) {
        s.blocks.push_back(std::to_string(s.regressions) + " cases regressed (at most " +
                           std::to_string(*rule.max_regressions) + " allowed for this scorer)");
    }
}

// For a pass_fail row the per-case differences are -1, 0 or +1, and the
// percentile bootstrap is too narrow when few cases change: 4 of 20 cases
// losing their pass and none gaining one gives a CI entirely below zero,
// though the exact test of those 4 changes has p = 0.0625. So there the
// rule also needs the exact one-sided sign test (McNemar) of lost vs gained
// at the CI's one-sided level, (1 - confidence) / 2.
void mean_rule(ScorerSummary& s, double mean_drop, const GateRules& rules) {
    if (s.pairs == 0 || s.ci.mean >= -mean_drop - k_verdict_eps || s.ci.high >= 0.0) {
        return;
    }
    std::string what = "mean dropped by " + verdict_number(-s.ci.mean) + " (more than " +
                       verdict_number(mean_drop) + ") and the " + "CI [" +
                       verdict_number(s.ci.low) + ", " + verdict_number(s.ci.high) +
                       "] is entirely below 0";
    if (s.kind == "pass_fail") {
        const double p = sign_test_p(s.pass_lost, s.pass_gained);
        if (p > (1.0 - rules.bootstrap.confidence) / 2.0 + k_verdict_eps) {
            return;
        }
        what += " (" + std::to_string(s.pass_lost) + " lost vs " + std::to_string(s.pass_gained) +
                " gained, exact p = " + verdict_number(p) + ")";
    }
    s.blocks.push_back(what);
}

// With the sign test on, a pass-rate drop must also be more than chance:
// the pairs that lost their pass outnumber those that gained one, p <= alpha.
void pass_rate_rule(ScorerSummary& s, double drop, const GateRules& rules) {
    if (!s.has_pass_rate || s.baseline_pass_rate - s.candidate_pass_rate <= drop + k_verdict_eps) {
        return;
    }
    std::string what = "pass rate dropped from " + pct(s.baseline_pass_rate) + " to " +
                       pct(s.candidate_pass_rate) + " (more than " + pct(drop) + ")";
    if (rules.count_test == "sign") {
        const double p = sign_test_p(s.pass_lost, s.pass_gained);
        if (p > rules.count_alpha + k_verdict_eps) {
            return;
        }
        what += ", " + std::to_string(s.pass_lost) + " lost vs " + std::to_string(s.pass_gained) +
                " gained (sign test p = " + verdict_number(p) + ")";
    }
    s.blocks.push_back(what);
}

}  // namespace

std::string verdict_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

double sign_test_p(int regressed, int improved) {
    const int n = regressed + improved;
    if (regressed <= 0) {
        return 1.0;
    }
    // P(X >= regressed) for X ~ Bin(n, 1/2), summed in log space.
    double p = 0.0;
    for (int k = regressed; k <= n; ++k) {
        p += std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) -
                      n * std::log(2.0));
    }
    return std::min(1.0, p);
}

void apply_scorer_rules(ScorerSummary& s, const ScorerRule& rule, const GateRules& rules) {
    mean_rule(s, rule.mean_drop.value_or(rules.mean_drop), rules);
    pass_rate_rule(s, rule.pass_rate_drop.value_or(rules.pass_rate_drop), rules);
    scorer_count_rule(s, rule);
}

void decide_verdict(Verdict& v, const GateRules& rules) {
    // Judge errors fail closed.
    const int judge_errors = v.baseline_judge_errors + v.candidate_judge_errors;
    if (judge_errors > rules.allow_judge_errors) {
        v.result = "error";
        v.exit_code = 2;
        v.reasons.push_back(std::to_string(judge_errors) + " judge errors (baseline " +
                            std::to_string(v.baseline_judge_errors) + ", candidate " +
                            std::to_string(v.candidate_judge_errors) + "); at most " +
                            std::to_string(rules.allow_judge_errors) +
                            " allowed (--allow-judge-errors)");
        return;
    }
    v.sign_test_p = sign_test_p(v.regressed_cases, v.improved_cases);
    if (v.regressed_cases > rules.max_regressions) {
        if (rules.count_test == "none") {
            v.reasons.push_back(std::to_string(v.regressed_cases) + " cases regressed (more than " +
                                std::to_string(rules.max_regressions) + " allowed)");
        } else if (v.sign_test_p <= rules.count_alpha + k_verdict_eps) {
            v.reasons.push_back(std::to_string(v.regressed_cases) + " cases regressed (more than " +
                                std::to_string(rules.max_regressions) + " allowed) against " +
                                std::to_string(v.improved_cases) +
                                " improved (sign test p = " + verdict_number(v.sign_test_p) +
                                " <= " + verdict_number(rules.count_alpha) + ")");
        }
    }
    for (const auto& s : v.scorers) {
        for (const auto& b : s.blocks) {
            v.reasons.push_back(s.scorer + ": " + b);
        }
    }
    v.result = v.reasons.empty() ? "pass" : "block";
    v.exit_code = v.reasons.empty() ? 0 : 1;
}

}  // namespace assay::gate
