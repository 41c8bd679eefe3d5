// `assay report`: quality, cost and drift of a period vs the one before.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/monitor_args.h"
#include "monitor/duration.h"
#include "monitor/report.h"
#include "store/aggregate_store.h"

namespace assay::cli {

namespace {

struct ReportArgs {
    std::string db, config, since = "7d", by, format = "table", now;
    int top = 5;
};

int run_report(const ReportArgs& a) {
    auto path = resolve_db_path("report", a.db, a.config);
    auto now = resolve_now("report", a.now);
    if (!path || !now) {
        return 2;
    }
    auto period = parse_duration_ms(a.since);
    if (!period.ok()) {
        std::fprintf(stderr, "assay report: --since %s\n", period.status().message().c_str());
        return 2;
    }
    auto store = open_aggregate_store(*path);
    if (!store.ok()) {
        std::fprintf(stderr, "assay report: %s\n", store.status().message().c_str());
        return 2;
    }
    if (Status st = (*store)->refresh(); !st.ok()) {
        std::fprintf(stderr, "assay report: %s\n", st.message().c_str());
        return 2;
    }
    ReportOptions o;
    o.now_ms = *now;
    o.period_ms = *period;
    o.by = a.by;
    o.top = a.top;
    auto r = build_report(**store, o);
    if (!r.ok()) {
        std::fprintf(stderr, "assay report: %s\n", r.status().message().c_str());
        return 2;
    }
    std::cout << render_report(*r, a.format);
    return 0;
}

}  // namespace

void add_report_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<ReportArgs>();
    CLI::App* c = app.add_subcommand(
        "report",
        "Quality, cost and drift per scorer and group, with deltas vs the previous period");
    c->add_option(
        "--db", a->db,
        "SQLite file or postgresql:// URI (default: ASSAY_DB, the store of --config, ./assay.db)");
    c->add_option("--config,-c", a->config, "Config file to take store.sqlite from");
    c->add_option("--since", a->since,
                  "Period length: 7d (default), 24h, 2w, ...; compared with the period before");
    c->add_option("--by", a->by, "Group rows by")
        ->check(CLI::IsMember({"feature", "tenant", "prompt_version", "model"}));
    c->add_option("--format", a->format, "Output format")
        ->check(CLI::IsMember({"table", "json", "markdown"}));
    c->add_option("--now", a->now, "Evaluate as of this RFC 3339 time (default: now)");
    c->add_option("--top", a->top, "Rows in the worst/top lists")->check(CLI::Range(1, 1000));
    c->callback([a, &run] { run = [a] { return run_report(*a); }; });
}

}  // namespace assay::cli
