// `assay scorers`: the registered scorer types and their config keys.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/scorer_registry.h"

namespace assay::cli {

namespace {

int run_scorers(const std::string& format) {
    auto types = ScorerRegistry::instance().all();
    if (format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto* t : types) {
            nlohmann::json o{{"type", t->type},
                             {"summary", t->summary},
                             {"impl_version", t->impl_version},
                             {"judge", t->is_judge()},
                             {"keys", nlohmann::json::array()}};
            for (const auto& k : t->keys) {
                o["keys"].push_back({{"key", k.key}, {"type", k.type}, {"meaning", k.meaning}});
            }
            out.push_back(o);
        }
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::printf(
        "Every scorer also takes: name, type, sample_rate (code scorers: 1; judges: required),\n"
        "filter (metadata conditions), always_when ({error, latency_ms_above, tags, "
        "finish_reason}).\n\n");
    for (const auto* t : types) {
        std::printf("%s (v%d)%s\n  %s\n", t->type.c_str(), t->impl_version,
                    t->is_judge() ? " [LLM judge]" : "", t->summary.c_str());
        std::vector<std::vector<std::string>> rows;
        for (const auto& k : t->keys) {
            rows.push_back({"   " + k.key, k.type, k.meaning});
        }
        if (!rows.empty()) {
            print_table(rows);
        }
        std::printf("\n");
    }
    return 0;
}

}  // namespace

void add_scorers_command(CLI::App& app, Runner& run) {
    auto format = std::make_shared<std::string>("table");
    CLI::App* c =
        app.add_subcommand("scorers", "List the registered scorer types and their config keys");
    c->add_option("--format", *format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->callback([format, &run] { run = [format] { return run_scorers(*format); }; });
}

}  // namespace assay::cli
