// `assay judges compare`: before switching a judge scorer to another judge
// model, re-judge the traces reviewers labelled for that scorer with the
// candidate and compare both judges' agreement with the reviewers
// (judge/judge_comparison.h). Exit 0: the candidate is not worse beyond the
// CI; 1: it is; 2: config, flags, store, or nothing to compare.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "judge/judge_comparison.h"
#include "judge/judge_options.h"
#include "judge/judge_scorer_spec.h"
#include "judge/rejudge.h"
#include "store/review_store.h"

namespace assay::cli {

namespace {

using nlohmann::json;

struct CompareArgs {
    std::string config, db, scorer, version, candidate, format = "table";
    int resamples = 2000;
    uint64_t seed = 20261122;
    int64_t limit = 0;  // 0: every labelled trace
};

int fail(const std::string& message) {
    std::fprintf(stderr, "assay judges compare: %s\n", message.c_str());
    return 2;
}

// The reviewers' pass/fail for a label on a trace the scorer judged.
std::optional<std::string> reviewer_category(const CalibrationPair& p, const Rubric& rubric) {
    const LabelRecord& h = p.human;
    if (h.verdict == "score" && h.score) {
        return *h.score >= rubric.pass_threshold ? "pass" : "fail";
    }
    if (!p.passed || (h.verdict != "agree" && h.verdict != "disagree")) {
        return std::nullopt;
    }
    return (*p.passed == (h.verdict == "agree")) ? "pass" : "fail";
}

struct Usage {
    double cost = 0;
    std::vector<double> latencies;
    int64_t traces = 0;
};

json usage_json(const Usage& u) {
    std::vector<double> l = u.latencies;
    std::sort(l.begin(), l.end());
    return {{"cost_usd", u.cost},
            {"cost_per_trace_usd", u.traces > 0 ? u.cost / static_cast<double>(u.traces) : 0.0},
            {"latency_p50_ms", nearest_rank_quantile(l, 0.5).value_or(0.0)},
            {"latency_p95_ms", nearest_rank_quantile(l, 0.95).value_or(0.0)},
            {"calls", l.size()}};
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json rater_json(const RaterAgreement& a, const Usage& u, const std::string& judge,
                const std::string& model) {
    json matrix = json::object();
    const auto& m = a.vs_reviewers.matrix;
    for (size_t i = 0; i < m.categories.size(); ++i) {
        for (size_t j = 0; j < m.categories.size(); ++j) {
            matrix["judge_" + m.categories[i] + "/reviewers_" + m.categories[j]] = m.counts[i][j];
        }
    }
    return {{"judge", judge},
            {"model", model},
            {"kappa", opt(a.vs_reviewers.kappa)},
            {"kappa_not_defined", a.vs_reviewers.not_defined},
            {"kappa_ci95", {opt(a.kappa_ci.lo), opt(a.kappa_ci.hi)}},
            {"raw_agreement", a.raw_agreement},
            {"pass_rate", a.pass_rate},
            {"confusion", matrix},
            {"usage", usage_json(u)}};
}

std::string num(const std::optional<double>& v, int digits = 3) {
    return v ? fmt_double(*v, digits) : "n/a";
}

void print_report(const json& r) {
    std::printf("judges compare on scorer %s %s: %lld labelled traces compared",
                r["scorer"].get<std::string>().c_str(),
                r["scorer_version"].get<std::string>().c_str(),
                static_cast<long long>(r["traces"].get<int64_t>()));
    std::printf(" (reviewers' pass rate %s)\n", fmt_double(r["reviewer_pass_rate"], 3).c_str());
    std::vector<std::vector<std::string>> rows = {
        {"", "judge", "model", "kappa", "95% CI", "agreement", "pass rate", "j-pass/r-pass",
         "j-pass/r-fail", "j-fail/r-pass", "j-fail/r-fail", "cost", "p50 ms", "p95 ms"}};
    for (const char* side : {"current", "candidate"}) {
        const json& s = r[side];
        auto cell = [&](const std::string& k) {
            return std::to_string(s["confusion"].value(k, int64_t{0}));
        };
        auto o = [](const json& v) {
            return v.is_null() ? std::optional<double>() : std::optional<double>(v.get<double>());
        };
        rows.push_back({side, s["judge"], s["model"], num(o(s["kappa"])),
                        "[" + num(o(s["kappa_ci95"][0])) + ", " + num(o(s["kappa_ci95"][1])) + "]",
                        fmt_double(s["raw_agreement"], 3), fmt_double(s["pass_rate"], 3),
                        cell("judge_pass/reviewers_pass"), cell("judge_pass/reviewers_fail"),
                        cell("judge_fail/reviewers_pass"), cell("judge_fail/reviewers_fail"),
                        "$" + fmt_double(s["usage"]["cost_usd"], 4),
                        fmt_double(s["usage"]["latency_p50_ms"], 0),
                        fmt_double(s["usage"]["latency_p95_ms"], 0)});
    }
    print_table(rows);
    const json& b = r["between_judges"];
    std::printf("between the judges: agreement %s, kappa %s\n",
                fmt_double(b["raw_agreement"], 3).c_str(),
                b["kappa"].is_null() ? "n/a" : fmt_double(b["kappa"], 3).c_str());
    const json& d = r["kappa_difference"];
    std::printf("candidate - current kappa: %s, 95%% CI [%s, %s]\n",
                d["value"].is_null() ? "n/a" : fmt_double(d["value"], 3).c_str(),
                d["ci95"][0].is_null() ? "n/a" : fmt_double(d["ci95"][0], 3).c_str(),
                d["ci95"][1].is_null() ? "n/a" : fmt_double(d["ci95"][1], 3).c_str());
    if (r["candidate_errors"].get<int64_t>() > 0) {
        std::printf("the candidate gave no verdict on %lld traces (left out): %s\n",
                    static_cast<long long>(r["candidate_errors"].get<int64_t>()),
                    r["candidate_error_example"].get<std::string>().c_str());
    }
    std::printf("%s\n", r["verdict"].get<std::string>().c_str());
}

int run_compare(const CompareArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        return fail(cfg.status().message());
    }
    const ConfiguredScorer* scorer = nullptr;
    for (const auto& cs : cfg->scorers) {
        scorer = cs.name == a.scorer ? &cs : scorer;
    }
    const JudgeScorerSpec* spec = scorer ? judge_scorer_spec(scorer->deferred.get()) : nullptr;
    if (spec == nullptr) {
        return fail("no judge scorer named '" + a.scorer + "' in the config");
    }
    // The candidate: a judge of the config by name, else a judge YAML file.
    std::optional<JudgeSpec> cand;
    for (const auto& j : cfg->judges) {
        cand = j.name == a.candidate ? std::optional<JudgeSpec>(j) : cand;
    }
    if (!cand) {
        if (!std::filesystem::exists(a.candidate)) {
            return fail("--candidate '" + a.candidate +
                        "' is neither a judge of the config nor a judge YAML file");
        }
        auto loaded = load_judge_file(a.candidate);
        if (!loaded.ok()) {
            return fail(loaded.status().message());
        }
        cand = *loaded;
    }
    auto rt = judge_runtime_from_spec(*cand);
    if (!rt.ok()) {
        return fail(rt.status().message());
    }
    const std::string version = a.version.empty() ? scorer->version : a.version;
    auto reviews = assay::open_review_store(cfg->store.sqlite_path);
    if (!reviews.ok()) {
        return fail(reviews.status().message());
    }
    auto pairs = (*reviews)->calibration_pairs(a.scorer, version);
    if (!pairs.ok()) {
        return fail(pairs.status().message());
    }
    // The newest usable label of each trace (pairs are oldest first).
    std::map<std::string, std::pair<std::string, std::string>> labelled;  // id -> reviewer, current
    std::vector<std::string> order;
    for (const auto& p : *pairs) {
        auto reviewer = reviewer_category(p, spec->rubric);
        if (!reviewer || !p.passed) {
            continue;
        }
        if (labelled.count(p.trace_id) == 0) {
            order.push_back(p.trace_id);
        }
        labelled[p.trace_id] = {*reviewer, *p.passed ? "pass" : "fail"};
    }
    if (a.limit > 0 && static_cast<int64_t>(order.size()) > a.limit) {
        order.resize(static_cast<size_t>(a.limit));
    }
    if (order.empty()) {
        return fail("no labelled traces of scorer '" + a.scorer + "' version " + version +
                    " with a pass/fail verdict: label some in assay review (or pass "
                    "--scorer-version)");
    }
    // The traces, and what the current judge's calls cost.
    std::vector<RejudgeItem> items;
    Usage current_usage, candidate_usage;
    for (const auto& id : order) {
        auto detail = (*reviews)->trace(id);
        if (!detail.ok()) {
            return fail(detail.status().message());
        }
        items.push_back({id, detail->raw});
        ++current_usage.traces;
        for (const auto& d : detail->decisions) {
            if (d.scorer != a.scorer || d.scorer_version != version) {
                continue;
            }
            for (const auto& j : d.judgements) {
                current_usage.cost += j.cost_usd;
                if (!j.cached && j.latency_ms > 0) {
                    current_usage.latencies.push_back(j.latency_ms);
                }
            }
        }
    }
    auto store = open_store(cfg->store);
    if (!store.ok()) {
        return fail(store.status().message());
    }
    auto client = make_judge_client(rt->transport);
    if (!client.ok()) {
        return fail(client.status().message());
    }
    const int64_t now = now_ms();
    const std::string day = format_rfc3339_ms(now).substr(0, 10);
    auto results = rejudge_traces(*rt, **client, spec->rubric, items, **store, day, now);
    if (!results.ok()) {
        return fail(results.status().message());
    }
    std::vector<ComparedVerdicts> compared;
    int64_t errors = 0;
    std::string example;
    for (const auto& r : *results) {
        candidate_usage.cost += r.cost_usd;
        if (r.attempts > 0 && r.latency_ms > 0) {
            candidate_usage.latencies.push_back(r.latency_ms);
        }
        if (!r.verdict) {
            ++errors;
            example =
                example.empty() ? r.trace_id + ": " + r.error + ": " + r.error_message : example;
            continue;
        }
        ++candidate_usage.traces;
        const auto& [reviewer, current] = labelled[r.trace_id];
        compared.push_back({reviewer, current, r.passed ? "pass" : "fail"});
    }
    ComparisonOptions opts;
    opts.resamples = a.resamples;
    opts.seed = a.seed;
    const JudgeComparisonStats st = compare_judges(compared, opts);
    std::string current_judges;
    for (const auto& j : spec->judges) {
        current_judges += (current_judges.empty() ? "" : "+") + j;
    }
    std::string current_models;
    for (const auto& j : cfg->judges) {
        for (const auto& name : spec->judges) {
            if (j.name == name) {
                current_models += (current_models.empty() ? "" : "+") + j.model;
            }
        }
    }
    std::string verdict;
    if (compared.empty()) {
        verdict = "nothing to compare: the candidate gave no verdict on any labelled trace";
    } else if (st.candidate_worse) {
        verdict =
            "WORSE: the candidate agrees with the reviewers worse than the current judge "
            "beyond the 95% CI; do not switch";
    } else if (!st.kappa_diff_ci.hi) {
        verdict =
            "kappa is not defined on these labels (one side used one verdict only): "
            "label more traces of both kinds";
    } else {
        verdict = "not worse beyond the 95% CI";
    }
    json report = {
        {"scorer", a.scorer},
        {"scorer_version", version},
        {"labelled_traces", static_cast<int64_t>(order.size())},
        {"traces", st.traces},
        {"candidate_errors", errors},
        {"candidate_error_example", example},
        {"reviewer_pass_rate", st.reviewer_pass_rate},
        {"current", rater_json(st.current, current_usage, current_judges, current_models)},
        {"candidate", rater_json(st.candidate, candidate_usage, cand->name, cand->model)},
        {"between_judges",
         {{"raw_agreement", st.between.observed}, {"kappa", opt(st.between.kappa)}}},
        {"kappa_difference",
         {{"value", opt(st.kappa_diff)},
          {"ci95", {opt(st.kappa_diff_ci.lo), opt(st.kappa_diff_ci.hi)}}}},
        {"resamples", a.resamples},
        {"seed", a.seed},
        {"candidate_worse", st.candidate_worse},
        {"verdict", verdict}};
    if (a.format == "json") {
        std::cout << report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
        print_report(report);
    }
    if (compared.empty()) {
        return 2;
    }
    return st.candidate_worse ? 1 : 0;
}

}  // namespace

void add_judges_compare_command(CLI::App& judges, Runner& run) {
    auto a = std::make_shared<CompareArgs>();
    CLI::App* c = judges.add_subcommand(
        "compare",
        "Re-judge the traces reviewers labelled for a judge scorer with a candidate judge and "
        "compare both judges' agreement with the reviewers (exit 1 when the candidate is worse "
        "beyond the CI)");
    c->add_option("--config,-c", a->config, "Config file (default: ./assay.yaml)");
    c->add_option("--db", a->db,
                  "SQLite file or postgresql:// URI (overrides store.sqlite / store.postgres)");
    c->add_option("--scorer,-s", a->scorer, "The judge scorer whose judge would change")
        ->required();
    c->add_option("--candidate", a->candidate,
                  "A judge name from the config's judges: list, or a YAML file with one judge "
                  "entry (same keys)")
        ->required();
    c->add_option("--scorer-version", a->version,
                  "Labels of this scorer version (default: the configured version)");
    c->add_option("--resamples", a->resamples, "Bootstrap resamples (default 2000)")
        ->check(CLI::Range(100, 100000));
    c->add_option("--seed", a->seed, "Bootstrap seed (default 20261122)");
    c->add_option("--limit", a->limit, "At most this many labelled traces (default: all)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->callback([a, &run] { run = [a] { return run_compare(*a); }; });
}

}  // namespace assay::cli
