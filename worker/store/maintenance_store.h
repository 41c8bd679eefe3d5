#pragma once
// MaintenanceStore: retention (pruning raw trace text) and right-to-erasure
// (README "Monitoring", "Retention" and "Erasure"). On SQLite an erasure is
// one transaction (all of it or nothing); on PostgreSQL it commits in batches
// of at most 1000 traces, each whole (running it again finishes an
// interrupted one). Pruning commits in chunks, each whole. Errors: io_error
// (unavailable for a lost PostgreSQL connection) with the database's
// message; invalid_argument for an empty id. One thread at a time per object.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

struct PruneReport {
    int64_t traces_pruned = 0;  // raw replaced by a stub
    int64_t dead_letters_deleted = 0;
};

struct EraseReport {
    int64_t traces = 0, scores = 0, judge_queue = 0, judgements = 0, labels = 0, dead_letters = 0;
    int64_t aggregates = 0, alerts = 0;
    int64_t otlp_spans = 0;            // pending spans of incomplete OTLP traces
    std::vector<int64_t> trace_ts_ms;  // timestamps of erased traces (to recompute aggregates)
};

struct StoreSize {
    int64_t page_size = 0, page_count = 0, freelist_count = 0;
};

class MaintenanceStore {
public:
    virtual ~MaintenanceStore() = default;
    // Replaces the raw text of traces older than before_ms (by timestamp)
    // with a stub {"raw_pruned":true,"trace_id":..,"timestamp":..,
    // "pruned_at":..}; deletes dead letters received before before_ms.
    // Metadata columns, scores, labels, judgements and aggregates stay.
    // Idempotent; runs in transactions of at most 2000 traces.
    virtual Result<PruneReport> prune_raw(int64_t before_ms, int64_t now_ms) = 0;
    // Removes every trace whose user_id (field "user") or tenant (field
    // "tenant") equals id, with its scores, judge-queue entries, judgements
    // and labels; dead letters whose raw JSON's metadata names the id (or,
    // when the raw is not a JSON object with metadata, that contain the id
    // as a JSON string); for tenants also the tenant's aggregate rows and
    // alerts. Deleted cells are overwritten (secure_delete) and the WAL is
    // checkpointed; bytes can still linger in the unused space of pages that
    // SQLite rebuilt, until vacuum() rewrites the file (assay erase does).
    virtual Result<EraseReport> erase(const std::string& field, const std::string& id) = 0;
    virtual Result<StoreSize> size() = 0;
    // VACUUM, then a WAL checkpoint: rewrites the file to its minimal size
    // with no deleted bytes left in it. Blocks other writers meanwhile; time
    // and temporary disk space grow with the store.
    virtual Status vacuum() = 0;
};

// `location`: a SQLite file or a postgresql:// URI (picks the backend; on
// PostgreSQL an erasure commits in batches, postgres/monitor_stores.h).
Result<std::unique_ptr<MaintenanceStore>> open_maintenance_store(const std::string& location);

}  // namespace assay
