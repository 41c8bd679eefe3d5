#pragma once
// The SQLite openers of the aggregate, alert, maintenance and span stores.
// Callers use the backend-neutral open_* functions of aggregate_store.h,
// alert_store.h, maintenance_store.h and span_store.h, which pick the backend
// from the location; these take a SQLite file path. Contracts as there.

#include <memory>
#include <string>

#include "store/aggregate_store.h"
#include "store/alert_store.h"
#include "store/maintenance_store.h"
#include "store/span_store.h"

namespace assay {

Result<std::unique_ptr<AggregateStore>> open_sqlite_aggregate_store(const std::string& path);
Result<std::unique_ptr<AlertStore>> open_sqlite_alert_store(const std::string& path);
Result<std::unique_ptr<MaintenanceStore>> open_sqlite_maintenance_store(const std::string& path);
// Own connection (WAL, synchronous NORMAL, busy timeout `busy_timeout_ms`).
// The file must already carry the otlp_spans table (open the main Store
// first: it migrates the schema); invalid_argument says so otherwise.
Result<std::unique_ptr<SpanStore>> open_sqlite_span_store(const std::string& path,
                                                          int busy_timeout_ms);

}  // namespace assay
