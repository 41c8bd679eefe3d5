#pragma once
// OtlpIntake: the transport-independent core of the OTLP receiver, one span
// pipeline for its three doors (HTTP with JSON, HTTP with protobuf, gRPC).
// It takes export requests in either encoding, decodes them into the same
// OtlpSpan values, keeps their spans durably until their
// trace is complete, and hands complete traces, built once, to a RecordSink
// (ingest/otlp/source.h makes it the worker's OTLP TraceSource).
//
// Durability (no loss, no double scoring):
//   1. export_request() adds a request's spans to the TraceAssembler and
//      writes them to the SpanStore (otlp_spans) before it returns 200 (gRPC
//      OK). Requests that arrive together are committed together (group
//      commit: one transaction for the spans of every request waiting, each
//      answered only after that transaction is committed). Spans of a trace that was just scored
//      are "late": they are neither held nor stored (reported as rejected in partialSuccess).
//   2. pump() (on the pipeline's producer thread) takes the traces that are
//      complete (root ended + idle_ms without new spans; or expired after
//      max_trace_age_ms, then marked incomplete) and submits them to the
//      sink as Traces (built from the assembled JSON value, not re-parsed).
//      It takes them unmapped under the assembler's lock and maps them
//      outside it, on up to map_threads threads, in parts of 256 (each part
//      claimed, mapped and submitted before the next), so requests never
//      wait for the mapping and the pipeline scores one part while the next
//      is mapped. Claims and erases use the span store in short
//      transactions (64 and 128 traces), so a backlog never holds up the
//      requests that store their spans meanwhile.
//   3. committed() (writer thread), called once they are committed with their
//      scores, deletes their pending spans (a failed delete is retried by the
//      next pump() or erase_committed()). A crash before the delete re-assembles and re-scores the
//      trace after restart: traces and scores are upserts by trace id, so the store still holds it
//      once. An incomplete (expired) trace whose trace id is already stored is not submitted (it
//      would overwrite the complete one).
//   4. restore() reloads every pending span into the assembler after a restart
//      (with its original arrival time, so idle and max-wait timers resume).
//
// Several workers (one shared store; spans of a trace spread over them by a
// load balancer): before pump() builds a trace its assembler returned, it
// claims it in the store (SpanStore::claim, intake_claim.cpp). Already
// stored or claimed by a live worker: dropped here. A span of it reached a
// worker within idle_ms: put back to wait. Claimed: built from the stored
// spans of every worker (the local value when this worker holds them all),
// and its rows and claim are erased after its commit (step 3). A sweep
// (every otlp_sweep_interval_ms()) claims the traces whose first span is
// max_trace_age_ms old, that no live claim holds and this worker does not
// hold: their root reached a worker that died, or only children reached the
// workers still running. A claim lasts claim_lease_ms; a worker that dies
// holding it leaves the trace to the sweep of the others once it runs out.
//
// Thread safety: export_request(), export_json(), reject(), counters() and render_metrics()
// from any thread; pump() and erase_committed() from the pipeline's single
// producer thread; committed() from the pipeline's writer thread. Borrows the
// SpanStore, which must outlive it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "ingest/otlp/mapper.h"
#include "ingest/otlp/trace_assembler.h"
#include "ingest/trace_source.h"
#include "store/span_store.h"

