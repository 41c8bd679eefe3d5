#include "cli/review_args.h"

#include <cstdio>
#include <filesystem>

#include "config/config.h"
#include "store/store_location.h"

namespace assay::cli {

std::unique_ptr<ReviewStore> open_review_store(const std::string& command, const std::string& db) {
    const std::string path = store_path_setting(db, environ_map());
    if (Status st = sqlite_only(path, "assay " + command); !st.ok()) {
        std::fprintf(stderr, "assay %s: %s\n", command.c_str(), st.message().c_str());
        return nullptr;
    }
    if (!std::filesystem::exists(path)) {
        std::fprintf(stderr, "assay %s: no store at '%s' (run assay score first, or pass --db)\n",
                     command.c_str(), path.c_str());
        return nullptr;
    }
    auto s = open_sqlite_review_store(path);
    if (!s.ok()) {
        std::fprintf(stderr, "assay %s: %s\n", command.c_str(), s.status().message().c_str());
        return nullptr;
    }
    return std::move(s.value());
}

}  // namespace assay::cli
