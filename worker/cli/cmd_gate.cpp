// `assay gate`: compare a candidate's outputs with a baseline's on a golden
// dataset and block a regression (exit 1). Exit 2 on anything that keeps the
// gate from a sound verdict. README.md, "assay gate".
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "config/config.h"
#include "gate/gate_rules.h"
#include "gate/generate_side.h"
#include "gate/report_json.h"
#include "gate/report_render.h"
#include "gate/run_gate.h"
#include "gate/stage_case_judge.h"
#include "judge/subject_options.h"
#include "llm/judge_client.h"

namespace assay::cli {

namespace {

struct GateArgs {
    std::string config;
    gate::GateOptions options;
    std::string db;
    std::string junit;
    std::string markdown;
    std::string json;
    int allow_judge_errors = -1;
    int judge_timeout_s = 1800;
    bool progress = false;
    bool quiet = false;
    std::string log_level;
};

bool write_file(const std::string& path, const std::string& text, const char* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
        std::fprintf(stderr, "assay gate: cannot write the %s to '%s'\n", what, path.c_str());
        return false;
    }
    return true;
}

int run_gate_command(const GateArgs& a) {
    const int baseline_sources = !a.options.baseline.empty() + !a.options.baseline_report.empty() +
                                 !a.options.baseline_prompt.empty();
    if (baseline_sources != 1) {
        std::fprintf(stderr,
                     "assay gate: give exactly one of --baseline, --baseline-report and "
                     "--baseline-prompt\n");
        return 2;
    }
    if (a.options.candidate.empty() == a.options.prompt.empty()) {
        std::fprintf(stderr, "assay gate: give exactly one of --candidate and --prompt\n");
        return 2;
    }
    const bool generating = !a.options.prompt.empty() || !a.options.baseline_prompt.empty();
    if (!a.options.save_outputs.empty() && !generating) {
        std::fprintf(stderr, "assay gate: --save-outputs needs --prompt or --baseline-prompt\n");
        return 2;
    }
    ConfigOverrides flags;
    if (!a.log_level.empty()) {
        flags.log_level = a.log_level;
    }
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay gate: %s\n", cfg.status().message().c_str());
        return 2;
    }
    setup_logging(cfg->log);
    auto rules = gate::parse_gate_rules(cfg->gate);
    if (!rules.ok()) {
        std::fprintf(stderr, "assay gate: %s: %s\n", cfg->source.c_str(),
                     rules.status().message().c_str());
        return 2;
    }
    if (a.allow_judge_errors >= 0) {
        rules->allow_judge_errors = a.allow_judge_errors;
    }
    const bool progress = !a.quiet && (a.progress || isatty(STDERR_FILENO));
    auto show = [&](const std::string& side, size_t done, size_t total) {
        if (progress && (done == total || done % 25 == 0)) {
            std::fprintf(stderr, "\rassay gate: scoring %s %zu/%zu", side.c_str(), done, total);
            if (done == total) {
                std::fprintf(stderr, "\n");
            }
        }
    };
    WriteBatch batch;
    // Judge scorers run through the worker's judge stage, in the --db store
    // (its judge_cache makes a re-run identical and free) or, without --db,
    // in a scratch store removed at exit.
    bool has_judges = false;
    for (const auto& s : cfg->scorers) {
        has_judges = has_judges || s.is_judge();
    }
    std::string scratch;
    if (has_judges && a.db.empty()) {
        std::string tmpl = "/tmp/assay-gate-XXXXXX";
        int fd = mkstemp(tmpl.data());
        if (fd < 0) {
            std::fprintf(stderr, "assay gate: cannot create a scratch store in /tmp\n");
            return 2;
        }
        close(fd);
        scratch = tmpl;
        cfg->store.sqlite_path = scratch;
    }
    struct RemoveScratch {
        const std::string& path;
        ~RemoveScratch() {
            for (const char* suffix : {"", "-wal", "-shm"}) {
                if (!path.empty()) {
                    std::remove((path + suffix).c_str());
                }
            }
        }
    } remove_scratch{scratch};
    // Generate mode: the subject, through the judges' client; its cache and
    // spend live in the --db store (without --db: no cache).
    std::unique_ptr<JudgeClient> subject_client;
    std::unique_ptr<Store> generation_store;
    std::unique_ptr<gate::SubjectGenerator> generator;
    gate::GateOptions options = a.options;
    if (generating) {
        if (!cfg->subject) {
            std::fprintf(stderr,
                         "assay gate: %s: --prompt/--baseline-prompt need a `subject:` model in "
                         "the config\n",
                         cfg->source.c_str());
            return 2;
        }
        auto subject = subject_runtime_from_json(cfg->subject->config_json);
        if (!subject.ok()) {
            std::fprintf(stderr, "assay gate: %s: %s\n", cfg->source.c_str(),
                         subject.status().message().c_str());
            return 2;
        }
        auto client = make_judge_client(subject->rt.transport);
        if (!client.ok()) {
            std::fprintf(stderr, "assay gate: subject: %s\n", client.status().message().c_str());
            return 2;
        }
        subject_client = std::move(client).value();
        if (!a.db.empty()) {
            auto gs = open_store(cfg->store);
            if (!gs.ok()) {
                std::fprintf(stderr, "assay gate: %s\n", gs.status().message().c_str());
                return 2;
            }
            generation_store = std::move(gs).value();
        }
        if (!options.save_outputs.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(options.save_outputs, ec);
            if (ec) {
                std::fprintf(stderr, "assay gate: --save-outputs: cannot create '%s': %s\n",
                             options.save_outputs.c_str(), ec.message().c_str());
                return 2;
            }
        }
        generator = std::make_unique<gate::SubjectGenerator>(
            std::move(subject).value(), *subject_client, generation_store.get());
        options.generator = generator.get();
        options.generate_progress = [&](const std::string& side, size_t done, size_t total) {
            if (progress) {  // called once per batch of finished requests
                std::fprintf(stderr, "\rassay gate: generating %s %zu/%zu", side.c_str(), done,
                             total);
                if (done == total) {
                    std::fprintf(stderr, "\n");
                }
            }
        };
        options.generated = [&](const std::string& side, const gate::GenerationStats& st) {
            if (!a.quiet) {
                std::fprintf(
                    stderr,
                    "assay gate: %s generated by %s: %lld requests (%lld attempts), %lld from the "
                    "cache, "
                    "%lld+%lld tokens, $%.4f\n",
                    side.c_str(), cfg->subject->name.c_str(), static_cast<long long>(st.requests),
                    static_cast<long long>(st.attempts), static_cast<long long>(st.cache_hits),
                    static_cast<long long>(st.input_tokens),
                    static_cast<long long>(st.output_tokens), st.cost_usd);
            }
        };
    }
    gate::StageCaseJudge stage_judge(cfg->store, cfg->judges, cfg->scorers,
                                     std::chrono::milliseconds(a.judge_timeout_s * 1000LL));
    gate::CaseJudge* judge = has_judges ? &stage_judge : nullptr;
    auto report = gate::run_gate(gate::GateSetup{cfg->scorers, cfg->ingest, cfg->source}, *rules,
                                 options, judge, show, a.db.empty() ? nullptr : &batch);
    if (!report.ok()) {
        std::fprintf(stderr, "assay gate: %s\n", report.status().message().c_str());
        return 2;
    }
    if (!a.db.empty()) {
        auto store = open_store(cfg->store);
        if (!store.ok()) {
            std::fprintf(stderr, "assay gate: %s\n", store.status().message().c_str());
            return 2;
        }
        Status st = (*store)->register_scorers(version_infos(cfg->scorers));
        if (st.ok()) {
            st = (*store)->write(batch);
        }
        if (!st.ok()) {
            std::fprintf(stderr, "assay gate: storing the run's scores failed: %s\n",
                         st.message().c_str());
            return 2;
        }
    }
    bool ok = true;
    if (!a.json.empty()) {
        ok = write_file(a.json, gate::report_to_json(*report).dump(2) + "\n", "JSON report") && ok;
    }
    if (!a.markdown.empty()) {
        ok = write_file(a.markdown, gate::render_markdown(*report), "Markdown summary") && ok;
    }
    if (!a.junit.empty()) {
        ok = write_file(a.junit, gate::render_junit(*report), "JUnit XML") && ok;
    }
    if (!a.quiet) {
        std::fputs(gate::render_terminal(*report).c_str(), stdout);
    }
    if (!ok) {
        return 2;
    }
    return report->verdict.exit_code;
}

}  // namespace

