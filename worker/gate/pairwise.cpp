#include "gate/pairwise.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "gate/verdict_rules.h"
#include "judge/judge_scorer_spec.h"
#include "judge/rubric.h"
#include "sample/filter.h"

namespace assay::gate {

namespace {

using json = nlohmann::json;

const char* k_orders[2] = {"ab", "ba"};

}  // namespace

std::string preferred_side(const Rubric& rubric, double score, bool baseline_is_a) {
    switch (pair_preference(rubric, score)) {
        case PairPreference::a:
            return baseline_is_a ? "baseline" : "candidate";
        case PairPreference::b:
            return baseline_is_a ? "candidate" : "baseline";
        case PairPreference::tie:
            break;
    }
    return "tie";
}

void combine_orders(PairwiseCase& pc) {
    pc.order_inconsistent = pc.ab != pc.ba;
    if (pc.ab == "candidate" && pc.ba == "candidate") {
        pc.outcome = "win";
    } else if (pc.ab == "baseline" && pc.ba == "baseline") {
        pc.outcome = "loss";
    } else {
        pc.outcome = "tie";
    }
}

Result<Trace> make_pair_trace(const GateCase& c, const Trace& a, const Trace& b,
                              const std::string& order) {
    json j;
    j["trace_id"] = c.id + "/" + order;
    j["input"] = c.input.is_null() ? json(a.input) : c.input;
    if (c.reference.is_string()) {
        j["reference"] = c.reference;
    }
    if (c.context.is_array()) {
        j["context"] = c.context;
    }
    json m = c.metadata.is_object() ? c.metadata : json::object();
    m[std::string(k_pair_output_a_key)] = a.output;
    m[std::string(k_pair_output_b_key)] = b.output;
    j["metadata"] = m;
    j["output"] = "[A]\n" + a.output + "\n\n[B]\n" + b.output;
    Result<Trace> t = trace_from_json(j, 0);
    if (!t.ok()) {
        return Status::invalid_argument("case '" + c.id + "': the pair trace (" + order +
                                        ") is not a valid trace: " + t.status().message());
    }
    return t;
}

bool failed_code_check(const SideResult& side, size_t case_index,
                       const std::vector<bool>& judge_scorers) {
    const CaseResult& cr = side.cases[case_index];
    for (size_t s = 0; s < cr.scorers.size() && s < judge_scorers.size(); ++s) {
        if (!judge_scorers[s] && cr.scorers[s].passed == std::optional<bool>(false)) {
            return true;
        }
    }
    for (const auto& k : cr.checks) {
        if (!k.on_judge && !k.passed) {
            return true;
        }
    }
    return false;
}

void tally(PairwiseSummary& s) {
    s.wins = s.ties = s.losses = s.errors = s.order_inconsistent = s.short_circuited = s.identical =
        0;
    s.filtered_out = 0;
    for (const auto& c : s.cases) {
        s.wins += c.outcome == "win" ? 1 : 0;
        s.ties += c.outcome == "tie" ? 1 : 0;
        s.losses += c.outcome == "loss" ? 1 : 0;
        s.errors += c.outcome == "error" ? 1 : 0;
        s.order_inconsistent += c.order_inconsistent ? 1 : 0;
        s.short_circuited += c.how == "short_circuit" ? 1 : 0;
        s.identical += c.how == "identical" ? 1 : 0;
        s.filtered_out += c.how == "filtered_out" ? 1 : 0;
    }
}

Result<std::vector<PairwiseSummary>> run_pairwise(
    const Dataset& dataset, const std::vector<Trace>& base, const std::vector<Trace>& cand,
    const SideResult& base_result, const SideResult& cand_result,
    const std::vector<bool>& judge_scorers, const std::vector<const ConfiguredScorer*>& pairwise,
    const GateRules& rules, CaseJudge* judge) {
    std::vector<PairwiseSummary> out;
    if (pairwise.empty()) {
        return out;
    }
    if (judge == nullptr) {
        return Status::unavailable(
            "pairwise scorers are configured but this assay has no judge stage to run them");
    }
    const size_t n = dataset.cases.size();
    if (base.size() != n || cand.size() != n || base_result.cases.size() != n ||
        cand_result.cases.size() != n) {
        return Status::internal("pairwise mode: the sides do not cover the dataset's cases");
    }
    // Pair traces: [case][order], shared by every pairwise scorer.
    std::vector<std::array<Trace, 2>> pairs(n);
    // 0 judge; 1 baseline failed; 2 candidate failed; 3 both; 4 identical outputs
    std::vector<int> short_circuit(n, 0);
    for (size_t c = 0; c < n; ++c) {
        if (base[c].output == cand[c].output) {
            short_circuit[c] = 4;
            continue;
        }
        if (rules.short_circuit) {
            short_circuit[c] = (failed_code_check(base_result, c, judge_scorers) ? 1 : 0) |
                               (failed_code_check(cand_result, c, judge_scorers) ? 2 : 0);
            if (short_circuit[c] != 0) {
                continue;
            }
        }
        for (int o = 0; o < 2; ++o) {
            const bool baseline_is_a = o == 0;
            auto t = make_pair_trace(dataset.cases[c], baseline_is_a ? base[c] : cand[c],
                                     baseline_is_a ? cand[c] : base[c], k_orders[o]);
            if (!t.ok()) {
                return t.status();
            }
            pairs[c][o] = std::move(t.value());
        }
    }
    for (const ConfiguredScorer* scorer : pairwise) {
        const JudgeScorerSpec* spec = judge_scorer_spec(scorer->deferred.get());
        if (spec == nullptr) {
            return Status::internal("pairwise scorer '" + scorer->name + "' has no judge spec");
        }
        PairwiseSummary s;
        s.scorer = scorer->name;
        s.version = scorer->version;
        s.rubric = spec->rubric.name;
        s.cases.resize(n);
        std::vector<size_t> judged;
        const Filter& scope = scorer->policy.filter;
        for (size_t c = 0; c < n; ++c) {
            PairwiseCase& pc = s.cases[c];
            pc.case_id = dataset.cases[c].id;
            if (!scope.empty() && !scope.match(base[c])) {
                pc.how = "filtered_out";
                pc.outcome = "skipped";
                pc.explanation = "not compared: " + scope.why_not(base[c]);
                continue;
            }
            if (short_circuit[c] == 0) {
                pc.how = "judged";
                judged.push_back(c);
                continue;
            }
            if (short_circuit[c] == 4) {
                pc.how = "identical";
                pc.ab = pc.ba = "tie";
                combine_orders(pc);
                pc.explanation = "not judged: the two outputs are identical";
                continue;
            }
            pc.how = "short_circuit";
            const char* winner = short_circuit[c] == 1   ? "candidate"
                                 : short_circuit[c] == 2 ? "baseline"
                                                         : "tie";
            pc.ab = pc.ba = winner;
            combine_orders(pc);
            pc.explanation =
                short_circuit[c] == 3 ? "not judged: both sides failed a code check"
                : short_circuit[c] == 1
                    ? "not judged: the baseline failed a code check, the candidate did not"
                    : "not judged: the candidate failed a code check, the baseline did not";
        }
        std::vector<std::string> why_ab(n), why_ba(n), err(n);
        for (int o = 0; o < 2; ++o) {
            std::vector<JudgeRequest> requests;
            requests.reserve(judged.size());
            for (size_t c : judged) {
                requests.push_back({&pairs[c][o], scorer, "pair"});
            }
            if (requests.empty()) {
                break;
            }
            auto outcomes = judge->judge(requests);
            if (!outcomes.ok()) {
                return outcomes.status();
            }
            if (outcomes->size() != requests.size()) {
                return Status::internal("the judge stage returned " +
                                        std::to_string(outcomes->size()) + " outcomes for " +
                                        std::to_string(requests.size()) + " pair requests");
            }
            for (size_t k = 0; k < judged.size(); ++k) {
                const size_t c = judged[k];
                const JudgeOutcome& jo = (*outcomes)[k];
                PairwiseCase& pc = s.cases[c];
                std::string& side = o == 0 ? pc.ab : pc.ba;
                if (jo.score) {
                    side = preferred_side(spec->rubric, jo.score->value, o == 0);
                    (o == 0 ? why_ab : why_ba)[c] = jo.score->explanation;
                } else {
                    ++s.judge_errors;
                    err[c] += std::string(err[c].empty() ? "" : "; ") + k_orders[o] + ": " +
                              (jo.error.empty() ? std::string("over the judge budget") : jo.error);
                }
            }
        }
        for (size_t c : judged) {
            PairwiseCase& pc = s.cases[c];
            if (!err[c].empty()) {
                pc.outcome = "error";
                pc.explanation = err[c];
                continue;
            }
            combine_orders(pc);
            pc.explanation = "ab (A = baseline): prefers " + pc.ab + ": " + why_ab[c] +
                             " | ba (A = candidate): prefers " + pc.ba + ": " + why_ba[c];
        }
        const ScorerRule& rule = rules.rule(scorer->name);
        s.ignored = rule.ignore;
        s.max_net_losses = rule.pairwise_max_net_losses.value_or(
            rules.pairwise_max_net_losses.value_or(rules.max_regressions));
        tally(s);
        out.push_back(std::move(s));
    }
    return out;
}

void apply_pairwise_verdict(Verdict& v, std::vector<PairwiseSummary>& pairwise,
                            const GateRules& rules) {
    int pair_errors = 0;
    std::vector<std::string> reasons;
    for (auto& s : pairwise) {
        pair_errors += s.judge_errors;
        s.sign_test_p = sign_test_p(s.losses, s.wins);
        s.blocks.clear();
        const int net = s.losses - s.wins;
        if (s.ignored || net <= s.max_net_losses) {
            continue;
        }
        std::string what = "pairwise: " + std::to_string(s.losses) + " losses - " +
                           std::to_string(s.wins) + " wins = " + std::to_string(net) +
                           " (more than " + std::to_string(s.max_net_losses) + " allowed), " +
                           std::to_string(s.ties) + " ties";
        if (rules.count_test == "sign") {
            if (s.sign_test_p > rules.count_alpha + k_verdict_eps) {
                continue;
            }
            what += " (sign test p = " + verdict_number(s.sign_test_p) +
                    " <= " + verdict_number(rules.count_alpha) + ")";
        }
        s.blocks.push_back(what);
        reasons.push_back(s.scorer + ": " + what);
    }
    if (v.result == "error") {
        return;
    }
    const int side_errors = v.baseline_judge_errors + v.candidate_judge_errors;
    if (side_errors + pair_errors > rules.allow_judge_errors) {
        v.result = "error";
        v.exit_code = 2;
        v.reasons = {std::to_string(side_errors + pair_errors) + " judge errors (baseline " +
                     std::to_string(v.baseline_judge_errors) + ", candidate " +
                     std::to_string(v.candidate_judge_errors) + ", pairwise " +
                     std::to_string(pair_errors) + "); at most " +
                     std::to_string(rules.allow_judge_errors) + " allowed (--allow-judge-errors)"};
        return;
    }
    v.reasons.insert(v.reasons.end(), reasons.begin(), reasons.end());
    v.result = v.reasons.empty() ? "pass" : "block";
    v.exit_code = v.reasons.empty() ? 0 : 1;
}

}  // namespace assay::gate
