#include "gate/verdict_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace assay::gate {

namespace {

std::string format_num(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// A pass rate or its change in percentage points; a score change as is.
std::string pct(double v) { return format_num("%.1f%%", 100.0 * v); }
std::string signed_pt(double v) { return format_num("%+.1f pt", 100.0 * v); }
std::string signed_num(double v) { return format_num("%+.4g", v); }

std::string compare_p(double p, double alpha) {
    return "p = " + verdict_number(p) + (p <= alpha + k_verdict_eps ? " <= " : " > ") +
           verdict_number(alpha);
}

std::string lost_gained(const ScorerSummary& s) {
    return std::to_string(s.pass_lost) + " lost vs " + std::to_string(s.pass_gained) + " gained";
}

// Rule 2. For a pass_fail row the per-case differences are -1, 0 or +1, and
// the percentile bootstrap is too narrow when few cases change: 4 of 20
// cases losing their pass and none gaining one gives a CI entirely below
// zero, though the exact test of those 4 changes has p = 0.0625. So there
// the rule also needs the exact one-sided sign test (McNemar) of lost vs
// gained at the CI's one-sided level, (1 - confidence) / 2.
RuleCheck mean_rule(ScorerSummary& s, double mean_drop, const GateRules& rules) {
    const bool pf = s.kind == "pass_fail";
    auto val = [pf](double v) { return pf ? signed_pt(v) : signed_num(v); };
    const std::string ci = verdict_number(100.0 * rules.bootstrap.confidence) + "% CI";
    const double alpha = (1.0 - rules.bootstrap.confidence) / 2.0;
    RuleCheck c;
    c.rule = "mean";
    c.measured = val(s.ci.mean) + " (limit " + val(-mean_drop) + "), " + ci + " [" + val(s.ci.low) +
                 ", " + val(s.ci.high) + "]";
    c.test = "bootstrap " + ci;
    double p = 1.0;
    if (pf) {
        p = sign_test_p(s.pass_lost, s.pass_gained);
        c.p = p;
        c.test +=
            " below 0, and sign test of " + lost_gained(s) + " at p <= " + verdict_number(alpha);
    } else {
        c.test += " below 0";
    }
    if (s.pairs == 0) {
        c.decided_by = "no case to compare";
    } else if (s.ci.mean >= -mean_drop - k_verdict_eps) {
        c.decided_by = "the drop is within the limit";
    } else if (s.ci.high >= 0.0) {
        c.decided_by = "the CI reaches 0";
    } else if (pf && p > alpha + k_verdict_eps) {
        c.decided_by = compare_p(p, alpha);
    } else {
        c.blocks = true;
        c.decided_by = pf ? compare_p(p, alpha) : "the CI is below 0";
        std::string what = "mean dropped by " + verdict_number(-s.ci.mean) + " (more than " +
                           verdict_number(mean_drop) + ") and the CI [" + verdict_number(s.ci.low) +
                           ", " + verdict_number(s.ci.high) + "] is entirely below 0";
        if (pf) {
            what += " (" + lost_gained(s) + ", exact p = " + verdict_number(p) + ")";
        }
        s.blocks.push_back(what);
    }
    return c;
}

// Rule 3. With the sign test on, a pass-rate drop must also be more than
// chance: the pairs that lost their pass outnumber those that gained one,
// p <= count_alpha.
RuleCheck pass_rate_rule(ScorerSummary& s, double drop, const GateRules& rules) {
    const bool sign = rules.count_test == "sign";
    RuleCheck c;
    c.rule = "pass rate";
    c.measured = pct(s.baseline_pass_rate) + " -> " + pct(s.candidate_pass_rate) + " (" +
                 signed_pt(s.candidate_pass_rate - s.baseline_pass_rate) + ", limit " +
                 signed_pt(-drop) + ")";
    double p = 1.0;
    if (sign) {
        p = sign_test_p(s.pass_lost, s.pass_gained);
        c.p = p;
        c.test = "sign test of " + lost_gained(s) + " at p <= " + verdict_number(rules.count_alpha);
    } else {
        c.test = "raw drop (count_test none)";
    }
    if (s.baseline_pass_rate - s.candidate_pass_rate <= drop + k_verdict_eps) {
        c.decided_by = "the drop is within the limit";
    } else if (sign && p > rules.count_alpha + k_verdict_eps) {
        c.decided_by = compare_p(p, rules.count_alpha);
    } else {
        c.blocks = true;
        c.decided_by = sign ? compare_p(p, rules.count_alpha) : "the drop is over the limit";
        std::string what = "pass rate dropped from " + pct(s.baseline_pass_rate) + " to " +
                           pct(s.candidate_pass_rate) + " (more than " + pct(drop) + ")";
        if (sign) {
            what += ", " + lost_gained(s) + " (sign test p = " + verdict_number(p) + ")";
        }
        s.blocks.push_back(what);
    }
    return c;
}

// gate.scorers.NAME.max_regressions: the raw count, no test.
RuleCheck max_regressions_rule(ScorerSummary& s, int max_regressions) {
    RuleCheck c;
    c.rule = "max_regressions";
    c.measured = std::to_string(s.regressions) + " regressed (limit " +
                 std::to_string(max_regressions) + ")";
    c.test = "raw count, no test";
    c.blocks = s.regressions > max_regressions;
    c.decided_by = c.blocks ? "more regressed cases than allowed" : "within the limit";
    if (c.blocks) {
        s.blocks.push_back(std::to_string(s.regressions) + " cases regressed (at most " +
                           std::to_string(max_regressions) + " allowed for this scorer)");
    }
    return c;
}

// Rule 1 over the whole gate's regressed and improved case counts; when it
// blocks, its reason is appended to `reasons`.
RuleCheck regressed_cases_rule(int regressed, int improved, const GateRules& rules,
                               std::vector<std::string>& reasons) {
    const bool sign = rules.count_test != "none";
    const int k = rules.max_regressions;
    RuleCheck c;
    c.rule = "regressed cases";
    c.measured = std::to_string(regressed) + " regressed, " + std::to_string(improved) +
                 " improved (limit " + std::to_string(k) + " regressed)";
    double p = 1.0;
    if (sign) {
        p = sign_test_p(regressed, improved);
        c.p = p;
        c.test = "sign test of regressed vs improved at p <= " + verdict_number(rules.count_alpha);
    } else {
        c.test = "raw count (count_test none)";
    }
    const std::string head = std::to_string(regressed) + " cases regressed (more than " +
                             std::to_string(k) + " allowed)";
    if (regressed <= k) {
        c.decided_by = "within the limit";
    } else if (!sign) {
        c.blocks = true;
        c.decided_by = "more regressed cases than allowed";
        reasons.push_back(head);
    } else if (p <= rules.count_alpha + k_verdict_eps) {
        c.blocks = true;
        c.decided_by = compare_p(p, rules.count_alpha);
        reasons.push_back(head + " against " + std::to_string(improved) +
                          " improved (sign test p = " + verdict_number(p) +
                          " <= " + verdict_number(rules.count_alpha) + ")");
    } else {
        c.decided_by = compare_p(p, rules.count_alpha);
    }
    return c;
}

}  // namespace

std::string verdict_number(double v) { return format_num("%.4g", v); }

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
    s.rules.push_back(mean_rule(s, rule.mean_drop.value_or(rules.mean_drop), rules));
    if (s.has_pass_rate) {
        s.rules.push_back(
            pass_rate_rule(s, rule.pass_rate_drop.value_or(rules.pass_rate_drop), rules));
    }
    if (rule.max_regressions) {
        s.rules.push_back(max_regressions_rule(s, *rule.max_regressions));
    }
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
    v.count_rule = regressed_cases_rule(v.regressed_cases, v.improved_cases, rules, v.reasons);
    for (const auto& s : v.scorers) {
        for (const auto& b : s.blocks) {
            v.reasons.push_back(s.scorer + ": " + b);
        }
    }
    v.result = v.reasons.empty() ? "pass" : "block";
    v.exit_code = v.reasons.empty() ? 0 : 1;
}

}  // namespace assay::gate
