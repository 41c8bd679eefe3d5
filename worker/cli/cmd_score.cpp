// `assay score`: score every trace of a JSONL file (or stdin) with the
// configured scorers, store everything, print a summary per scorer.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/component_options.h"
#include "config/config.h"
#include "core/clock.h"
#include "ingest/jsonl_reader.h"
#include "judge/judge_stage.h"
#include "pipeline/pipeline.h"
#include "store/sqlite/new_file_build.h"
#include "store/store_location.h"

namespace assay::cli {

namespace {

struct ScoreArgs {
    std::string config;
    std::string in;
    std::string db;
    std::string format = "table";
    std::string salt;
    int threads = -1;
    bool quiet = false;
    bool progress = false;
    bool no_wait_judges = false;
    std::string log_level;
};

// Folds what the judge stage decided into the run's per-scorer tallies: those
// traces are no longer pending.
void fold_judges(RunSummary& s, const JudgeStageMetrics& m) {
    for (auto& t : s.scorers) {
        auto it = m.by_scorer.find(t.scorer);
        if (!t.is_judge || it == m.by_scorer.end()) {
            continue;
        }
        const ScorerTally& j = it->second;
        t.pending = std::max<int64_t>(
            0, t.pending - (j.scored + j.errors + j.skipped_budget + j.missing_input));
        t.scored += j.scored;
        t.value_sum += j.value_sum;
        t.passed += j.passed;
        t.failed_check += j.failed_check;
        t.errors += j.errors;
        t.skipped_budget += j.skipped_budget;
        t.missing_input += j.missing_input;
    }
}

nlohmann::json summary_json(const RunSummary& s, const Config& cfg, double secs) {
    nlohmann::json j;
    j["records"] = s.records;
    j["accepted"] = s.accepted;
    j["rejected"] = s.rejected;
    j["reject_reasons"] = s.reject_reasons;
    j["db"] = mask_store_location(cfg.store.sqlite_path);
    j["seconds"] = secs;
    j["scorers"] = nlohmann::json::array();
    for (const auto& t : s.scorers) {
        nlohmann::json o;
        o["scorer"] = t.scorer;
        o["version"] = t.version;
        o["judge"] = t.is_judge;
        o["seen"] = t.seen;
        o["scored"] = t.scored;
        o["mean"] = t.scored ? nlohmann::json(t.mean()) : nlohmann::json(nullptr);
        o["pass_rate"] =
            t.pass_rate() >= 0 ? nlohmann::json(t.pass_rate()) : nlohmann::json(nullptr);
        o["failed_checks"] = t.failed_check;
        o["filtered_out"] = t.filtered_out;
        o["sampled_out"] = t.sampled_out;
        o["skipped_missing_input"] = t.missing_input;
        o["pending_judge"] = t.pending;
        o["skipped_budget"] = t.skipped_budget;
        o["errors"] = t.errors;
        j["scorers"].push_back(o);
    }
    return j;
}

void print_summary(const RunSummary& s, const Config& cfg, double secs) {
    std::printf(
        "assay score: %lld records, %lld stored, %lld rejected to dead_letters, in %.2f s (%.0f "
        "traces/s) -> %s\n",
        static_cast<long long>(s.records), static_cast<long long>(s.accepted),
        static_cast<long long>(s.rejected), secs,
        secs > 0 ? static_cast<double>(s.records) / secs : 0.0,
        mask_store_location(cfg.store.sqlite_path).c_str());
    for (const auto& [reason, n] : s.reject_reasons) {
        std::printf("  rejected %lld: %s\n", static_cast<long long>(n), reason.c_str());
    }
    std::vector<std::vector<std::string>> rows = {{"scorer", "version", "seen", "scored", "mean",
                                                   "pass_rate", "failed", "filtered", "sampled_out",
                                                   "no_input", "judge_pending", "errors"}};
    for (const auto& t : s.scorers) {
        rows.push_back({t.scorer, t.version, std::to_string(t.seen), std::to_string(t.scored),
                        t.scored ? fmt_double(t.mean(), 3) : "-",
                        t.pass_rate() >= 0 ? fmt_double(100.0 * t.pass_rate(), 1) + "%" : "-",
                        std::to_string(t.failed_check), std::to_string(t.filtered_out),
                        std::to_string(t.sampled_out), std::to_string(t.missing_input),
                        std::to_string(t.pending), std::to_string(t.errors)});
    }
    std::printf("\n");
    print_table(rows);
}

int run_score(const ScoreArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    if (!a.salt.empty()) {
        flags.salt = a.salt;
    }
    if (a.threads >= 0) {
        flags.threads = a.threads;
    }
    if (!a.log_level.empty()) {
        flags.log_level = a.log_level;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay score: %s\n", cfg.status().message().c_str());
        return 2;
    }
    setup_logging(cfg->log);
    auto log = spdlog::get("cli");
    // A file of traces into a new store with code scorers only: the store is
    // built whole under a private name and published at the end (README,
    // `assay score`: "Into a new SQLite file, ..."). Judge scorers write
    // through a second connection while the code scorers run, and a stream
    // (stdin, a pipe) may never end while its scores should be readable, so
    // with either the store is written in place.
    const bool has_judges = std::any_of(cfg->scorers.begin(), cfg->scorers.end(),
                                        [](const ConfiguredScorer& c) { return c.is_judge(); });
    std::error_code ec;
    const bool regular_file = a.in != "-" && std::filesystem::is_regular_file(a.in, ec);
    std::unique_ptr<NewFileBuild> build =
        has_judges || !regular_file ? nullptr : NewFileBuild::begin(cfg->store);
    auto store = open_store(build ? build->options() : cfg->store);
    if (!store.ok()) {
        std::fprintf(stderr, "assay score: %s\n", store.status().message().c_str());
        return 2;
    }
    if (Status st = (*store)->register_scorers(version_infos(cfg->scorers)); !st.ok()) {
        std::fprintf(stderr, "assay score: %s\n", st.message().c_str());
        return 2;
    }
    auto reader = JsonlReader::open(a.in, cfg->ingest.max_trace_bytes);
    if (!reader.ok()) {
        std::fprintf(stderr, "assay score: %s\n", reader.status().message().c_str());
        return 2;
    }
    // Judge scorers run on their own thread and store connection, beside the
    // code scorers, which never wait for them.
    auto started = start_judge_stage(cfg->store, cfg->judges, cfg->scorers);
    if (!started.ok()) {
        std::fprintf(stderr, "assay score: %s\n", started.status().message().c_str());
        return 2;
    }
    std::unique_ptr<JudgeStage> judges = std::move(started).value();
    const std::string source = a.in == "-" ? "stdin" : "file:" + a.in;
    const bool progress = !a.quiet && (a.progress || isatty(STDERR_FILENO));
    auto t0 = std::chrono::steady_clock::now();
    auto last = t0;
    JudgeStage* judge_stage = judges.get();
    std::optional<Pipeline> pipeline;
    pipeline.emplace(pipeline_setup(*cfg), **store, [judge_stage](const Pipeline::CommitReport& r) {
        if (judge_stage != nullptr) {
            judge_stage->offer(std::move(r.queued_for_judge));  // judged without parsing them again
        }
    });
    JsonlRecord rec;
    int64_t n = 0;
    Status st;
    while ((*reader)->next(rec)) {
        RawRecord r;
        r.text = std::move(rec.text);
        r.source = source;
        r.line = rec.line;
        r.oversized = rec.oversized;
        r.full_bytes = rec.full_bytes;
        r.received_ms = now_ms();
        st = pipeline->submit(std::move(r));
        if (!st.ok()) {
            break;
        }
        if (progress && (++n & 1023) == 0) {
            auto now = std::chrono::steady_clock::now();
            if (now - last > std::chrono::milliseconds(250)) {
                last = now;
                uint64_t total = (*reader)->total_bytes();
                if (total > 0) {
                    std::fprintf(stderr, "\rscoring: %lld records, %.0f%% of input",
                                 static_cast<long long>(n),
                                 100.0 * static_cast<double>((*reader)->bytes_read()) /
                                     static_cast<double>(total));
                } else {
                    std::fprintf(stderr, "\rscoring: %lld records", static_cast<long long>(n));
                }
            }
        }
    }
    Status fin = pipeline->finish();
    if (progress && n >= 1024) {
        std::fprintf(stderr, "\r%60s\r", "");
    }
    RunSummary s = pipeline->summary();
    if (build) {
        // All or nothing: a run whose store write failed publishes nothing
        // (the private file is removed). A run whose input failed to read
        // publishes what it read, as a store written in place keeps it.
        pipeline.reset();
        store->reset();
        if (!fin.ok() || !st.ok()) {
            std::fprintf(stderr,
                         "assay score: store failed; nothing was stored in the new file '%s': "
                         "%s\n",
                         cfg->store.sqlite_path.c_str(), (!fin.ok() ? fin : st).message().c_str());
            return 2;
        }
        if (Status pub = build->publish(); !pub.ok()) {
            std::fprintf(stderr, "assay score: %s\n", pub.message().c_str());
            return 2;
        }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!(*reader)->status().ok()) {
        std::fprintf(stderr, "assay score: %s: %s\n", a.in.c_str(),
                     (*reader)->status().message().c_str());
        return 2;
    }
    if (!fin.ok() || !st.ok()) {
        std::fprintf(stderr, "assay score: store failed; the failed batch was not stored: %s\n",
                     (!fin.ok() ? fin : st).message().c_str());
        return 2;
    }
    if (judges) {
        if (!a.no_wait_judges) {
            if (progress) {
                std::fprintf(stderr, "\rwaiting for the judges...");
            }
            while (!judges->wait_idle(std::chrono::seconds(1))) {
            }
            if (progress) {
                std::fprintf(stderr, "\r%30s\r", "");
            }
        }
        judges->stop();
        JudgeStageMetrics jm = judges->metrics();
        fold_judges(s, jm);
        for (const auto& j : jm.judges) {
            if (log && (j.state == "paused" || j.state == "disabled")) {
                log->warn(
                    "judge '{}' is {}: {}; its traces stay pending (see `assay judges status`)",
                    j.name, j.state, j.pause_reason);
            }
        }
    }
    if (log && s.rejected > 0) {
        log->warn("{} of {} records rejected; see the dead_letters table", s.rejected, s.records);
    }
    if (a.format == "json") {
        std::cout << summary_json(s, *cfg, secs).dump(2) << "\n";
    } else if (!a.quiet) {
        print_summary(s, *cfg, secs);
    }
    return 0;
}

}  // namespace

void add_score_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<ScoreArgs>();
    CLI::App* c = app.add_subcommand(
        "score", "Score every trace of a JSONL file with the configured scorers");
    c->add_option("--config,-c", a->config,
                  "Config file (default: ./assay.yaml, else built-in defaults)");
    c->add_option("--in,-i", a->in, "Traces, one JSON object per line; - for stdin")->required();
    c->add_option("--db", a->db, "SQLite store path (overrides store.sqlite)");
    c->add_option("--format", a->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
    c->add_option("--salt", a->salt, "Sampler salt (overrides sampler.salt)");
    c->add_option("--threads", a->threads, "Scoring threads (0 = cores - 1)");
    c->add_option("--log-level", a->log_level, "trace|debug|info|warn|error|off");
    c->add_flag("--quiet,-q", a->quiet, "No progress, no table");
    c->add_flag("--progress", a->progress, "Show progress even when stderr is not a terminal");
    c->add_flag("--no-wait-judges", a->no_wait_judges,
                "Print the summary without waiting for judge scorers (their traces stay pending in "
                "the store)");
    c->callback([a, &run] { run = [a] { return run_score(*a); }; });
}

}  // namespace assay::cli