void add_gate_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<GateArgs>();
    CLI::App* c = app.add_subcommand("gate",
                                     "Compare candidate outputs with a baseline on a dataset; exit "
                                     "0 pass, 1 regression, 2 error");
    c->add_option("--config,-c", a->config,
                  "Config file (default: ./assay.yaml, else built-in defaults)");
    c->add_option("--dataset", a->options.dataset, "Golden cases, JSONL")->required();
    c->add_option("--baseline", a->options.baseline,
                  "Baseline outputs (trace JSONL, trace_id = case id)");
    c->add_option("--baseline-report", a->options.baseline_report,
                  "JSON report of an earlier gate run: its candidate side is the baseline");
    c->add_option("--candidate", a->options.candidate,
                  "Candidate outputs (trace JSONL, trace_id = case id)");
    c->add_option("--prompt", a->options.prompt,
                  "Generate the candidate: render this prompt template per case and call the "
                  "config's subject");
    c->add_option("--baseline-prompt", a->options.baseline_prompt,
                  "Generate the baseline the same way from this prompt template");
    c->add_option("--save-outputs", a->options.save_outputs,
                  "Write generated sides to DIR/baseline.jsonl and DIR/candidate.jsonl");
    c->add_option("--db", a->db,
                  "Also store both sides' traces and scores here, a SQLite file or postgresql:// "
                  "URI (trace ids '<side>/<case id>')");
    c->add_option("--junit", a->junit, "Write JUnit XML here");
    c->add_option("--markdown", a->markdown,
                  "Write the Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)");
    c->add_option("--json", a->json, "Write the JSON report here (reusable as --baseline-report)");
    c->add_option("--allow-judge-errors", a->allow_judge_errors,
                  "Judge errors tolerated before the gate fails closed (default "
                  "gate.allow_judge_errors = 0)");
    c->add_option(
        "--judge-timeout-s", a->judge_timeout_s,
        "Longest wait for one side's judges (default 1800); what is left is a judge error");
    c->add_option("--log-level", a->log_level, "trace|debug|info|warn|error|off");
    c->add_flag("--progress", a->progress, "Show progress even when stderr is not a terminal");
    c->add_flag("--quiet,-q", a->quiet, "No progress, no table (files and exit code only)");
    c->callback([a, &run] { run = [a] { return run_gate_command(*a); }; });
}

}  // namespace assay::cli
