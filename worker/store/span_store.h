#pragma once
// SpanStore: durable holding area for OTLP spans whose trace is not complete
// yet (table otlp_spans, added by the "otlp spans" migration), plus the dead
// letters of rejected OTLP requests. The OTLP intake (ingest/otlp_intake.h)
// writes a request's spans here before it answers 200, reloads them after a
// restart, and erases a trace's spans once the trace is committed with its
// scores. Rows are opaque to the store: `span_json` is whatever the intake
// encodes (the spans of one trace that came in one request, as an OTLP JSON
// ExportTraceServiceRequest; `span_count` of them).
//
// Several workers may share the table (one PostgreSQL database, or one SQLite
// file): the spans of one trace may reach different workers. claim() decides,
// atomically across them, which worker builds a trace from the rows of every
// worker (table otlp_claims, one row per claimed trace with its lease);
// erase() ends the claim with the rows. stale_traces() finds the traces that
// no live worker completes (the worker that held the root died, or only
// children reached the others).
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
    // The row's key within its trace: the span id (16 lowercase hex digits)
    // for a row of one span; for several spans of the trace stored together,
    // a key of their ids (ingest/otlp/intake.h), the same for the same spans.
    std::string span_id;
    int64_t received_ms = 0;
    std::string span_json;
    int64_t span_count = 1;  // spans in span_json (rows written before migration 14: 1)
};

// What claim() decided for one trace.
enum class SpanClaimOutcome {
    claimed,  // the caller holds it until until_ms: build it, commit, erase()
    stored,   // already in the traces table: drop the caller's spans, erase()
    taken,    // another live claim holds it (or a live one of the caller's)
    busy,     // a span of it arrived within idle_ms (at any worker): wait
};

// One trace to claim: the caller's view of it.
struct SpanClaimAsk {
    std::string trace_key;
    int64_t local_spans = 0;  // spans of it the caller holds (0: none)
    bool expired = false;     // past max trace age: claim even if not idle
    // A claimant known to be gone (a process of this host that no longer
    // exists, judge_claimant.h): its live claim is taken over, not "taken".
    std::string dead_holder;
};

struct SpanClaim {
    SpanClaimOutcome outcome = SpanClaimOutcome::taken;
    int64_t stored_spans =
        0;               // spans of the trace in otlp_spans (sum of span_count), every worker's
    std::string holder;  // taken: the claimant holding it
    // Every row of the trace, ordered by received_ms: filled when claimed
    // with stored_spans > local_spans (other workers hold spans of it), and
    // when busy (the caller re-adds them to wait); empty otherwise.
    std::vector<PendingSpanRow> rows;
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
    // Claims each trace of `asks` for `claimant` (any stable id of the
    // calling worker) at now_ms, in one transaction atomic against every
    // other claim() on the store (whatever process runs it), in this order:
    // stored when trace_key is in the traces table; taken when otlp_claims
    // holds it with until_ms > now_ms (whoever holds it, unless it is the
    // ask's dead_holder; SpanClaim::holder names it); busy when a row of
    // it has received_ms > now_ms - idle_ms and the ask is not expired;
    // else claimed: the claim row is written (replacing a stale one) with
    // until_ms = now_ms + lease_ms. Returns one SpanClaim per ask, in order.
    // On error nothing is claimed. Leases compare the wall clocks of the
    // workers: they must agree to well within idle_ms.
    virtual Result<std::vector<SpanClaim>> claim(const std::vector<SpanClaimAsk>& asks,
                                                 const std::string& claimant, int64_t now_ms,
                                                 int64_t idle_ms, int64_t lease_ms) = 0;
    // Up to `limit` trace keys with a row received at or before
    // first_before_ms and no live claim at now_ms (none, or until_ms <=
    // now_ms), oldest first: traces that no live worker completes.
    virtual Result<std::vector<std::string>> stale_traces(int64_t first_before_ms, int64_t now_ms,
                                                          size_t limit) = 0;
    // Deletes every pending row of these traces and their claims, in one
    // transaction.
    virtual Status erase(const std::vector<std::string>& trace_keys) = 0;
    // Number of pending spans (the sum of the rows' span_count).
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
