#include "gate/gate_rules.h"

#include "core/config_block.h"

namespace assay::gate {

const ScorerRule& GateRules::rule(const std::string& scorer) const {
    static const ScorerRule k_default;
    auto it = scorers.find(scorer);
    return it == scorers.end() ? k_default : it->second;
}

namespace {

void read_fraction(ConfigBlock& b, const std::string& key, double lo, double hi,
                   std::optional<double>& out) {
    if (auto v = b.get_double(key)) {
        if (*v < lo || *v > hi) {
            b.fail(key, hi <= 1.0 ? "must be between 0 and 1" : "must be >= 0");
        }
        out = *v;
    }
}

}  // namespace

Result<GateRules> parse_gate_rules(const YAML::Node& node) {
    GateRules r;
    if (!node.IsDefined() || node.IsNull()) {
        return r;
    }
    ConfigBlock b(node, "gate");
    if (!node.IsMap()) {
        return Status::invalid_argument("gate: expected a mapping");
    }
    if (auto v = b.get_int("max_regressions")) {
        if (*v < 0 || *v > 1000000) {
            b.fail("max_regressions", "must be between 0 and 1000000");
        }
        r.max_regressions = static_cast<int>(*v);
    }
    if (auto v = b.get_string("count_test")) {
        if (*v != "sign" && *v != "none") {
            b.fail("count_test", "must be sign or none, got '" + *v + "'");
        }
        r.count_test = *v;
    }
    std::optional<double> d;
    read_fraction(b, "count_alpha", 0.0, 1.0, d);
    r.count_alpha = d.value_or(r.count_alpha);
    d.reset();
    read_fraction(b, "mean_drop", 0.0, 1e9, d);
    r.mean_drop = d.value_or(r.mean_drop);
    d.reset();
    read_fraction(b, "pass_rate_drop", 0.0, 1.0, d);
    r.pass_rate_drop = d.value_or(r.pass_rate_drop);
    if (b.has("score_drop")) {
        auto s = b.get_string("score_drop");
        if (s && *s == "auto") {
            r.score_drop.reset();
        } else {
            read_fraction(b, "score_drop", 0.0, 1e9, r.score_drop);
        }
    }
    if (auto v = b.get_int("bootstrap_resamples")) {
        if (*v < 100 || *v > 1000000) {
            b.fail("bootstrap_resamples", "must be between 100 and 1000000");
        }
        r.bootstrap.resamples = static_cast<int>(*v);
    }
    if (auto v = b.get_int("bootstrap_seed")) {
        r.bootstrap.seed = static_cast<uint64_t>(*v);
    }
    if (auto v = b.get_double("confidence")) {
        if (*v <= 0.5 || *v >= 1.0) {
            b.fail("confidence", "must be between 0.5 and 1 (exclusive)");
        }
        r.bootstrap.confidence = *v;
    }
    if (auto v = b.get_int("pairwise_max_net_losses")) {
        if (*v < 0 || *v > 1000000) {
            b.fail("pairwise_max_net_losses", "must be between 0 and 1000000");
        }
        r.pairwise_max_net_losses = static_cast<int>(*v);
    }
    if (auto v = b.get_bool("short_circuit")) {
        r.short_circuit = *v;
    }
    if (auto v = b.get_int("allow_judge_errors")) {
        if (*v < 0) {
            b.fail("allow_judge_errors", "must be >= 0");
        }
        r.allow_judge_errors = static_cast<int>(*v);
    }
    if (auto sc = b.get_node("scorers")) {
        if (!sc->IsMap()) {
            b.fail("scorers", "expected a mapping of scorer name to rules");
        } else {
            for (const auto& kv : *sc) {
                const std::string name = kv.first.Scalar();
                ConfigBlock s(kv.second, "gate.scorers." + name);
                if (!kv.second.IsMap()) {
                    return Status::invalid_argument("gate.scorers." + name +
                                                    ": expected a mapping");
                }
                ScorerRule rule;
                read_fraction(s, "mean_drop", 0.0, 1e9, rule.mean_drop);
                read_fraction(s, "pass_rate_drop", 0.0, 1.0, rule.pass_rate_drop);
                read_fraction(s, "score_drop", 0.0, 1e9, rule.score_drop);
                if (auto v = s.get_int("max_regressions")) {
                    if (*v < 0) {
                        s.fail("max_regressions", "must be >= 0");
                    }
                    rule.max_regressions = static_cast<int>(*v);
                }
                if (auto v = s.get_int("pairwise_max_net_losses")) {
                    if (*v < 0) {
                        s.fail("pairwise_max_net_losses", "must be >= 0");
                    }
                    rule.pairwise_max_net_losses = static_cast<int>(*v);
                }
                rule.lower_is_better = s.get_bool("lower_is_better").value_or(false);
                rule.ignore = s.get_bool("ignore").value_or(false);
                ASSAY_RETURN_IF_ERROR(s.finish());
                r.scorers[name] = rule;
            }
        }
    }
    ASSAY_RETURN_IF_ERROR(b.finish());
    return r;
}

}  // namespace assay::gate
