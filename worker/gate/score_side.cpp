#include "gate/score_side.h"

#include <map>

#include "core/text.h"
#include "pipeline/evaluate.h"

namespace assay::gate {

namespace {

constexpr size_t k_excerpt_bytes = 300;

ScorerOutcome from_row(const ScoreRow& row) {
    ScorerOutcome o;
    o.decision = to_string(row.decision);
    if (row.score) {
        o.value = row.score->value;
        o.passed = row.score->passed;
        o.label = row.score->label;
        o.explanation = row.score->explanation;
    } else {
        o.explanation = row.reason;
    }
    return o;
}

}  // namespace

std::vector<ConfiguredScorer> gate_scorers(const std::vector<ConfiguredScorer>& configured) {
    std::vector<ConfiguredScorer> out = configured;
    for (auto& s : out) {
        s.policy.rate = 1.0;
    }
    return out;
}

Result<SideResult> score_side(const SideInput& in, const std::vector<ConfiguredScorer>& scorers,
                              const std::vector<CaseChecks>& checks, const GateRules& rules,
                              CaseJudge* judge, const std::function<void(size_t, size_t)>& progress,
                              WriteBatch* batch) {
    const std::vector<Trace>& traces = *in.traces;
    SideResult side;
    side.side = in.side;
    side.source = in.source;
    for (const auto& s : scorers) {
        side.scorer_names.push_back(s.name);
    }
    side.cases.resize(traces.size());

    RunSummary summary = empty_summary(scorers);
    CounterAccumulator counters;
    struct Pending {
        size_t case_index;
        size_t scorer_index;
    };
    std::vector<Pending> pending;
    for (size_t i = 0; i < traces.size(); ++i) {
        WriteBatch local;
        evaluate_trace(traces[i], scorers, 0, local, counters, summary);
        CaseResult& cr = side.cases[i];
        cr.id = traces[i].trace_id;
        cr.output_excerpt = excerpt(traces[i].output, k_excerpt_bytes);
        cr.output = std::string(utf8_prefix(traces[i].output, k_report_output_bytes));
        cr.output_cut = cr.output->size() < traces[i].output.size();
        bool code_failed = false;
        for (size_t s = 0; s < local.scores.size(); ++s) {
            cr.scorers.push_back(from_row(local.scores[s]));
            if (local.scores[s].decision == Decision::pending) {
                pending.push_back({i, s});
            } else if (cr.scorers.back().passed == std::optional<bool>(false)) {
                code_failed = true;
            }
        }
        cr.checks = checks[i].run_code(traces[i]);
        for (const auto& c : cr.checks) {
            code_failed = code_failed || !c.passed;
        }
        if (code_failed && rules.short_circuit) {
            for (auto& p : pending) {
                if (p.case_index == i) {
                    ScorerOutcome& o = cr.scorers[p.scorer_index];
                    o.decision = "skipped_short_circuit";
                    o.explanation = "not judged: a code check already failed on this side";
                }
            }
            std::erase_if(pending, [&](const Pending& p) { return p.case_index == i; });
        }
        if (batch != nullptr) {
            for (auto& row : local.scores) {
                row.batch_index = static_cast<int32_t>(batch->traces.size());
                if (row.decision == Decision::pending) {
                    continue;  // the gate's judge results are not queued
                }
                batch->scores.push_back(std::move(row));
            }
            batch->traces.push_back(traces[i]);
        }
        if (progress) {
            progress(i + 1, traces.size());
        }
    }

    if (!pending.empty()) {
        if (judge == nullptr) {
            std::string names;
            for (const auto& s : scorers) {
                if (s.is_judge()) {
                    names += (names.empty() ? "" : ", ") + s.name;
                }
            }
            return Status::unavailable(
                "judge scorers (" + names +
                ") are configured but this assay has no judge stage to run them; "
                "the gate fails closed rather than pass without them (remove them from the config "
                "to gate on "
                "code scorers only)");
        }
        std::vector<JudgeRequest> requests;
        requests.reserve(pending.size());
        for (const auto& p : pending) {
            requests.push_back({&traces[p.case_index], &scorers[p.scorer_index], in.side});
        }
        auto outcomes = judge->judge(requests);
        if (!outcomes.ok()) {
            return outcomes.status();
        }
        if (outcomes->size() != requests.size()) {
            return Status::internal("the judge stage returned " + std::to_string(outcomes->size()) +
                                    " outcomes for " + std::to_string(requests.size()) +
                                    " requests");
        }
        for (size_t k = 0; k < pending.size(); ++k) {
            const JudgeOutcome& jo = (*outcomes)[k];
            ScorerOutcome& o = side.cases[pending[k].case_index].scorers[pending[k].scorer_index];
            if (jo.score) {
                o.decision = "scored";
                o.value = jo.score->value;
                o.passed = jo.score->passed;
                o.label = jo.score->label;
                o.explanation = jo.score->explanation;
            } else {
                o.decision = jo.skipped_budget ? "skipped_budget" : "judge_error";
                o.explanation = jo.error.empty() ? std::string("over the judge budget") : jo.error;
                ++side.judge_errors;
            }
        }
    }

    // min_score checks see the final values (judges included).
    for (size_t i = 0; i < side.cases.size(); ++i) {
        CaseResult& cr = side.cases[i];
        std::map<std::string, ScorerValue> values;
        for (size_t s = 0; s < cr.scorers.size(); ++s) {
            ScorerValue v;
            v.value = cr.scorers[s].value;
            v.why_not = cr.scorers[s].decision +
                        (cr.scorers[s].explanation.empty() ? "" : ": " + cr.scorers[s].explanation);
            values[side.scorer_names[s]] = std::move(v);
        }
        auto more = checks[i].run_min_score(values);
        cr.checks.insert(cr.checks.end(), more.begin(), more.end());
    }
    return side;
}

}  // namespace assay::gate
