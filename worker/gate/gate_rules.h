#pragma once
// GateRules: when `assay gate` blocks, read from the config's `gate:` key.
// Every field states its default; README.md ("assay gate") lists them.
// Parsed once at startup; a plain value afterwards.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>

#include "core/status.h"
#include "gate/bootstrap.h"

namespace assay::gate {

// Per-scorer overrides: gate.scorers.NAME.
struct ScorerRule {
    std::optional<double> mean_drop;       // overrides GateRules::mean_drop
    std::optional<double> pass_rate_drop;  // overrides GateRules::pass_rate_drop
    // A per-case drop of the value by at least this much is a regression.
    // Judge scorers always use it (default: see GateRules::score_drop);
    // code scorers only when it is set here.
    std::optional<double> score_drop;
    // More regressed cases on this scorer than this block, by the raw count
    // (no sign test): for checks that must never regress, e.g. refusal: 0.
    std::optional<int> max_regressions;
    // Pairwise scorers: overrides GateRules::pairwise_max_net_losses.
    std::optional<int> pairwise_max_net_losses;
    bool lower_is_better = false;  // the value improves when it falls
    bool ignore = false;           // report, never block
};

struct GateRules {
    int max_regressions = 2;  // gate.max_regressions (K): block when more cases regress ...
    // ... and, with count_test "sign", when regressions outnumber
    // improvements beyond chance: the one-sided exact sign test (McNemar) of
    // R regressed vs I improved cases, P(Bin(R+I, 1/2) >= R) <= count_alpha.
    // The pass-rate rule is guarded the same way (cases that lost vs gained
    // their pass). "none": the raw count and the raw pass-rate drop block.
    std::string count_test = "sign";  // gate.count_test: sign | none
    double count_alpha = 0.01;        // gate.count_alpha
    double mean_drop =
        0.05;  // gate.mean_drop (Δ): block when a mean drops more AND the CI is below 0
    double pass_rate_drop = 0.10;  // gate.pass_rate_drop: block when a pass rate drops more (and,
                                   // with count_test sign, the sign test agrees)
    // gate.score_drop (δ): per-case drop of a judge score that is a
    // regression. Unset ("auto"): 0.25 when both sides' values lie in
    // [0, 1], else 1.0 (one point on a 1–5 scale).
    std::optional<double> score_drop;
    BootstrapOptions bootstrap;  // gate.bootstrap_resamples / bootstrap_seed / confidence
    bool short_circuit = true;  // gate.short_circuit: skip a side's judges when a code check failed
    int allow_judge_errors = 0;  // gate.allow_judge_errors (flag --allow-judge-errors)
    std::map<std::string, ScorerRule> scorers;  // gate.scorers
    // gate.pairwise_max_net_losses (K of pairwise mode, gate/pairwise.h): a
    // pairwise scorer blocks when losses - wins > K (and, with count_test
    // sign, the sign test of losses vs wins is significant). Unset: K =
    // max_regressions.
    std::optional<int> pairwise_max_net_losses;

    const ScorerRule& rule(const std::string& scorer) const;
};

// Parses the `gate:` block (an undefined node gives the defaults). Unknown
// keys and wrong types are invalid_argument naming the key, e.g.
// "gate: key 'max_regressions': expected an integer, got 'x'".
Result<GateRules> parse_gate_rules(const YAML::Node& node);

}  // namespace assay::gate
