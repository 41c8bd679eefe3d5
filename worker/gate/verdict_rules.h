#pragma once
// The gate's rules (gate_rules.h, README "Gate rules") applied to the
// compared sides: what blocks one scorer's row, and the verdict of the whole
// run. compute_verdict (verdict.h) compares the sides and then calls these;
// the pairwise verdict (pairwise.h) shares the number format and tolerance.
// Each rule is recorded with the test that decided it (a RuleCheck), whether
// it blocks or not: a rule that does not block says why just as a blocking
// one does (the drop is within its limit, the CI reaches 0, or the test's
// p-value is above its level). Pure functions; thread-safe.
//
//   1. regressed cases (gate level): more than K cases regressed and, with
//      count_test sign, the one-sided sign test of regressed vs improved
//      cases has p <= count_alpha;
//   2. mean: the mean of the per-case differences drops by more than Δ and
//      the bootstrap CI lies entirely below 0; on pass_fail rows also the
//      sign test of lost vs gained passes at the CI's one-sided level;
//   3. pass rate: the pass rate drops by more than its threshold and, with
//      count_test sign, the sign test of lost vs gained has p <= count_alpha;
//   and gate.scorers.NAME.max_regressions: more regressed cases on that row
//   than allowed, by the raw count.

#include <string>

#include "gate/gate_rules.h"
#include "gate/verdict.h"

namespace assay::gate {

// Tolerance of every comparison against a threshold (a drop "more than" δ).
inline constexpr double k_verdict_eps = 1e-9;

// A number as verdict reasons print it: 4 significant digits ("%.4g").
std::string verdict_number(double v);

// Applies rules 2, 3 and the per-scorer max_regressions to `s` (a pass_fail
// or score row with its pairs, CI, pass counts and regressions filled in):
// appends one RuleCheck per applicable rule to s.rules (the pass-rate rule
// only when the row has pass rates, max_regressions only when set) and, for
// each one that blocks, its reason to s.blocks.
void apply_scorer_rules(ScorerSummary& s, const ScorerRule& rule, const GateRules& rules);

// Sets v.result, v.exit_code, v.sign_test_p, v.count_rule and v.reasons from
// what the comparison left in `v`: "error" when the judge errors exceed
// allow_judge_errors (fail closed; count_rule left empty); else "block" when
// rule 1 blocks or a scorer row has blocks; else "pass".
void decide_verdict(Verdict& v, const GateRules& rules);

}  // namespace assay::gate
