#pragma once
// TraceAssembler: groups OTLP spans (ingest/otlp/mapper.h) by trace id, decides
// when each group is complete, picks its root span, and has it mapped into one
// Assay trace (ingest/otlp/trace_mapping.h).
//
// Completeness rule: a trace is returned by take_complete(now) only when
//   (1) it has a root span — a span with no parent, or whose parent is marked
//       remote in its flags, or a SERVER/CONSUMER span whose parent is not in
//       the trace (its parent lives in another service) — and
//   (2) that root has ended, and
//   (3) no span of the trace arrived during the last idle_ms (arrival time
//       is the now_ms given to add(), not the span's own timestamps).
// Never before. A child whose parent is missing (an INTERNAL or CLIENT span)
// is an orphan, not a root: its trace waits for the real root.
//
// Expiry rule (memory stays bounded): a trace whose first span arrived
// max_trace_age_ms ago or more is returned anyway, as incomplete
// (AssembledTrace::complete == false), with an "error" of type
// "incomplete_trace" naming why (no root, root not ended, spans still
// arriving), built from its best root candidate (the earliest-starting span
// whose parent is absent). Spans that arrive for a trace already returned
// (within the last remember_completed traces) are dropped and counted as
// late, so a retried export does not produce a second, partial trace.
//
// How a group of spans becomes one Assay trace (which attributes of which
// conventions mean what) is ingest/otlp/trace_mapping.h.
//
// Not thread-safe: one owner calls add/take_complete (or guard it with a
// mutex). Pure logic: no clock, no I/O; time is passed in.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "ingest/otlp/mapper.h"

namespace assay {

// Every field states its default; the worker maps them from its config.
struct AssemblerOptions {
    // Quiet time after a trace's last span before it is complete.
    int64_t idle_ms = 2000;
    // A trace whose first span arrived this long ago is returned, incomplete.
    int64_t max_trace_age_ms = 300000;
    // Further spans of a trace are dropped (counted in stats().overflow_spans).
    size_t max_spans_per_trace = 10000;
    // add() refuses a batch that would hold more traces / spans than these.
    size_t max_open_traces = 10000;
    size_t max_open_spans = 200000;
    // Bytes of the spans held (span_bytes(), an estimate of their decoded
    // size; worker.otlp_max_pending_bytes): add() refuses a batch that opens
    // a new trace past it, and any batch past 5/4 of it (spans of the traces
    // already open may still finish them).
    size_t max_open_bytes = 256u << 20;
    // Trace ids remembered after they are returned, to drop late spans.
    size_t remember_completed = 10000;
    // Entries in metadata.spans; the rest are counted in spans_omitted.
    size_t max_summary_spans = 64;
    // Retrieved documents copied into "context".
    size_t max_context_docs = 64;
    // Extra metadata keys copied from attributes; the rest are counted.
    size_t max_metadata_keys = 128;
    // Longer metadata strings (and JSON texts of arrays/objects) are cut.
    size_t max_value_bytes = 4096;
};

struct AssembledTrace {
    std::string trace_id;  // the OTLP trace id, 32 lowercase hex digits
    nlohmann::json value;  // one Assay trace as a JSON object (trace_from_json builds the Trace)
    // Set instead of `value` by take_complete_unmapped(): the trace's spans
    // and its root's index in them, for map_assembled() (empty otherwise).
    std::vector<OtlpSpan> spans;
    size_t root = 0;
    bool complete = true;  // false when returned by the expiry rule
    std::string reason;    // why incomplete; empty when complete
    size_t span_count = 0;
    size_t dropped_spans = 0;  // spans over max_spans_per_trace
};

// The bytes one span holds, estimated from its strings and attribute values
// (the resource's attributes, shared between spans, are not counted).
size_t span_bytes(const OtlpSpan& span);

struct AssemblerStats {
    size_t open_traces = 0;
    size_t open_spans = 0;
    size_t open_bytes = 0;
    uint64_t completed = 0;        // returned complete
    uint64_t expired = 0;          // returned incomplete
    uint64_t late_spans = 0;       // dropped: their trace was already returned
    uint64_t overflow_spans = 0;   // dropped: over max_spans_per_trace
    uint64_t refused_batches = 0;  // add() returned unavailable or limit_exceeded
};

class TraceAssembler {
public:
    explicit TraceAssembler(AssemblerOptions options = {});

