#include "gate/run_gate.h"

#include "core/clock.h"
#include "core/time_format.h"
#include "gate/case_checks.h"
#include "gate/dataset.h"
#include "gate/pairwise.h"
#include "gate/prompt_template.h"
#include "gate/report_json.h"
#include "gate/score_side.h"
#include "gate/side_outputs.h"
#include "gate/verdict.h"

namespace assay::gate {

namespace {

// Renames a side's traces (and their rows) in `from` to "<side>/<id>" and
// appends them to `to`.
void append_side(WriteBatch& from, const std::string& side, WriteBatch& to) {
    const int32_t offset = static_cast<int32_t>(to.traces.size());
    const int64_t now = now_ms();
    for (auto& t : from.traces) {
        t.trace_id = side + "/" + t.trace_id;
        t.received_ms = now;
        if (!t.timestamp_given) {
            t.timestamp_ms = now;
        }
        to.traces.push_back(std::move(t));
    }
    for (auto& s : from.scores) {
        s.batch_index += offset;
        s.at_ms = now;
        to.scores.push_back(std::move(s));
    }
}

}  // namespace

Result<GateReport> run_gate(const GateSetup& config, const GateRules& rules,
                            const GateOptions& options, CaseJudge* judge,
                            const std::function<void(const std::string&, size_t, size_t)>& progress,
                            WriteBatch* batch) {
    if (config.scorers.empty()) {
        return Status::invalid_argument(
            "no scorers are configured: the gate never passes on nothing");
    }
    auto dataset =
        load_dataset(options.dataset, config.limits.max_trace_bytes, config.limits.max_depth);
    if (!dataset.ok()) {
        return dataset.status();
    }
    std::vector<std::string> names, judges;
    std::vector<bool> is_judge;
    // Pairwise scorers compare the two sides (gate/pairwise.h); the others
    // score each side.
    std::vector<ConfiguredScorer> side_scorers;
    std::vector<const ConfiguredScorer*> pairwise;
    for (const auto& s : config.scorers) {
        if (s.is_pairwise()) {
            pairwise.push_back(&s);
            continue;
        }
        side_scorers.push_back(s);
        names.push_back(s.name);
        is_judge.push_back(s.is_judge());
        if (s.is_judge()) {
            judges.push_back(s.name);
        }
    }
    std::vector<CaseChecks> checks;
    checks.reserve(dataset->cases.size());
    CheckScorerCache check_scorers;
    for (const auto& c : dataset->cases) {
        auto built = CaseChecks::build(c.id, c.expect, names, judges, &check_scorers);
        if (!built.ok()) {
            return Status::invalid_argument("dataset '" + dataset->path + "' line " +
                                            std::to_string(c.line) + ": " +
                                            built.status().message());
        }
        checks.push_back(std::move(built.value()));
    }
    if (!pairwise.empty() && !options.baseline_report.empty()) {
        return Status::invalid_argument(
            "pairwise scorer '" + pairwise.front()->name +
            "' compares the baseline's outputs with the candidate's, and a "
            "--baseline-report holds scores, not outputs: pass --baseline with the "
            "baseline outputs instead");
    }
    const std::vector<ConfiguredScorer> scorers = gate_scorers(side_scorers);

    GateReport report;
    report.generated_at = format_rfc3339_ms(now_ms());
    report.dataset_path = dataset->path;
    report.dataset_sha256 = dataset->sha256;
    report.cases = static_cast<int>(dataset->cases.size());
    report.config_source = config.config_source;
    report.rules = rules;
    for (const auto& s : config.scorers) {
        report.scorers.push_back({s.name, s.type, s.version, s.is_judge(), s.is_pairwise()});
    }

    // Generate mode: both templates parse, and render for every case, before anything is sent.
    std::optional<PromptTemplate> baseline_prompt, candidate_prompt;
    for (auto [path, slot] : {std::pair{&options.baseline_prompt, &baseline_prompt},
                              std::pair{&options.prompt, &candidate_prompt}}) {
        if (path->empty()) {
            continue;
        }
        if (options.generator == nullptr) {
            return Status::invalid_argument(
                "prompt '" + *path + "': generate mode needs a `subject:` model in the config");
        }
        auto t = load_prompt_template(*path);
        if (!t.ok()) {
            return t.status();
        }
        for (const auto& c : dataset->cases) {
            if (auto r = render_prompt(*t, c); !r.ok()) {
                return r.status();
            }
        }
        *slot = std::move(t).value();
    }

    std::vector<Trace> base_traces, cand_traces;  // kept for pairwise mode
    auto score = [&](const std::string& side, const std::string& path,
                     const std::optional<PromptTemplate>& prompt,
                     std::vector<Trace>& keep) -> Result<SideResult> {
        Result<std::vector<Trace>> traces = std::vector<Trace>{};
        std::string source = path;
        std::string subject;
        if (prompt) {
            auto gp = [&](size_t done, size_t total) {
                if (options.generate_progress) {
                    options.generate_progress(side, done, total);
                }
            };
            auto g = options.generator->generate(side, *prompt, *dataset, gp);
            if (!g.ok()) {
                return g.status();
            }
            if (options.generated) {
                options.generated(side, g->stats);
            }
            if (!options.save_outputs.empty()) {
                ASSAY_RETURN_IF_ERROR(save_generated(options.save_outputs, side, *g));
            }
            source = "prompt:" + prompt->path;
            subject = g->subject;
            traces = std::move(g->traces);
        } else {
            traces = load_side(side, path, *dataset, config.limits);
        }
        if (!traces.ok()) {
            return traces.status();
        }
        WriteBatch local;
        SideInput in{side, source, &traces.value()};
        auto p = [&](size_t done, size_t total) {
            if (progress) {
                progress(side, done, total);
            }
        };
        auto r = score_side(in, scorers, checks, rules, judge, p, batch ? &local : nullptr);
        if (r.ok() && prompt) {
            r->prompt_sha256 = prompt->sha256;
            r->subject = subject;
        }
        if (r.ok() && batch != nullptr) {
            append_side(local, side, *batch);
        }
        if (!pairwise.empty()) {
            keep = std::move(traces.value());
        }
        return r;
    };

    if (!options.baseline_report.empty()) {
        auto stored = load_baseline_report(options.baseline_report);
        if (!stored.ok()) {
            return stored.status();
        }
        const std::string at = "baseline report '" + options.baseline_report + "': ";
        if (stored->dataset_sha256 != dataset->sha256) {
            return Status::invalid_argument(at + "it was made for another dataset (sha256 " +
                                            stored->dataset_sha256.substr(0, 12) +
                                            "…, this one is " + dataset->sha256.substr(0, 12) +
                                            "…); rerun the baseline");
        }
        if (stored->scorers.size() != report.scorers.size()) {
            return Status::invalid_argument(
                at + "it has " + std::to_string(stored->scorers.size()) +
                " scorers, the config has " + std::to_string(report.scorers.size()));
        }
        for (size_t i = 0; i < report.scorers.size(); ++i) {
            const auto& a = stored->scorers[i];
            const auto& b = report.scorers[i];
            if (a.name != b.name || a.version != b.version) {
                return Status::invalid_argument(
                    at + "scorer " + std::to_string(i + 1) + " is " + a.name + " " + a.version +
                    " there and " + b.name + " " + b.version +
                    " in the config: scores of different scorer versions are never "
                    "compared; rerun the baseline");
            }
        }
        if (stored->side.cases.size() != dataset->cases.size()) {
            return Status::invalid_argument(
                at + "it has " + std::to_string(stored->side.cases.size()) +
                " cases, the dataset has " + std::to_string(dataset->cases.size()));
        }
        report.baseline = std::move(stored->side);
    } else {
        auto b = score("baseline", options.baseline, baseline_prompt, base_traces);
        if (!b.ok()) {
            return b.status();
        }
        report.baseline = std::move(b.value());
    }
    auto c = score("candidate", options.candidate, candidate_prompt, cand_traces);
    if (!c.ok()) {
        return c.status();
    }
    report.candidate = std::move(c.value());
    report.verdict = compute_verdict(report.baseline, report.candidate, is_judge, rules);
    if (!pairwise.empty()) {
        auto pairs = run_pairwise(*dataset, base_traces, cand_traces, report.baseline,
                                  report.candidate, is_judge, pairwise, rules, judge);
        if (!pairs.ok()) {
            return pairs.status();
        }
        report.pairwise = std::move(pairs.value());
        apply_pairwise_verdict(report.verdict, report.pairwise, rules);
    }
    return report;
}

}  // namespace assay::gate
