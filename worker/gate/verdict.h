#pragma once
// The gate's verdict: compares the baseline and candidate sides case by case
// and scorer by scorer (verdict.cpp), and applies the rules of gate_rules.h
// to the comparison (verdict_rules.h). Pure function
// of its inputs (the bootstrap uses a fixed seed): the same sides and rules
// always give the same verdict. Thread-safe.
//
// How each configured scorer is compared (its "kind"):
//   - pass_fail: code scorers that give passed = true/false. A case passes,
//     fails (passed = false, or the scorer failed / lacked its input) or does
//     not count (filtered out). Regression: baseline passed, candidate failed.
//     The compared quantity is the pass indicator (1/0), so mean = pass rate.
//   - score: judge scorers, and code scorers with gate.scorers.NAME.score_drop.
//     Regression: the value drops by at least δ (score_drop). The compared
//     quantity is the value (negated with lower_is_better).
//   - info: code scorers without pass/fail (e.g. length without bounds) and
//     ignored scorers: reported, never block.
// The dataset's expect checks form one more pass_fail row, "expect": a case
// passes when all its checks pass; a regression is a check the baseline
// passed and the candidate failed.

#include <optional>
#include <string>
#include <vector>

#include "gate/bootstrap.h"
#include "gate/gate_rules.h"
#include "gate/side_result.h"

namespace assay::gate {

// One rule applied to one compared row (or, Verdict::count_rule, rule 1 to
// the whole gate), blocking or not: what was measured against which limit,
// the test that decided it with its p-value, and the outcome. Reports show
// every one beside its verdict (verdict_rules.h has the rules).
struct RuleCheck {
    std::string rule;  // "regressed cases" | "mean" | "pass rate" | "max_regressions"
    bool blocks = false;
    std::string decided_by;   // what decided the outcome, e.g. "p = 0.0625 > 0.025",
                              // "the drop is within the limit", "the CI reaches 0"
    std::string measured;     // e.g. "-20.0 pt (limit -5.0 pt), 95% CI [-35.0, -5.0]"
    std::string test;         // e.g. "sign test, 4 lost vs 0 gained, blocks at p <= 0.025";
                              // "raw count (count_test none)"
    std::optional<double> p;  // the test's p-value, when the rule has a significance test
};

struct ScorerSummary {
    std::string scorer;
    std::string kind;       // pass_fail | score | info
    int pairs = 0;          // cases compared (both sides have an outcome)
    double baseline = 0.0;  // pass rate (pass_fail) or mean value (score, info) over the pairs
    double candidate = 0.0;
    MeanDiffCI ci;               // of candidate - baseline (sign-adjusted for lower_is_better)
    bool has_pass_rate = false;  // pass rates below are meaningful
    double baseline_pass_rate = 0.0;
    double candidate_pass_rate = 0.0;
    int pass_lost = 0;                // pairs: baseline passed, candidate failed
    int pass_gained = 0;              // pairs: baseline failed, candidate passed
    double score_drop = 0.0;          // δ used (score kind)
    int regressions = 0;              // cases
    int improvements = 0;             // cases
    std::vector<std::string> blocks;  // the rules this scorer breaks
    std::vector<RuleCheck> rules;     // every rule applied to this row (none for info rows)
};

struct CaseChange {
    std::string case_id;
    std::string scorer;    // scorer name, or "expect"
    std::string check;     // the expect check's name (scorer "expect" only)
    std::string baseline;  // baseline's value/outcome, e.g. "pass", "4"
    std::string candidate;
    std::string
        explanation;  // the candidate's (regression) or baseline's (improvement) explanation
    std::string baseline_excerpt;
    std::string candidate_excerpt;
};

struct Verdict {
    std::string result;                   // "pass" | "block" | "error"
    int exit_code = 0;                    // 0 pass, 1 block, 2 error
    std::vector<std::string> reasons;     // every rule that blocked, or the error
    std::vector<ScorerSummary> scorers;   // config order, then "expect"
    std::vector<CaseChange> regressions;  // by case (dataset order), then scorer
    std::vector<CaseChange> improvements;
    int regressed_cases = 0;
    int improved_cases = 0;
    double sign_test_p = 1.0;  // one-sided exact sign test of regressed vs improved cases
    RuleCheck count_rule;      // rule 1 (regressed cases), blocking or not
    int baseline_judge_errors = 0;
    int candidate_judge_errors = 0;
};

// P(X >= regressed) for X ~ Binomial(regressed + improved, 1/2): how likely
// this many of the changed cases regress if regressions and improvements
// were equally likely (no real change). 1 when nothing regressed.
double sign_test_p(int regressed, int improved);

// `judge_scorers[i]` says whether base.scorer_names[i] is a judge. The two
// sides must have the same cases and scorers in the same order (the caller
// checks; a mismatch is an "error" verdict).
Verdict compute_verdict(const SideResult& base, const SideResult& cand,
                        const std::vector<bool>& judge_scorers, const GateRules& rules);

}  // namespace assay::gate