    // Adds one request's spans, received at now_ms. A span whose span id is
    // already held for its trace replaces it (exporter retries). Returns OK;
    // or, with nothing added: unavailable when the batch would open more
    // than max_open_traces traces or hold more than max_open_spans spans
    // (or bytes, see max_open_bytes) given what is already held (answer 503
    // + Retry-After: it fits later),
    // limit_exceeded when the batch alone exceeds one of those limits
    // (answer 4xx: retrying cannot help). Spans over a trace's
    // max_spans_per_trace and late spans are dropped, counted in stats(),
    // and do not refresh the trace's idle timer.
    Status add(std::vector<OtlpSpan> spans, int64_t now_ms);

    // Removes and returns the traces that are complete at now_ms, then those
    // expired by max_trace_age_ms (see the rules above), in order of first
    // arrival. Returns an empty vector when none is.
    // Pinned traces (see pin()) are skipped, whatever their state.
    std::vector<AssembledTrace> take_complete(int64_t now_ms);
    // The same traces, unmapped: each with `spans` and `root` set and a null
    // `value`; map_assembled() maps them. Lets a caller that guards the
    // assembler with a mutex map outside it (the mapping is most of the
    // cost; adds need not wait for it).
    std::vector<AssembledTrace> take_complete_unmapped(int64_t now_ms);
    // Removes and returns every unpinned trace: those complete at now_ms as
    // take_complete() returns them, every other one as incomplete (with the
    // reason). The intake builds a trace from the stored spans of every
    // worker with it (ingest/otlp/intake.h).
    std::vector<AssembledTrace> take_all(int64_t now_ms);
    // Forgets that `trace_id` was returned, so add() takes its spans again
    // (the intake re-adds a trace that another worker still receives).
    void forget(const std::string& trace_id) { m_recent.erase(trace_id); }
    // True when spans of `trace_id` are held.
    bool holds(const std::string& trace_id) const { return m_traces.count(trace_id) != 0; }

    // pin() holds the open traces among `trace_ids` back from take_complete()
    // until a matching unpin(): the intake pins a request's traces while it
    // stores their spans, so a trace is never returned (and its stored spans
    // erased after commit) before all of its spans are stored. Pins count;
    // ids of traces not open are ignored by both.
    void pin(const std::vector<std::string>& trace_ids);
    void unpin(const std::vector<std::string>& trace_ids);

    // Every span still held, for persisting pending state; re-add() them
    // after a restart to resume.
    std::vector<OtlpSpan> pending_spans() const;

    // True when `trace_id` was returned by take_complete() recently (within
    // remember_completed traces): add() drops its spans as late.
    bool was_returned(const std::string& trace_id) const { return m_recent.count(trace_id) != 0; }

    size_t open_traces() const { return m_traces.size(); }
    size_t open_spans() const { return m_open_spans; }
    AssemblerStats stats() const;
    const AssemblerOptions& options() const { return m_options; }

private:
    struct OpenTrace {
        std::vector<OtlpSpan> spans;
        std::unordered_map<std::string, size_t> index;  // span id → position in spans
        int64_t first_arrival_ms = 0;
        int64_t last_arrival_ms = 0;
        uint64_t sequence = 0;  // order of first arrival
        size_t dropped = 0;
        size_t bytes = 0;  // span_bytes() of spans
        int pins = 0;      // pin() minus unpin(): returned only at 0
    };

    void remember(const std::string& trace_id);
    std::vector<AssembledTrace> take(int64_t now_ms, bool all, bool map);

    AssemblerOptions m_options;
    std::unordered_map<std::string, OpenTrace> m_traces;
    size_t m_open_spans = 0;
    size_t m_open_bytes = 0;
    uint64_t m_sequence = 0;
    std::deque<std::string> m_recent_order;
    std::unordered_set<std::string> m_recent;
    AssemblerStats m_stats;
};

// Maps a trace that take_complete_unmapped() returned: builds `value` from
// `spans` (trace_mapping.h, with `options`, the assembler's) and clears
// `spans`. Does nothing when `spans` is empty (already mapped). Pure: safe
// on several threads at once, each with its own trace.
void map_assembled(AssembledTrace& trace, const AssemblerOptions& options);

}  // namespace assay
