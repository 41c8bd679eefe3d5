#include "store/postgres/review_store.h"
#include "store/postgres/store.h"
#include "store/review_store.h"
#include "store/sqlite/store.h"
#include "store/store.h"
#include "store/store_location.h"

namespace assay {

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
    if (is_postgres_uri(options.sqlite_path)) {
        auto p = PostgresStore::open(options);
        if (!p.ok()) {
            return p.status();
        }
        return std::unique_ptr<Store>(std::move(p.value()));
    }
    auto s = SqliteStore::open(options);
    if (!s.ok()) {
        return s.status();
    }
    return std::unique_ptr<Store>(std::move(s.value()));
}

Result<std::unique_ptr<ReviewStore>> open_review_store(const std::string& location) {
    if (is_postgres_uri(location)) {
        auto p = PostgresReviewStore::open(location);
        if (!p.ok()) {
            return p.status();
        }
        return std::unique_ptr<ReviewStore>(std::move(p.value()));
    }
    return open_sqlite_review_store(location);
}

}  // namespace assay
