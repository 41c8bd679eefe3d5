// `assay export`: bottom-scoring (or chosen) traces become gate dataset cases.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/review_args.h"
#include "core/time_format.h"
#include "review/dataset_export.h"

namespace assay::cli {

namespace {

struct ExportArgs {
    std::string db, scorer, version, feature, tenant, prompt_version, model, since, until, out,
        passed, labelled;
    std::vector<std::string> trace_ids;
    int64_t limit = 50;
};

int run_export(const ExportArgs& a) {
    auto store = open_review_store("export", a.db);
    if (!store) {
        return 2;
    }
    ReviewFilter f;
    f.scorer = a.scorer;
    f.scorer_version = a.version;
    f.feature = a.feature;
    f.tenant = a.tenant;
    f.prompt_version = a.prompt_version;
    f.model = a.model;
    for (const auto& [text, slot] :
         {std::pair{a.since, &f.since_ms}, std::pair{a.until, &f.until_ms}}) {
        if (!text.empty()) {
            auto t = parse_rfc3339_ms(text);
            if (!t.ok()) {
                std::fprintf(stderr, "assay export: %s\n", t.status().message().c_str());
                return 2;
            }
            *slot = *t;
        }
    }
    if (!a.passed.empty()) {
        f.passed = a.passed == "true";
    }
    if (!a.labelled.empty()) {
        f.labelled = a.labelled == "true";
    }
    auto cases = review::export_cases(*store, f, a.limit, a.trace_ids);
    if (!cases.ok()) {
        std::fprintf(stderr, "assay export: %s\n", cases.status().message().c_str());
        return cases.status().code() == StatusCode::not_found ? 1 : 2;
    }
    std::error_code ec;
    auto parent = std::filesystem::path(a.out).parent_path();
    if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
    }
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    if (!out) {
        std::fprintf(stderr, "assay export: cannot write '%s'\n", a.out.c_str());
        return 2;
    }
    for (const auto& c : *cases) {
        out << c.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    }
    out.close();
    if (!out) {
        std::fprintf(stderr, "assay export: writing '%s' failed\n", a.out.c_str());
        return 2;
    }
    size_t with_expect = 0;
    for (const auto& c : *cases) {
        with_expect += c.contains("expect") ? 1 : 0;
    }
    std::printf("wrote %zu cases (%zu with an expectation from a label) to %s\n", cases->size(),
                with_expect, a.out.c_str());
    return 0;
}

}  // namespace

void add_export_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<ExportArgs>();
    CLI::App* c = app.add_subcommand(
        "export", "Write bottom-scoring or chosen traces as gate dataset cases (JSONL)");
    c->add_option("--db", a->db,
                  "SQLite file or postgresql:// URI (default: ASSAY_DB, then ./assay.db)");
    c->add_option("--scorer,-s", a->scorer, "Scorer name")->required();
    c->add_option("--scorer-version", a->version, "Scorer version (default: the most recent)");
    c->add_option("--limit,-n", a->limit, "How many of the bottom traces")
        ->check(CLI::Range(1, 1000000));
    c->add_option("--trace", a->trace_ids,
                  "Export these trace ids instead of the bottom N (repeatable)");
    c->add_option("--feature", a->feature, "Only this metadata.feature");
    c->add_option("--tenant", a->tenant, "Only this metadata.tenant");
    c->add_option("--prompt-version", a->prompt_version, "Only this metadata.prompt_version");
    c->add_option("--model", a->model, "Only this metadata.model");
    c->add_option("--since", a->since, "Only traces at or after this RFC 3339 time");
    c->add_option("--until", a->until, "Only traces before this RFC 3339 time");
    c->add_option("--passed", a->passed, "Only passed (true) or failed (false) traces")
        ->check(CLI::IsMember({"true", "false"}));
    c->add_option("--labelled", a->labelled, "Only labelled (true) or unlabelled (false) traces")
        ->check(CLI::IsMember({"true", "false"}));
    c->add_option("--out,-o", a->out, "Output file, e.g. datasets/NAME/cases.jsonl")->required();
    c->callback([a, &run] { run = [a] { return run_export(*a); }; });
}

}  // namespace assay::cli
