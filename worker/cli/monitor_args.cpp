#include "cli/monitor_args.h"

#include <cstdio>
#include <filesystem>

#include "cli/store_args.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "store/store_location.h"

namespace assay::cli {

std::optional<std::string> resolve_db_path(const std::string& command, const std::string& db,
                                           const std::string& config) {
    auto env = environ_map();
    std::string path = "assay.db";
    if (!db.empty()) {
        path = db;
    } else if (env.count("ASSAY_DB")) {
        path = env["ASSAY_DB"];
    } else if (!config.empty()) {
        auto cfg = load_config(config, {}, env);
        if (!cfg.ok()) {
            std::fprintf(stderr, "assay %s: %s\n", command.c_str(), cfg.status().message().c_str());
            return std::nullopt;
        }
        path = cfg->store.sqlite_path;
    }
    if (is_postgres_uri(path)) {
        return path;  // opening connects (and says so when the server is not there)
    }
    if (!std::filesystem::exists(path)) {
        report_no_store(command, path);
        return std::nullopt;
    }
    return path;
}

std::optional<int64_t> resolve_now(const std::string& command, const std::string& now) {
    if (now.empty()) {
        return now_ms();
    }
    auto t = parse_rfc3339_ms(now);
    if (!t.ok()) {
        std::fprintf(stderr,
                     "assay %s: --now '%s': expected an RFC 3339 time like 2026-11-22T10:00:00Z\n",
                     command.c_str(), now.c_str());
        return std::nullopt;
    }
    return *t;
}

}  // namespace assay::cli
