#include "cli/store_args.h"

#include <cstdio>
#include <filesystem>

#include "config/config.h"
#include "store/sqlite/new_file_build.h"
#include "store/store_location.h"

namespace assay::cli {

void report_no_store(const std::string& command, const std::string& path) {
    const NewFileBuild::Found found = NewFileBuild::private_files(path);
    if (!found.under_way.empty()) {
        std::fprintf(stderr,
                     "assay %s: no store at '%s' yet: assay score is building it as %s, and it "
                     "appears at '%s' when that run ends\n",
                     command.c_str(), path.c_str(), found.under_way.c_str(), path.c_str());
        return;
    }
    std::fprintf(stderr, "assay %s: no store at '%s' (run assay score first, or pass --db)\n",
                 command.c_str(), path.c_str());
    if (!found.left_behind.empty()) {
        std::fprintf(stderr,
                     "assay %s: %s was left by a run of assay score that did not finish (its "
                     "process no longer runs); it is not a complete store and can be deleted\n",
                     command.c_str(), found.left_behind.c_str());
    }
}

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
        report_no_store(command, opts.sqlite_path);
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
