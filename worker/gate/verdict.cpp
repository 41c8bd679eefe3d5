#include "gate/verdict.h"

#include <set>

#include "gate/verdict_rules.h"

namespace assay::gate {

namespace {

// Pass indicator of a pass_fail scorer's outcome: 1, 0, or -1 (does not count).
int pass_indicator(const ScorerOutcome& o) {
    if (o.decision == "scored") {
        return o.passed ? (*o.passed ? 1 : 0) : -1;
    }
    if (o.decision == "failed" || o.decision == "skipped_missing_input") {
        return 0;
    }
    return -1;
}

std::string describe(const ScorerOutcome& o) {
    if (o.decision == "scored") {
        std::string s = o.value ? verdict_number(*o.value) : std::string("-");
        if (o.passed) {
            s += *o.passed ? " (pass)" : " (fail)";
        }
        return s;
    }
    return o.decision;
}

std::string explain(const ScorerOutcome& o) {
    return o.explanation.empty() ? o.label : o.explanation;
}

}  // namespace

Verdict compute_verdict(const SideResult& base, const SideResult& cand,
                        const std::vector<bool>& judge_scorers, const GateRules& rules) {
    Verdict v;
    v.baseline_judge_errors = base.judge_errors;
    v.candidate_judge_errors = cand.judge_errors;
    if (base.cases.size() != cand.cases.size() || base.scorer_names != cand.scorer_names ||
        judge_scorers.size() != base.scorer_names.size()) {
        v.result = "error";
        v.exit_code = 2;
        v.reasons.push_back(
            "the baseline and candidate results do not cover the same cases and scorers");
        return v;
    }
    for (size_t i = 0; i < base.cases.size(); ++i) {
        if (base.cases[i].id != cand.cases[i].id) {
            v.result = "error";
            v.exit_code = 2;
            v.reasons.push_back("case " + std::to_string(i + 1) + " is '" + base.cases[i].id +
                                "' in the baseline but '" + cand.cases[i].id +
                                "' in the candidate");
            return v;
        }
    }
    const size_t n_cases = base.cases.size();
    std::set<size_t> regressed, improved;

    auto change = [&](size_t c, const std::string& scorer, const std::string& check, std::string b,
                      std::string k, std::string why) {
        CaseChange ch;
        ch.case_id = base.cases[c].id;
        ch.scorer = scorer;
        ch.check = check;
        ch.baseline = std::move(b);
        ch.candidate = std::move(k);
        ch.explanation = std::move(why);
        ch.baseline_excerpt = base.cases[c].output_excerpt;
        ch.candidate_excerpt = cand.cases[c].output_excerpt;
        return ch;
    };

    for (size_t s = 0; s < base.scorer_names.size(); ++s) {
        const std::string& name = base.scorer_names[s];
        const ScorerRule& rule = rules.rule(name);
        ScorerSummary sum;
        sum.scorer = name;
        bool any_pass = false;
        for (size_t c = 0; c < n_cases; ++c) {
            any_pass =
                any_pass || base.cases[c].scorers[s].passed || cand.cases[c].scorers[s].passed;
        }
        if (rule.ignore) {
            sum.kind = "info";
        } else if (judge_scorers[s] || rule.score_drop) {
            sum.kind = "score";
        } else if (any_pass) {
            sum.kind = "pass_fail";
        } else {
            sum.kind = "info";
        }
        const double sign = rule.lower_is_better ? -1.0 : 1.0;

        std::vector<double> diffs;
        double b_sum = 0.0, k_sum = 0.0;
        int pr_n = 0, b_pass = 0, k_pass = 0;
        if (sum.kind == "pass_fail") {
            for (size_t c = 0; c < n_cases; ++c) {
                const ScorerOutcome& bo = base.cases[c].scorers[s];
                const ScorerOutcome& ko = cand.cases[c].scorers[s];
                const int b = pass_indicator(bo), k = pass_indicator(ko);
                if (b < 0 || k < 0) {
                    continue;
                }
                b_sum += b;
                k_sum += k;
                diffs.push_back(static_cast<double>(k - b));
                if (b == 1 && k == 0) {
                    ++sum.regressions;
                    regressed.insert(c);
                    v.regressions.push_back(
                        change(c, name, "", describe(bo), describe(ko), explain(ko)));
                } else if (b == 0 && k == 1) {
                    ++sum.improvements;
                    improved.insert(c);
                    v.improvements.push_back(
                        change(c, name, "", describe(bo), describe(ko), explain(bo)));
                }
            }
            sum.has_pass_rate = true;
            sum.pass_lost = sum.regressions;
            sum.pass_gained = sum.improvements;
            pr_n = static_cast<int>(diffs.size());
            b_pass = static_cast<int>(b_sum);
            k_pass = static_cast<int>(k_sum);
        } else {
            // score / info: values of both-scored cases.
            bool unit = true;
            for (size_t c = 0; c < n_cases; ++c) {
                for (const SideResult* side : {&base, &cand}) {
                    const auto& o = side->cases[c].scorers[s];
                    if (o.value && (*o.value < 0.0 || *o.value > 1.0)) {
                        unit = false;
                    }
                }
            }
            sum.score_drop = rule.score_drop    ? *rule.score_drop
                             : rules.score_drop ? *rules.score_drop
                             : unit             ? 0.25
                                                : 1.0;
            for (size_t c = 0; c < n_cases; ++c) {
                const ScorerOutcome& bo = base.cases[c].scorers[s];
                const ScorerOutcome& ko = cand.cases[c].scorers[s];
                if (bo.passed && ko.passed && bo.decision == "scored" && ko.decision == "scored") {
                    ++pr_n;
                    b_pass += *bo.passed ? 1 : 0;
                    k_pass += *ko.passed ? 1 : 0;
                    sum.pass_lost += *bo.passed && !*ko.passed ? 1 : 0;
                    sum.pass_gained += !*bo.passed && *ko.passed ? 1 : 0;
                }
                if (!bo.value || !ko.value || bo.decision != "scored" || ko.decision != "scored") {
                    continue;
                }
                b_sum += *bo.value;
                k_sum += *ko.value;
                const double d = sign * (*ko.value - *bo.value);
                diffs.push_back(d);
                if (sum.kind != "score") {
                    continue;
                }
                if (d <= -sum.score_drop + k_verdict_eps) {
                    ++sum.regressions;
                    regressed.insert(c);
                    v.regressions.push_back(change(c, name, "", describe(bo), describe(ko),
                                                   "score dropped by " + verdict_number(-d) +
                                                       " (δ " + verdict_number(sum.score_drop) +
                                                       "): " + explain(ko)));
                } else if (d >= sum.score_drop - k_verdict_eps) {
                    ++sum.improvements;
                    improved.insert(c);
                    v.improvements.push_back(
                        change(c, name, "", describe(bo), describe(ko),
                               "score rose by " + verdict_number(d) + ": " + explain(ko)));
                }
            }
            sum.has_pass_rate = pr_n > 0;
        }
        sum.pairs = static_cast<int>(diffs.size());
        if (sum.pairs > 0) {
            sum.baseline = b_sum / sum.pairs;
            sum.candidate = k_sum / sum.pairs;
        }
        if (pr_n > 0) {
            sum.baseline_pass_rate = static_cast<double>(b_pass) / pr_n;
            sum.candidate_pass_rate = static_cast<double>(k_pass) / pr_n;
        }
        sum.ci = paired_bootstrap(diffs, rules.bootstrap);
        if (sum.kind != "info") {
            apply_scorer_rules(sum, rule, rules);
        }
        v.scorers.push_back(std::move(sum));
    }

    // The expect checks.
    {
        ScorerSummary sum;
        sum.scorer = "expect";
        sum.kind = "pass_fail";
        const ScorerRule& rule = rules.rule("expect");
        std::vector<double> diffs;
        double b_sum = 0.0, k_sum = 0.0;
        for (size_t c = 0; c < n_cases; ++c) {
            const auto& bc = base.cases[c].checks;
            const auto& kc = cand.cases[c].checks;
            if (bc.empty() || bc.size() != kc.size()) {
                continue;
            }
            bool b_all = true, k_all = true, reg = false, imp = false;
            for (size_t i = 0; i < bc.size(); ++i) {
                b_all = b_all && bc[i].passed;
                k_all = k_all && kc[i].passed;
                if (bc[i].passed && !kc[i].passed) {
                    reg = true;
                    if (!rule.ignore) {
                        v.regressions.push_back(
                            change(c, "expect", kc[i].check, "pass", "fail", kc[i].explanation));
                    }
                } else if (!bc[i].passed && kc[i].passed) {
                    imp = true;
                    if (!rule.ignore) {
                        v.improvements.push_back(
                            change(c, "expect", kc[i].check, "fail", "pass", bc[i].explanation));
                    }
                }
            }
            b_sum += b_all ? 1 : 0;
            k_sum += k_all ? 1 : 0;
            sum.pass_lost += b_all && !k_all ? 1 : 0;
            sum.pass_gained += !b_all && k_all ? 1 : 0;
            diffs.push_back((k_all ? 1.0 : 0.0) - (b_all ? 1.0 : 0.0));
            if (reg) {
                ++sum.regressions;
                if (!rule.ignore) {
                    regressed.insert(c);
                }
            }
            if (imp) {
                ++sum.improvements;
                if (!rule.ignore) {
                    improved.insert(c);
                }
            }
        }
        sum.pairs = static_cast<int>(diffs.size());
        if (sum.pairs > 0) {
            sum.baseline = sum.baseline_pass_rate = b_sum / sum.pairs;
            sum.candidate = sum.candidate_pass_rate = k_sum / sum.pairs;
            sum.has_pass_rate = true;
        }
        sum.ci = paired_bootstrap(diffs, rules.bootstrap);
        if (rule.ignore) {
            sum.kind = "info";
        } else {
            apply_scorer_rules(sum, rule, rules);
        }
        v.scorers.push_back(std::move(sum));
    }

    // Regressions listed by case in dataset order, then in scorer order.
    std::vector<CaseChange> ordered;
    for (size_t c = 0; c < n_cases; ++c) {
        for (const auto& r : v.regressions) {
            if (r.case_id == base.cases[c].id) {
                ordered.push_back(r);
            }
        }
    }
    v.regressions = std::move(ordered);
    ordered.clear();
    for (size_t c = 0; c < n_cases; ++c) {
        for (const auto& r : v.improvements) {
            if (r.case_id == base.cases[c].id) {
                ordered.push_back(r);
            }
        }
    }
    v.improvements = std::move(ordered);
    v.regressed_cases = static_cast<int>(regressed.size());
    v.improved_cases = static_cast<int>(improved.size());

    decide_verdict(v, rules);
    return v;
}

}  // namespace assay::gate
