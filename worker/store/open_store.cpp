#include "store/sqlite/store.h"
#include "store/store.h"

namespace assay {

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
    if (options.sqlite_path.rfind("postgres://", 0) == 0 ||
        options.sqlite_path.rfind("postgresql://", 0) == 0) {
        return Status::invalid_argument(
            "store: PostgreSQL is not built into this assay yet; use a SQLite path");
    }
    auto s = SqliteStore::open(options);
    if (!s.ok()) {
        return s.status();
    }
    return std::unique_ptr<Store>(std::move(s.value()));
}

}  // namespace assay
