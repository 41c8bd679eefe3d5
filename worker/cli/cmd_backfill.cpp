// `assay backfill`: judge stored traces with a judge scorer's current
// version. Candidates are stored traces (optionally --since, --feature) with
// no final decision yet for that version (scored, pending and
// skipped_missing_input ones are never judged twice). Each goes through the
// scorer's filter and sample rate as in live scoring; sampled ones are
// queued in judge_queue (decision pending) and a judge stage for this scorer
// alone runs until its queue is done, so it also drains the traces already
// queued for the version. --estimate prints the calls and the cost bound of
// all of it (already queued + new) and spends nothing; --max-usd caps the
// estimated cost of all of it: new traces are queued only while the queued
// ones and they fit, and the stage stops taking tasks once the next would
// pass it. Resumable: the queue lives in the store, so an interrupted
// backfill continues on the next run (or in `assay worker`).
#include <cstdio>
#include <map>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/trace_json.h"
#include "judge/judge_options.h"
#include "judge/judge_scorer_spec.h"
#include "judge/judge_stage.h"
#include "judge/rubric.h"
#include "judge/rubric_render.h"
#include "llm/judge_wire.h"

namespace assay::cli {

namespace {

struct BackfillArgs {
    std::string config, db, scorer, since, feature;
    bool estimate = false;
    double max_usd = -1;
    int64_t limit = 0;
};

int run_backfill(const BackfillArgs& a) {
    const std::string cmd = "assay backfill";
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), cfg.status().message().c_str());
        return 2;
    }
    setup_logging(cfg->log);
    const ConfiguredScorer* cs = nullptr;
    for (const auto& s : cfg->scorers) {
        cs = s.name == a.scorer ? &s : cs;
    }
    if (cs == nullptr) {
        std::fprintf(stderr, "%s: --scorer: no scorer named '%s' in %s\n", cmd.c_str(),
                     a.scorer.c_str(), cfg->source.c_str());
        return 1;
    }
    const JudgeScorerSpec* spec = judge_scorer_spec(cs->deferred.get());
    if (spec == nullptr) {
        std::fprintf(stderr, "%s: --scorer: '%s' is a %s scorer; backfill runs judge scorers\n",
                     cmd.c_str(), a.scorer.c_str(), cs->type.c_str());
        return 2;
    }
    if (cs->is_pairwise()) {
        std::fprintf(
            stderr,
            "%s: --scorer: '%s' has a pairwise rubric; only `assay gate` runs it (it compares a "
            "baseline and a candidate output)\n",
            cmd.c_str(), a.scorer.c_str());
        return 2;
    }
    std::map<std::string, JudgeRuntime> judges;
    for (const auto& j : cfg->judges) {
        auto rt = judge_runtime_from_spec(j);
        if (!rt.ok()) {
            std::fprintf(stderr, "%s: %s\n", cmd.c_str(), rt.status().message().c_str());
            return 2;
        }
        judges.emplace(j.name, std::move(rt).value());
    }
    BackfillQuery q;
    q.scorer = cs->name;
    q.scorer_version = cs->version;
    q.feature = a.feature;
    q.limit = a.limit;
    if (!a.since.empty()) {
        auto since = parse_since(a.since, now_ms());
        if (!since.ok()) {
            std::fprintf(stderr, "%s: --since: %s\n", cmd.c_str(),
                         since.status().message().c_str());
            return 2;
        }
        q.since_ms = *since;
    }
    auto store = open_store(cfg->store);
    if (!store.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), store.status().message().c_str());
        return 2;
    }
    if (Status st = (*store)->register_scorers(version_infos(cfg->scorers)); !st.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), st.message().c_str());
        return 2;
    }
    auto candidates = (*store)->backfill_candidates(q);
    if (!candidates.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), candidates.status().message().c_str());
        return 2;
    }
    auto queued = (*store)->queued_judge_tasks(cs->name, cs->version);
    if (!queued.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), queued.status().message().c_str());
        return 2;
    }
    // The calls and their estimated cost for one trace (judge_call_estimate
    // per judge and sample: an upper bound for the output side); 0 calls when a rubric
    // input is missing (the stage records skipped_missing_input, no call).
    const std::string system(judge_system_message());
    struct Priced {
        int calls = 0;
        double cost = 0;
    };
    auto price = [&](const Trace& trace) {
        Priced p;
        auto prompt = render(spec->rubric, trace);
        if (!prompt.ok()) {
            return p;
        }
        for (const auto& name : spec->judges) {
            // `samples` calls per judge, each the same prompt.
            p.cost += spec->samples * judge_call_estimate(judges.at(name).transport,
                                                          system.size() + prompt->size());
            p.calls += spec->samples;
        }
        return p;
    };
    const int64_t now = now_ms();
    // Already queued for this version: the stage judges these first (oldest first).
    int64_t pending_calls = 0;
    double pending_cost = 0;
    for (const auto& t : *queued) {
        auto trace = parse_stored_trace(t.raw, now);
        if (trace.ok()) {
            const Priced p = price(*trace);
            pending_calls += p.calls;
            pending_cost += p.cost;
        }
    }
    // Decide and cost every candidate: filter and sample rate as live.
    WriteBatch batch;
    int64_t sampled = 0, missing = 0, calls = 0, queued_new = 0, over_budget = 0;
    double cost = 0, queued_cost = 0;
    for (auto& c : *candidates) {
        auto trace = parse_stored_trace(c.raw, now);
        if (!trace.ok()) {
            continue;  // stored traces parsed once; a failure here is left alone
        }
        const SampleDecision d = cs->policy.decide(*trace);
        ScoreRow row;
        row.trace_id = c.trace_id;
        row.scorer = cs->name;
        row.scorer_version = cs->version;
        row.at_ms = now;
        row.reason = d.reason;
        if (d.outcome == SampleOutcome::filtered_out || d.outcome == SampleOutcome::sampled_out) {
            row.decision = d.outcome == SampleOutcome::filtered_out ? Decision::filtered_out
                                                                    : Decision::sampled_out;
            batch.scores.push_back(std::move(row));
            continue;
        }
        ++sampled;
        const Priced p = price(*trace);
        missing += p.calls == 0 && !spec->judges.empty() ? 1 : 0;
        calls += p.calls;
        cost += p.cost;
        if (a.estimate) {
            continue;
        }
        // In order, after the already queued work: once the next trace would
        // pass --max-usd, nothing after it is queued either, so a later run
        // continues where this one stopped.
        if (over_budget > 0 ||
            (a.max_usd >= 0 && pending_cost + queued_cost + p.cost > a.max_usd)) {
            ++over_budget;
            continue;
        }
        queued_cost += p.cost;
        ++queued_new;
        row.decision = Decision::pending;
        batch.scores.push_back(std::move(row));
        batch.judge_tasks.push_back({c.trace_id, cs->name, cs->version, now, -1});
    }
    std::printf(
        "backfill %s (version %s): %zu traces already queued (%lld judge calls, at most $%.4f); "
        "%zu "
        "stored traces without a final decision; %lld sampled; %lld lack an input the rubric "
        "needs; "
        "%lld judge calls, at most $%.4f; in all %lld judge calls, estimated cost at most $%.4f\n",
        cs->name.c_str(), cs->version.c_str(), queued->size(),
        static_cast<long long>(pending_calls), pending_cost, candidates->size(),
        static_cast<long long>(sampled), static_cast<long long>(missing),
        static_cast<long long>(calls), cost, static_cast<long long>(pending_calls + calls),
        pending_cost + cost);
    if (a.estimate) {
        return 0;
    }
    if (Status st = (*store)->write(batch); !st.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), st.message().c_str());
        return 2;
    }
    if (over_budget > 0) {
        std::printf(
            "backfill: --max-usd %.4f reached: %lld sampled traces not queued (run again to "
            "continue)\n",
            a.max_usd, static_cast<long long>(over_budget));
    }
    std::printf(
        "backfill: queued %lld traces (estimated at most $%.4f); judging them and the %zu already "
        "queued...\n",
        static_cast<long long>(queued_new), queued_cost, queued->size());
    std::fflush(stdout);
    // A stage for this scorer alone, capped at --max-usd: it sends nothing
    // the estimate above did not cover.
    auto setup = judge_stage_setup(cfg->store, cfg->judges, cfg->scorers);
    if (!setup.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), setup.status().message().c_str());
        return 2;
    }
    std::erase_if(setup->scorers, [&](const JudgeStageScorer& sc) { return sc.name != cs->name; });
    setup->options.max_usd = a.max_usd;
    auto stage = JudgeStage::create(std::move(setup).value());
    if (!stage.ok()) {
        std::fprintf(stderr, "%s: %s\n", cmd.c_str(), stage.status().message().c_str());
        return 2;
    }
    (*stage)->start();
    while (!(*stage)->wait_idle(std::chrono::seconds(1))) {
    }
    (*stage)->stop();
    const JudgeStageMetrics m = (*stage)->metrics();
    auto get = [&m](const char* k) {
        auto it = m.tasks.find(k);
        return static_cast<long long>(it == m.tasks.end() ? 0 : it->second);
    };
    double spent = 0;
    for (const auto& j : m.judges) {
        spent += j.cost_usd;
        if (j.state == "paused" || j.state == "disabled") {
            std::printf("backfill: judge '%s' is %s (%s): its traces stay pending\n",
                        j.name.c_str(), j.state.c_str(), j.pause_reason.c_str());
        }
    }
    if (m.cost_cap_reached) {
        std::printf(
            "backfill: --max-usd %.4f reached while judging: the rest stays queued (run again to "
            "continue)\n",
            a.max_usd);
    }
    std::printf(
        "backfill: scored %lld, failed %lld, skipped_budget %lld, skipped_missing_input %lld, left "
        "pending %lld; spent $%.4f\n",
        get("scored"), get("failed"), get("skipped_budget"), get("skipped_missing_input"),
        get("left_pending"), spent);
    return 0;
}

}  // namespace

void add_backfill_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<BackfillArgs>();
    CLI::App* c =
        app.add_subcommand("backfill", "Judge stored traces with a judge scorer's current version");
    c->add_option("--config,-c", a->config, "Config file (default: ./assay.yaml)");
    c->add_option("--db", a->db, "SQLite store path (overrides store.sqlite)");
    c->add_option("--scorer", a->scorer, "The judge scorer to backfill")->required();
    c->add_option("--since", a->since, "Only traces from this time on: 30d, 12h, 30m or RFC 3339");
    c->add_option("--feature", a->feature, "Only traces of this metadata.feature");
    c->add_flag("--estimate", a->estimate,
                "Print the calls and the estimated cost (already queued + new); spend nothing");
    c->add_option("--max-usd", a->max_usd,
                  "Send no more than this estimated cost (already queued + new traces)");
    c->add_option("--limit", a->limit, "At most this many candidate traces");
    c->callback([a, &run] { run = [a] { return run_backfill(*a); }; });
}

}  // namespace assay::cli
