#pragma once
// The per-trace work shared by `assay score`, the worker and the gate: run
// every configured scorer's sampling decision and scorer on one trace, and
// append the resulting decision rows, counters and judge tasks to a batch.
// Pure with respect to its inputs; safe to call from several threads on
// different batches.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/trace_json.h"
#include "pipeline/run_summary.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay {

// A record as received: its text, to be parsed by the pipeline's scoring
// threads, or (when a source already built the trace on its way in, as OTLP
// does) the trace itself, which is not parsed again.
struct RawRecord {
    std::string text;
    std::optional<Trace> trace;  // set: `text` is unused
    std::string source;          // "file:x.jsonl", "stdin", "zmq", ...
    int64_t line = 0;            // 1-based line in a file; 0 otherwise
    bool oversized = false;
    uint64_t full_bytes = 0;
    int64_t received_ms = 0;
    std::string reject;  // when set, the record is dead-lettered with this reason unparsed
};

// Per-chunk accumulation of sampler counters, keyed (scorer index, day).
class CounterAccumulator {
public:
    // The per-scorer rows for the UTC day of `ts_ms` (created on first use).
    std::vector<CounterDelta>& day(int64_t ts_ms, const std::vector<ConfiguredScorer>& scorers);
    void flush_into(std::vector<CounterDelta>& out) const;

private:
    std::map<int64_t, std::vector<CounterDelta>> m_by_day;  // key: days since the epoch
};

// Runs all scorers on `trace` and appends one ScoreRow per scorer (and judge
// tasks for sampled judge scorers) to `batch`; tallies into `summary`. The
// caller appends `trace` to batch.traces right after (the rows point at
// that position through batch_index).
void evaluate_trace(const Trace& trace, const std::vector<ConfiguredScorer>& scorers, int64_t now,
                    WriteBatch& batch, CounterAccumulator& counters, RunSummary& summary);

// Parses and evaluates a chunk of raw records: good ones become traces and
// scores, bad ones dead letters with a message naming the line and problem.
// Record texts are moved into the traces (left as they were on rejection).
// `errors` (optional) gets one entry per record: empty when the record became
// a trace, else the rejection message.
void process_chunk(std::vector<RawRecord>& records, const std::vector<ConfiguredScorer>& scorers,
                   const ParseLimits& limits, WriteBatch& batch, RunSummary& summary,
                   std::vector<std::string>* errors = nullptr);

// Makes an empty summary with one tally per scorer, in config order.
RunSummary empty_summary(const std::vector<ConfiguredScorer>& scorers);

}  // namespace assay
