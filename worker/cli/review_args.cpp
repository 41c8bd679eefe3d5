#include "cli/review_args.h"

#include <cstdio>
#include <filesystem>

#include "cli/store_args.h"
#include "config/config.h"
#include "store/store_location.h"

namespace assay::cli {

std::unique_ptr<ReviewStore> open_review_store(const std::string& command, const std::string& db) {
    const std::string location = store_path_setting(db, environ_map());
    if (!is_postgres_uri(location) && !std::filesystem::exists(location)) {
        report_no_store(command, location);
        return nullptr;
    }
    // Failures name the location masked (a PostgreSQL URI's password).
    auto s = assay::open_review_store(location);
    if (!s.ok()) {
        std::fprintf(stderr, "assay %s: %s\n", command.c_str(), s.status().message().c_str());
        return nullptr;
    }
    return std::move(s.value());
}

}  // namespace assay::cli
