#pragma once
// The PostgreSQL openers of the aggregate, alert, maintenance and span
// stores (aggregate_store.cpp, alert_store.cpp, maintenance_store.cpp,
// span_store.cpp in this folder). Callers use the backend-neutral open_*
// functions, which pick the backend from the location. Each object has its
// own connection (pg::connect_store: no password in the URI, schema
// migrated). Contracts as in the interfaces, with these differences, which
// are what several workers on one database need:
// - AggregateStore: the recompute of a day's buckets (its hours and the day
//   row) holds a transaction-level advisory lock on that day, and every row
//   is computed from the scores (replaced, never incremented): workers
//   refreshing at once wait for each other per day and write the same rows.
// - AlertStore: begin() takes a transaction-level advisory lock (the
//   PostgreSQL counterpart of SQLite's BEGIN IMMEDIATE), so one worker at a
//   time reads the open alerts and applies a rule's transitions; a partial
//   unique index (one firing alert per rule and group) backs it.
// - MaintenanceStore: erase() commits in batches of at most 1000 traces
//   (each batch whole: the traces with their scores, queue entries,
//   judgements and labels), so no transaction holds locks for long; an
//   interrupted erasure is finished by running it again. vacuum() runs a
//   plain VACUUM (no exclusive lock).
// - SpanStore: thread-safe (one mutex around the connection).

#include <memory>
#include <string>

#include "store/aggregate_store.h"
#include "store/alert_store.h"
#include "store/maintenance_store.h"
#include "store/span_store.h"

namespace assay {

Result<std::unique_ptr<AggregateStore>> open_postgres_aggregate_store(const std::string& uri);
Result<std::unique_ptr<AlertStore>> open_postgres_alert_store(const std::string& uri);
Result<std::unique_ptr<MaintenanceStore>> open_postgres_maintenance_store(const std::string& uri);
Result<std::unique_ptr<SpanStore>> open_postgres_span_store(const std::string& uri);

}  // namespace assay
