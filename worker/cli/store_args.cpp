#include "cli/store_args.h"

#include <cstdio>
#include <filesystem>

#include "config/config.h"
#include "store/store_location.h"

namespace assay::cli {

std::unique_ptr<Store> open_store_for_reading(const std::string& command, const std::string& db,
                                              const std::string& config) {
    StoreOptions opts;
    auto env = environ_map();
    if (!db.empty()) {
        opts.sqlite_path = db;
    } else if (env.count("ASSAY_DB")) {
        opts.sqlite_path = env["ASSAY_DB"];
    } else if (!config.empty()) {
        auto cfg = load_config(config, {}, env);
        if (!cfg.ok()) {
            std::fprintf(stderr, "assay %s: %s\n", command.c_str(), cfg.status().message().c_str());
            return nullptr;
        }
        opts = cfg->store;
    }
    // A PostgreSQL store is never "missing": open_store says whether it answers.
    if (!is_postgres_uri(opts.sqlite_path) && !std::filesystem::exists(opts.sqlite_path)) {
        std::fprintf(stderr, "assay %s: no store at '%s' (run assay score first, or pass --db)\n",
                     command.c_str(), opts.sqlite_path.c_str());
        return nullptr;
    }
    auto s = open_store(opts);
    if (!s.ok()) {
        std::fprintf(stderr, "assay %s: %s\n", command.c_str(), s.status().message().c_str());
        return nullptr;
    }
    return std::move(s.value());
}

}  // namespace assay::cli