namespace assay {

// How often pump() sweeps the span store for traces that no live worker
// completes: max(idle_ms, 1 s, max_trace_age_ms / 20), so 15 s with the
// default max wait of 5 minutes. A sweep reads every pending span (SQLite
// keeps no index by arrival time: every span would pay for it); the traces it
// finds are max_trace_age_ms old already. Pure.
int64_t otlp_sweep_interval_ms(const AssemblerOptions& assembler);

struct OtlpIntakeOptions {
    AssemblerOptions
        assembler;      // idle_ms = worker.otlp_idle_ms, max_trace_age_ms = worker.otlp_max_wait_ms
    OtlpLimits limits;  // max_body_bytes = worker.otlp_max_body_bytes
    // assembler.max_open_bytes = worker.otlp_max_pending_bytes
    // Bytes of a rejected body kept in dead_letters.raw (ingest.max_trace_bytes);
    // also the largest assembled trace passed to the pipeline unchanged.
    size_t max_trace_bytes = 4 * 1024 * 1024;
    // Traces handed to the pipeline and not yet committed; past this, exports
    // are answered 503 (the store is behind).
    size_t max_unscored_traces = 5000;
    // export_request() calls running at once; past this, 503.
    int max_concurrent_requests = 16;
    int retry_after_s = 1;  // Retry-After of 503 answers
    // A claim on a trace, from its build until its spans are erased after
    // the commit (worker.otlp_claim_lease_ms); another worker takes the trace
    // over only once it has run out. Longer than a commit ever takes.
    int64_t claim_lease_ms = 60000;
    // This worker's id in otlp_claims; "" picks a fresh "host:pid:nonce".
    std::string claimant;
    // Threads that map a batch of complete traces at once (the producer and
    // helpers it starts per batch); 0: the machine's cores, at most 4.
    size_t map_threads = 0;
};

// How an export request came: its door decides the encoding of the request
// and of the answer, and the dead letters' source ("otlp:http", "otlp:grpc").
enum class OtlpDoor { http_json, http_protobuf, grpc };

// An answer, in the request's encoding: status (HTTP; grpc_code is the
// gRPC status the same outcome maps to), body (an ExportTraceServiceResponse
// on 200, a google.rpc.Status {code, message} otherwise: JSON for
// http_json, protobuf else, with a RetryInfo detail when retry_after_s > 0)
// and, on 503, the Retry-After seconds.
struct OtlpReply {
    int status = 200;
    std::string body;
    int retry_after_s = 0;
    int grpc_code = 0;
    std::string message;  // the error's message; empty on 200
    const char* content_type = "application/json";
};

class OtlpIntake {
public:
    OtlpIntake(OtlpIntakeOptions options, SpanStore& spans);

    // Reloads the pending spans of the store into the assembler (call once,
    // before serving). Returns how many spans were reloaded, or the store's
    // error. Rows that no longer decode are logged and skipped.
    Result<size_t> restore();

    // Handles one (already decompressed) ExportTraceServiceRequest that came
    // by `door`, received at now_ms (wall-clock milliseconds). Blocks until
    // its spans are committed. Never throws; every outcome is an OtlpReply:
    // 200 (spans durably stored; partialSuccess counts late/overflow spans),
    // 400 (undecodable: dead-lettered with the reason), 413 (body or span
    // count over a limit: dead-lettered), 503 + Retry-After (too many
    // requests or traces in flight, or the span store failed).
    OtlpReply export_request(std::string_view body, OtlpDoor door, int64_t now_ms);
    OtlpReply export_json(std::string_view body, int64_t now_ms) {
        return export_request(body, OtlpDoor::http_json, now_ms);
    }

    // Counts (and dead-letters, with the body's first max_trace_bytes as raw
    // and raw_bytes = `claimed_bytes`) a request a door refused before
    // decoding it: 413 (too large), 415 (unsupported media type or encoding),
    // 431 (gRPC metadata over the limit; RESOURCE_EXHAUSTED like 413) or 400
    // (a body that does not decompress).
    OtlpReply reject(int status, const std::string& message, int64_t claimed_bytes, int64_t now_ms,
                     OtlpDoor door = OtlpDoor::http_json, std::string_view body = {});

    // Producer thread: retries the deletes that failed (erase_committed()),
    // then submits the traces complete at now_ms. Returns how many it
    // submitted, or the sink's error.
    Result<size_t> pump(RecordSink& sink, int64_t now_ms);
    // Producer thread: deletes the pending spans whose delete failed in
    // committed(), and those of traces the claims found already stored (also
    // call once after Pipeline::finish()). A store error is logged and the
    // deletes are retried next time.
    void erase_committed();
    // Writer thread: the outcomes of submitted traces, by the tags pump()
    // gave (TraceSource::committed); deletes their pending spans in one
    // transaction of the span store (a failure is logged, counted in
    // store_errors and left to erase_committed()).
    void committed(const std::vector<uint64_t>& tags, const std::vector<std::string>& errors);

