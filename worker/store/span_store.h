#pragma once
// SpanStore: durable holding area for OTLP spans whose trace is not complete
// yet (table otlp_spans, added by the "otlp spans" migration), plus the dead
// letters of rejected OTLP requests. The OTLP intake (ingest/otlp_intake.h)
// writes a request's spans here before it answers 200, reloads them after a
// restart, and erases a trace's spans once the trace is committed with its
// scores. Rows are opaque to the store: `span_json` is whatever the intake
// encodes (one span as an OTLP JSON ExportTraceServiceRequest).
//
// Every method returns a non-OK Status (io_error naming the operation and the
// database's message) on failure and changes nothing then (one transaction per
// call). Implementations are thread-safe: the HTTP threads and the worker's
// producer thread share one object. The store does not own any caller data.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

struct PendingSpanRow {
    std::string trace_key;  // OTLP trace id, 32 lowercase hex digits
    std::string span_id;    // OTLP span id, 16 lowercase hex digits
    int64_t received_ms = 0;
    std::string span_json;
};

class SpanStore {
public:
    virtual ~SpanStore() = default;

    // Upserts the rows (keyed by trace_key + span_id: an exporter's retry
    // replaces the earlier copy) in one transaction. Durable on return (the
    // transaction is committed; survives a kill -9 of the process).
    virtual Status put(const std::vector<PendingSpanRow>& rows) = 0;
    // Every pending row, ordered by received_ms (then insertion order).
    virtual Result<std::vector<PendingSpanRow>> load() = 0;
    // Deletes every pending row of these traces, in one transaction.
    virtual Status erase(const std::vector<std::string>& trace_keys) = 0;
    // Number of pending rows.
    virtual Result<int64_t> count() = 0;
    // True when `trace_id` is already in the traces table (scored before).
    virtual Result<bool> trace_stored(const std::string& trace_id) = 0;
    // Appends a dead letter (table dead_letters): `raw` as given (the caller
    // bounds it), `raw_bytes` the full size of what was received.
    virtual Status dead_letter(int64_t received_ms, const std::string& source,
                               const std::string& error, const std::string& raw,
                               int64_t raw_bytes) = 0;
};

// Opens a SpanStore with its own connection on the store at `location`: a
// SQLite file (WAL mode, synchronous NORMAL, busy timeout `busy_timeout_ms`;
// the file must already carry the otlp_spans table: open the main Store
// first, it migrates the schema; invalid_argument says so otherwise) or a
// postgresql:// URI (migrated on open; the timeout is unused).
Result<std::unique_ptr<SpanStore>> open_span_store(const std::string& location,
                                                   int busy_timeout_ms);

}  // namespace assay
