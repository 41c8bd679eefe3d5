// `assay bottom`: the lowest-scoring traces for one scorer (failures first).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/store_args.h"
#include "core/clock.h"
#include "core/input_gist.h"
#include "core/text.h"
#include "core/time_format.h"
#include "core/trace_json.h"

namespace assay::cli {

namespace {

struct BottomArgs {
    std::string db, config, scorer, version, feature, tenant, prompt_version, model, since;
    int limit = 20;
    std::string format = "table";
    int excerpt = 80;
};

int run_bottom(const BottomArgs& a) {
    auto store = open_store_for_reading("bottom", a.db, a.config);
    if (!store) {
        return 2;
    }
    BottomQuery q;
    q.scorer = a.scorer;
    q.scorer_version = a.version;
    q.limit = a.limit;
    q.feature = a.feature;
    q.tenant = a.tenant;
    q.prompt_version = a.prompt_version;
    q.model = a.model;
    if (!a.since.empty()) {
        auto since = parse_since(a.since, now_ms());
        if (!since.ok()) {
            std::fprintf(stderr, "assay bottom: %s\n", since.status().message().c_str());
            return 2;
        }
        q.since_ms = *since;
    }
    auto rows = store->bottom(q);
    if (!rows.ok()) {
        std::fprintf(stderr, "assay bottom: %s\n", rows.status().message().c_str());
        return rows.status().code() == StatusCode::not_found ? 1 : 2;
    }
    if (a.format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : *rows) {
            auto t = parse_stored_trace(r.raw, r.ts_ms);
            nlohmann::json o;
            o["trace_id"] = r.trace_id;
            o["scorer"] = r.scorer;
            o["scorer_version"] = r.scorer_version;
            o["value"] = r.value;
            o["passed"] = r.passed ? nlohmann::json(*r.passed) : nlohmann::json(nullptr);
            o["label"] = r.label;
            o["explanation"] = r.explanation;
            o["timestamp"] = format_rfc3339_ms(r.ts_ms);
            o["feature"] = r.feature;
            o["tenant"] = r.tenant;
            o["prompt_version"] = r.prompt_version;
            o["model"] = r.model;
            o["input_excerpt"] =
                t.ok() ? excerpt(input_gist(*t), static_cast<size_t>(a.excerpt) * 4) : "";
            o["output_excerpt"] =
                t.ok() ? excerpt(t->output, static_cast<size_t>(a.excerpt) * 4) : "";
            out.push_back(o);
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    if (rows->empty()) {
        std::printf("no scored traces for scorer '%s' with these filters\n", a.scorer.c_str());
        return 0;
    }
    std::printf("bottom %zu for scorer %s (version %s), failures first:\n\n", rows->size(),
                a.scorer.c_str(), (*rows)[0].scorer_version.c_str());
    size_t n = static_cast<size_t>(a.excerpt);
    for (const auto& r : *rows) {
        auto t = parse_stored_trace(r.raw, r.ts_ms);
        std::printf("%s  value=%s  passed=%s  %s  [%s/%s/%s/%s]\n", r.trace_id.c_str(),
                    fmt_double(r.value, 3).c_str(),
                    r.passed ? (*r.passed ? "true" : "false") : "null", r.label.c_str(),
                    r.feature.c_str(), r.tenant.c_str(), r.prompt_version.c_str(), r.model.c_str());
        std::printf("    why:    %s\n", excerpt(r.explanation, n * 2).c_str());
        if (t.ok()) {
            std::printf("    input:  %s\n", excerpt(input_gist(*t), n).c_str());
            std::printf("    output: %s\n", excerpt(t->output, n).c_str());
        }
        std::printf("\n");
    }
    return 0;
}

}  // namespace

void add_bottom_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<BottomArgs>();
    CLI::App* c = app.add_subcommand("bottom", "List the lowest-scoring traces for a scorer");
    c->add_option("--db", a->db,
                  "SQLite store (default: ASSAY_DB, store.sqlite of --config, ./assay.db)");
    c->add_option("--config,-c", a->config, "Config file to take store.sqlite from");
    c->add_option("--scorer,-s", a->scorer, "Scorer name")->required();
    c->add_option("--scorer-version", a->version, "Scorer version (default: the most recent)");
    c->add_option("--limit,-n", a->limit, "How many rows")->check(CLI::Range(1, 100000));
    c->add_option("--feature", a->feature, "Only this metadata.feature");
    c->add_option("--tenant", a->tenant, "Only this metadata.tenant");
    c->add_option("--prompt-version", a->prompt_version, "Only this metadata.prompt_version");
    c->add_option("--model", a->model, "Only this metadata.model");
    c->add_option("--since", a->since, "Only traces newer than 7d, 12h, 30m or an RFC 3339 time");
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->add_option("--excerpt", a->excerpt, "Excerpt length in bytes")->check(CLI::Range(10, 10000));
    c->callback([a, &run] { run = [a] { return run_bottom(*a); }; });
}

}  // namespace assay::cli
