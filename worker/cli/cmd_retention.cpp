// `assay retention apply`: prune raw trace text older than retention.raw_days.
#include <cstdio>

#include "cli/commands.h"
#include "cli/monitor_args.h"
#include "config/config.h"
#include "store/maintenance_store.h"

namespace assay::cli {

namespace {

struct RetentionArgs {
    std::string db, config, now;
    int raw_days = -1;
    bool vacuum = false;
};

int run_retention(const RetentionArgs& a) {
    ConfigOverrides flags;
    if (!a.db.empty()) {
        flags.db = a.db;
    }
    auto cfg = load_config(a.config, flags, environ_map());
    if (!cfg.ok()) {
        std::fprintf(stderr, "assay retention apply: %s\n", cfg.status().message().c_str());
        return 2;
    }
    const int days = a.raw_days >= 0 ? a.raw_days : cfg->monitoring.retention.raw_days;
    if (days <= 0) {
        std::fprintf(stderr,
                     "assay retention apply: no retention configured: set retention.raw_days or "
                     "pass --raw-days\n");
        return 2;
    }
    auto path = resolve_db_path("retention apply", cfg->store.sqlite_path, "");
    auto now = resolve_now("retention apply", a.now);
    if (!path || !now) {
        return 2;
    }
    auto store = open_maintenance_store(*path);
    if (!store.ok()) {
        std::fprintf(stderr, "assay retention apply: %s\n", store.status().message().c_str());
        return 2;
    }
    auto r = (*store)->prune_raw(*now - static_cast<int64_t>(days) * 86400000, *now);
    if (!r.ok()) {
        std::fprintf(stderr, "assay retention apply: %s\n", r.status().message().c_str());
        return 2;
    }
    if (a.vacuum) {
        if (Status st = (*store)->vacuum(); !st.ok()) {
            std::fprintf(stderr, "assay retention apply: --vacuum: %s\n", st.message().c_str());
            return 2;
        }
    }
    auto size = (*store)->size();
    std::printf("pruned the raw text of %lld traces older than %d days; deleted %lld dead letters",
                static_cast<long long>(r->traces_pruned), days,
                static_cast<long long>(r->dead_letters_deleted));
    if (size.ok()) {
        std::printf("; store: %lld pages of %lld bytes, %lld free\n",
                    static_cast<long long>(size->page_count),
                    static_cast<long long>(size->page_size),
                    static_cast<long long>(size->freelist_count));
    } else {
        std::printf("\n");
    }
    return 0;
}

}  // namespace

void add_retention_command(CLI::App& app, Runner& run) {
    auto a = std::make_shared<RetentionArgs>();
    CLI::App* c = app.add_subcommand("retention", "Apply the retention policy to the store");
    c->require_subcommand(1);
    CLI::App* apply = c->add_subcommand(
        "apply", "Prune raw trace text older than retention.raw_days (scores stay)");
    apply->add_option("--config,-c", a->config, "Config file with the retention block");
    apply->add_option("--db", a->db,
                      "SQLite file or postgresql:// URI (overrides store.sqlite / store.postgres)");
    apply->add_option("--raw-days", a->raw_days, "Override retention.raw_days")
        ->check(CLI::Range(1, 36500));
    apply->add_option("--now", a->now, "Apply as of this RFC 3339 time (default: now)");
    apply->add_flag("--vacuum", a->vacuum,
                    "Then VACUUM the file to its minimal size (needs exclusive use)");
    apply->callback([a, &run] { run = [a] { return run_retention(*a); }; });
}

}  // namespace assay::cli
