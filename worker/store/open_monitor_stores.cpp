// The backend-neutral openers of the aggregate, alert, maintenance and span
// stores: a postgresql:// URI opens the PostgreSQL one, anything else the
// SQLite file (like open_store).
#include "store/postgres/monitor_stores.h"
#include "store/sqlite/monitor_stores.h"
#include "store/store_location.h"

namespace assay {

Result<std::unique_ptr<AggregateStore>> open_aggregate_store(const std::string& location) {
    return is_postgres_uri(location) ? open_postgres_aggregate_store(location)
                                     : open_sqlite_aggregate_store(location);
}

Result<std::unique_ptr<AlertStore>> open_alert_store(const std::string& location) {
    return is_postgres_uri(location) ? open_postgres_alert_store(location)
                                     : open_sqlite_alert_store(location);
}

Result<std::unique_ptr<MaintenanceStore>> open_maintenance_store(const std::string& location) {
    return is_postgres_uri(location) ? open_postgres_maintenance_store(location)
                                     : open_sqlite_maintenance_store(location);
}

Result<std::unique_ptr<SpanStore>> open_span_store(const std::string& location,
                                                   int busy_timeout_ms) {
    return is_postgres_uri(location) ? open_postgres_span_store(location)
                                     : open_sqlite_span_store(location, busy_timeout_ms);
}

}  // namespace assay
