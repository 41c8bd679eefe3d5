// `assay judges status`: per configured judge, its state (active, paused by
// the provider's last answer, disabled for an unset key variable), the judge
// work pending for it, today's spend against its budget and cache hits.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "judge/judge_options.h"
#include "judge/judge_scorer_spec.h"

namespace assay::cli {

namespace {

struct JudgesArgs {
    std::string config, db, format = "table";
    int errors = 5;
};

int run_judges_status(const JudgesArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay judges status: %s\n", cfg.status().message().c_str());
        return 2;
    }
    auto store = open_store(cfg->store);
    if (!store.ok()) {
        std::fprintf(stderr, "assay judges status: %s\n", store.status().message().c_str());
        return 2;
    }
    const std::string today = format_rfc3339_ms(now_ms()).substr(0, 10);
    auto report = (*store)->judge_status(today, a.errors);
    if (!report.ok()) {
        std::fprintf(stderr, "assay judges status: %s\n", report.status().message().c_str());
        return 2;
    }
    // Pending work per judge: the queue of every current scorer version using it.
    std::map<std::string, int64_t> pending;
    for (const auto& cs : cfg->scorers) {
        const JudgeScorerSpec* spec = judge_scorer_spec(cs.deferred.get());
        if (spec == nullptr) {
            continue;
        }
        for (const auto& q : report->queue) {
            if (q.scorer == cs.name && q.scorer_version == cs.version) {
                for (const auto& j : spec->judges) {
                    pending[j] += q.pending;
                }
            }
        }
    }
    nlohmann::json out = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows = {{"judge", "model", "state", "pending",
                                                   "spent_today", "budget", "calls", "cache_hits",
                                                   "detail"}};
    for (const auto& spec : cfg->judges) {
        auto rt = judge_runtime_from_spec(spec);
        if (!rt.ok()) {
            std::fprintf(stderr, "assay judges status: %s\n", rt.status().message().c_str());
            return 2;
        }
        std::string state = "active";
        std::string detail;
        const std::string& env = rt->transport.api_key_env;
        const char* key = env.empty() ? nullptr : std::getenv(env.c_str());
        for (const auto& last : report->last_by_judge) {
            if (last.judge == spec.name &&
                (last.error_type == "auth" || last.error_type == "billing" ||
                 last.error_type == "unknown_model" ||
                 last.error_type == "unsupported_parameter")) {
                state = "paused";
                detail = last.error_type + ": " + last.error_message + " (at " +
                         format_rfc3339_ms(last.at_ms) + ")";
            }
        }
        if (!env.empty() && (key == nullptr || *key == '\0')) {
            state = "disabled";
            detail = "environment variable " + env + " is not set";
        }
        JudgeSpend spend;
        for (const auto& s : report->spend) {
            if (s.judge == spec.name) {
                spend = s;
            }
        }
        const double budget = rt->daily_budget_usd;
        if (state == "active" && budget > 0 && spend.cost_usd >= budget) {
            state = "over_budget";
            detail = "traces are skipped_budget until the next UTC day";
        }
        rows.push_back({spec.name, spec.model, state, std::to_string(pending[spec.name]),
                        "$" + fmt_double(spend.cost_usd, 4),
                        budget > 0 ? "$" + fmt_double(budget, 2) : "none",
                        std::to_string(spend.calls), std::to_string(spend.cache_hits), detail});
        out.push_back(
            {{"judge", spec.name},
             {"provider", spec.provider},
             {"model", spec.model},
             {"state", state},
             {"detail", detail},
             {"pending", pending[spec.name]},
             {"day", today},
             {"spent_usd", spend.cost_usd},
             {"budget_usd", budget > 0 ? nlohmann::json(budget) : nlohmann::json(nullptr)},
             {"calls", spend.calls},
             {"input_tokens", spend.input_tokens},
             {"output_tokens", spend.output_tokens},
             {"reasoning_tokens", spend.reasoning_tokens},
             {"cached_input_tokens", spend.cached_input_tokens},
             {"cache_hits", spend.cache_hits}});
    }
    if (a.format == "json") {
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& e : report->recent_errors) {
            errors.push_back({{"trace_id", e.trace_id},
                              {"scorer", e.scorer},
                              {"judge", e.judge},
                              {"error_type", e.error_type},
                              {"error_message", e.error_message},
                              {"at", format_rfc3339_ms(e.at_ms)}});
        }
        std::cout
            << nlohmann::json{{"day", today}, {"judges", out}, {"recent_errors", errors}}.dump(2)
            << "\n";
        return 0;
    }
    std::printf("judges on %s (UTC):\n", today.c_str());
    print_table(rows);
    if (!report->recent_errors.empty()) {
        std::printf("\nrecent errors:\n");
        std::vector<std::vector<std::string>> er = {{"at", "judge", "scorer", "trace_id", "error"}};
        for (const auto& e : report->recent_errors) {
            er.push_back({format_rfc3339_ms(e.at_ms), e.judge, e.scorer, e.trace_id,
                          e.error_type + ": " + e.error_message.substr(0, 120)});
        }
        print_table(er);
    }
    return 0;
}

}  // namespace

void add_judges_command(CLI::App& app, Runner& run) {
    CLI::App* c =
        app.add_subcommand("judges", "LLM judges: state, pending work, spend; compare a candidate");
    c->require_subcommand(1);
    auto a = std::make_shared<JudgesArgs>();
    CLI::App* s = c->add_subcommand(
        "status", "Per judge: state, pending traces, spend today vs budget, cache hits");
    s->add_option("--config,-c", a->config, "Config file (default: ./assay.yaml)");
    s->add_option("--db", a->db, "SQLite store path (overrides store.sqlite)");
    s->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    s->add_option("--errors", a->errors, "How many recent judge errors to show (default 5)");
    s->callback([a, &run] { run = [a] { return run_judges_status(*a); }; });
    add_judges_compare_command(*c, run);
}

}  // namespace assay::cli
