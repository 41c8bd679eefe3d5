// `assay trace`: one stored trace and every decision about it: why each
// scorer scored it, skipped it, or has not run yet.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/store_args.h"
#include "core/text.h"
#include "core/time_format.h"

namespace assay::cli {

namespace {

struct TraceArgs {
    std::string db, config, id, format = "table";
};

int run_trace(const TraceArgs& a) {
    auto store = open_store_for_reading("trace", a.db, a.config);
    if (!store) {
        return 2;
    }
    auto t = store->trace(a.id);
    if (!t.ok()) {
        std::fprintf(stderr, "assay trace: %s\n", t.status().message().c_str());
        return t.status().code() == StatusCode::not_found ? 1 : 2;
    }
    if (a.format == "json") {
        // ordered_json: the stored trace is shown with its keys in their original order.
        nlohmann::ordered_json o;
        o["trace"] = nlohmann::ordered_json::parse(t->raw, nullptr, false);
        o["received"] = format_rfc3339_ms(t->received_ms);
        o["decisions"] = nlohmann::ordered_json::array();
        for (const auto& r : t->rows) {
            nlohmann::ordered_json d{{"scorer", r.scorer},
                                     {"scorer_version", r.scorer_version},
                                     {"decision", to_string(r.decision)},
                                     {"reason", r.reason},
                                     {"at", format_rfc3339_ms(r.at_ms)}};
            if (r.score) {
                d["value"] = r.score->value;
                d["passed"] = r.score->passed ? nlohmann::ordered_json(*r.score->passed)
                                              : nlohmann::ordered_json(nullptr);
                d["label"] = r.score->label;
                d["explanation"] = r.score->explanation;
            }
            o["decisions"].push_back(d);
        }
        std::cout << o.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << "\n";
        return 0;
    }
    std::printf("trace %s  (timestamp %s, received %s)\n\n", a.id.c_str(),
                format_rfc3339_ms(t->ts_ms).c_str(), format_rfc3339_ms(t->received_ms).c_str());
    std::vector<std::vector<std::string>> rows = {
        {"scorer", "version", "decision", "value", "passed", "why"}};
    for (const auto& r : t->rows) {
        std::string why = r.score ? r.score->explanation : r.reason;
        rows.push_back({r.scorer, r.scorer_version, to_string(r.decision),
                        r.score ? fmt_double(r.score->value, 3) : "-",
                        r.score && r.score->passed ? (*r.score->passed ? "true" : "false") : "-",
                        excerpt(why, 120)});
    }
    print_table(rows);
    if (t->rows.empty()) {
        std::printf("\nno scorer has a decision for this trace yet\n");
    }
    return 0;
}

}  // namespace

void add_trace_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<TraceArgs>();
    CLI::App* c = app.add_subcommand(
        "trace", "Show one trace's decisions: every score, skip and pending judge");
    c->add_option("id", a->id, "Trace id")->required();
    c->add_option("--db", a->db,
                  "SQLite store (default: ASSAY_DB, store.sqlite of --config, ./assay.db)");
    c->add_option("--config,-c", a->config, "Config file to take store.sqlite from");
    c->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    c->callback([a, &run] { run = [a] { return run_trace(*a); }; });
}

}  // namespace assay::cli
