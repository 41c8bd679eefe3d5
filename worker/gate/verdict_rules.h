#pragma once
// The gate's rules (gate_rules.h, README "Gate rules") applied to the
// compared sides: what blocks one scorer's row, and the verdict of the whole
// run. compute_verdict (verdict.h) compares the sides and then calls these;
// the pairwise verdict (pairwise.h) shares the number format and tolerance.
// Pure functions; thread-safe.

#include <string>

#include "gate/gate_rules.h"
#include "gate/verdict.h"

namespace assay::gate {

// Tolerance of every comparison against a threshold (a drop "more than" δ).
inline constexpr double k_verdict_eps = 1e-9;

// A number as verdict reasons print it: 4 significant digits ("%.4g").
std::string verdict_number(double v);

// Appends to s.blocks every rule `s` breaks: a mean drop of more than
// mean_drop whose bootstrap CI lies below 0 (for pass_fail rows also the
// exact sign test of lost vs gained passes); a pass-rate drop of more than
// pass_rate_drop (with count_test "sign", only when the sign test agrees);
// more regressed cases than the scorer's max_regressions.
void apply_scorer_rules(ScorerSummary& s, const ScorerRule& rule, const GateRules& rules);

// Sets v.result, v.exit_code, v.sign_test_p and v.reasons from what the
// comparison left in `v`: "error" when the judge errors exceed
// allow_judge_errors (fail closed); else "block" when more cases regressed
// than max_regressions (and, unless count_test is "none", the sign test of
// regressed vs improved cases agrees) or a scorer row has blocks; else "pass".
void decide_verdict(Verdict& v, const GateRules& rules);

}  // namespace assay::gate