    struct Counters {
        uint64_t requests_ok = 0, requests_400 = 0, requests_413 = 0, requests_415 = 0,
                 requests_431 = 0, requests_503 = 0;
        uint64_t requests_json = 0, requests_protobuf = 0, requests_grpc = 0;
        uint64_t commits = 0;  // span store transactions (group commits)
        uint64_t spans_received = 0, spans_late = 0, spans_overflow = 0;
        uint64_t traces_complete = 0, traces_incomplete = 0, traces_skipped_stored = 0;
        uint64_t traces_committed = 0, traces_dead_lettered = 0;
        uint64_t pending_traces = 0, pending_spans = 0, pending_bytes = 0, unscored_traces = 0;
        uint64_t store_errors = 0;
        // Claims (several workers): traces taken by another worker, put back
        // because a span of them reached a worker within idle_ms, built from
        // other workers' spans too, and claimed by the sweep.
        uint64_t claims_taken = 0, claims_busy = 0, traces_merged = 0, traces_swept = 0;
    };
    Counters counters() const;
    // The counters in the Prometheus text format (assay_otlp_* families).
    std::string render_metrics() const;

private:
    OtlpReply error_reply(int status, int grpc_code, const std::string& message, OtlpDoor door);
    void dead_letter(const std::string& error, std::string_view body, int64_t claimed_bytes,
                     int64_t now_ms, OtlpDoor door);
    // Group commit: puts `rows` with those of every other request waiting,
    // in one transaction; returns once they are committed (or failed).
    Status commit_rows(std::vector<PendingSpanRow> rows);
    // Producer thread (intake_claim.cpp): claims `ready` in the span store
    // and returns the traces this worker builds (see the header comment),
    // then those the sweep claimed at now_ms. On a store error the traces
    // are kept and claimed again at the next call.
    std::vector<AssembledTrace> claim_ready(std::vector<AssembledTrace> ready, int64_t now_ms);
    // One claim transaction for `ready` (a part of claim_ready's): appends
    // the traces to build to `out`; on a store error keeps them for the next
    // call.
    void claim_chunk(std::vector<AssembledTrace> ready, int64_t now_ms,
                     std::vector<AssembledTrace>& out);
    // Producer thread: maps `ready` (claimed), builds each trace and submits
    // it to `sink`; returns how many it submitted; the first submit error
    // goes to `result` (when it is OK).
    size_t submit_claimed(std::vector<AssembledTrace>& ready, RecordSink& sink, int64_t now_ms,
                          Status& result);
    void sweep(int64_t now_ms, std::vector<AssembledTrace>& out);
    // The one trace of `rows` (every stored span of it) as take_all() builds
    // it; false when no row decodes.
    bool build_from_rows(const std::vector<PendingSpanRow>& rows, int64_t now_ms,
                         AssembledTrace& out) const;
    // Adds `rows` to `into`, each arrival group with its own received_ms (the
    // idle and max-wait timers resume). Returns the spans added; rows that no
    // longer decode or do not fit are logged and skipped.
    static size_t add_rows(TraceAssembler& into, const std::vector<PendingSpanRow>& rows);

    OtlpIntakeOptions m_options;
    SpanStore& m_spans;

    std::mutex m_assembler_mu;  // guards m_assembler; held across add + store put
    TraceAssembler m_assembler;

    struct GroupEntry {
        std::vector<PendingSpanRow> rows;
        Status result;
        bool done = false;
    };
    std::mutex m_group_mu;  // guards the three below
    std::condition_variable m_group_cv;
    std::vector<GroupEntry*> m_group_queue;
    bool m_group_committing = false;

    std::atomic<int> m_active{0};
    std::atomic<size_t> m_unscored{0};

    // Producer thread only.
    uint64_t m_next_seq = 1;
    std::vector<std::string> m_to_erase;
    std::string m_claimant;
    size_t m_map_threads;
    std::vector<AssembledTrace> m_claim_retry;  // claim() failed: claimed at the next pump()
    int64_t m_next_sweep_ms = 0;

    mutable std::mutex m_mu;                                // guards the three below
    std::unordered_map<uint64_t, std::string> m_in_flight;  // seq → trace id (submitted)
    std::vector<std::string> m_erase_retry;                 // committed() failed to erase these
    Counters m_counters;
};

}  // namespace assay
