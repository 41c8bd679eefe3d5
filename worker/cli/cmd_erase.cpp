// `assay erase --user ID | --tenant ID`: right-to-erasure.
#include <cstdio>

#include "cli/commands.h"
#include "cli/monitor_args.h"
#include "store/aggregate_store.h"
#include "store/maintenance_store.h"

namespace assay::cli {

namespace {

struct EraseArgs {
    std::string db, config, user, tenant;
    bool no_vacuum = false;
};

int run_erase(const EraseArgs& a) {
    if (a.user.empty() == a.tenant.empty()) {
        std::fprintf(stderr, "assay erase: give exactly one of --user ID or --tenant ID\n");
        return 2;
    }
    auto path = resolve_db_path("erase", a.db, a.config);
    if (!path) {
        return 2;
    }
    auto store = open_maintenance_store(*path);
    if (!store.ok()) {
        std::fprintf(stderr, "assay erase: %s\n", store.status().message().c_str());
        return 2;
    }
    const std::string field = a.user.empty() ? "tenant" : "user";
    const std::string& id = a.user.empty() ? a.tenant : a.user;
    auto r = (*store)->erase(field, id);
    if (!r.ok()) {
        std::fprintf(stderr, "assay erase: %s\n", r.status().message().c_str());
        return 2;
    }
    // Aggregates of the hours those traces were in no longer count them.
    auto agg = open_aggregate_store(*path);
    if (!agg.ok()) {
        std::fprintf(stderr, "assay erase: %s\n", agg.status().message().c_str());
        return 2;
    }
    if (Status st = (*agg)->refresh_times(r->trace_ts_ms); !st.ok()) {
        std::fprintf(stderr, "assay erase: recomputing aggregates: %s\n", st.message().c_str());
        return 2;
    }
    // Deleted bytes can linger in rebuilt pages' unused space: rewrite the file.
    if (!a.no_vacuum) {
        if (Status st = (*store)->vacuum(); !st.ok()) {
            std::fprintf(
                stderr,
                "assay erase: the rows are erased, but VACUUM failed (run assay erase again, or "
                "VACUUM the file with the worker stopped): %s\n",
                st.message().c_str());
            return 2;
        }
    }
    std::printf(
        "erased %s: %lld traces, %lld score rows, %lld judge-queue entries, %lld judgements, %lld "
        "labels, "
        "%lld dead letters, %lld pending OTLP spans, %lld aggregate rows, %lld alerts\n",
        field.c_str(), static_cast<long long>(r->traces), static_cast<long long>(r->scores),
        static_cast<long long>(r->judge_queue), static_cast<long long>(r->judgements),
        static_cast<long long>(r->labels), static_cast<long long>(r->dead_letters),
        static_cast<long long>(r->otlp_spans), static_cast<long long>(r->aggregates),
        static_cast<long long>(r->alerts));
    return 0;
}

}  // namespace

void add_erase_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<EraseArgs>();
    CLI::App* c = app.add_subcommand(
        "erase", "Remove everything stored about one user or tenant (right to erasure)");
    c->add_option(
        "--db", a->db,
        "SQLite file or postgresql:// URI (default: ASSAY_DB, the store of --config, ./assay.db)");
    c->add_option("--config,-c", a->config, "Config file to take store.sqlite from");
    c->add_option("--user", a->user, "metadata.user_id to erase");
    c->add_option("--tenant", a->tenant, "metadata.tenant to erase");
    c->add_flag("--no-vacuum", a->no_vacuum,
                "Skip rewriting the file (faster on a large store; deleted bytes may then linger "
                "in free space)");
    c->callback([a, &run] { run = [a] { return run_erase(*a); }; });
}

}  // namespace assay::cli
