#pragma once
// The trace store seam. SQLite (sqlite_store.h) is the embedded default; a
// PostgreSQL backend for several workers implements the same interface.
// Every method returns a Status/Result, never throws. A Store object is used
// by one thread at a time (the pipeline's writer, or a CLI command); open a
// second Store for concurrent readers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/score.h"
#include "core/status.h"
#include "core/trace.h"

namespace assay {

// One trace × scorer × scorer version: the decision and, when scored, the score.
// The trace is WriteBatch::traces[batch_index] when batch_index >= 0 (then
// trace_id may be left empty), else the stored trace `trace_id`.
struct ScoreRow {
    std::string trace_id;
    std::string scorer;
    std::string scorer_version;
    Decision decision = Decision::scored;
    std::optional<Score> score;  // set iff decision == scored
    std::string reason;          // why it was not scored (or why it was forced in)
    int64_t at_ms = 0;
    int32_t batch_index = -1;    // position of the trace in WriteBatch::traces, if there
};

struct DeadLetter {
    int64_t received_ms = 0;
    std::string source;   // "file:traces.jsonl", "stdin", ...
    int64_t line = 0;     // 0 when not from a file
    std::string error;    // names the problem
    std::string raw;      // as received (cut at the size limit; see raw_bytes)
    uint64_t raw_bytes = 0;
};

// Added to sampler_counters(scorer, day): how many traces a scorer saw, how
// many were in its scope, sampled by rate, and forced in by always_when.
struct CounterDelta {
    std::string scorer;
    std::string day;  // YYYY-MM-DD (UTC) of the trace's timestamp
    int64_t seen = 0;
    int64_t in_scope = 0;
    int64_t sampled = 0;
    int64_t forced = 0;
};

// A sampled trace waiting for an LLM judge.
struct JudgeTask {
    std::string trace_id;
    std::string scorer;
    std::string scorer_version;
    int64_t enqueued_ms = 0;
    int32_t batch_index = -1;    // position of the trace in WriteBatch::traces, if there
};

struct ScorerVersionInfo {
    std::string scorer;
    std::string version;
    std::string type;
    std::string config_json;
};

// Everything one batch writes. Stored atomically: all of it or none.
struct WriteBatch {
    std::vector<Trace> traces;
    std::vector<ScoreRow> scores;
    std::vector<DeadLetter> dead_letters;
    std::vector<CounterDelta> counters;
    std::vector<JudgeTask> judge_tasks;
    bool empty() const {
        return traces.empty() && scores.empty() && dead_letters.empty() && counters.empty() &&
               judge_tasks.empty();
    }
};

struct BottomQuery {
    std::string scorer;
    std::string scorer_version;  // empty: the version most recently registered
    int limit = 20;
    std::string feature, tenant, prompt_version, model;
    std::optional<int64_t> since_ms;
};

struct BottomRow {
    std::string trace_id;
    std::string scorer;
    std::string scorer_version;
    double value = 0;
    std::optional<bool> passed;
    std::string label;
    std::string explanation;
    int64_t ts_ms = 0;
    std::string feature, tenant, prompt_version, model;
    std::string raw;  // the trace JSON, for excerpts
};

struct StoredTrace {
    std::string raw;
    int64_t ts_ms = 0;
    int64_t received_ms = 0;
    std::vector<ScoreRow> rows;  // every decision, all versions
};

struct StoreCounts {
    int64_t traces = 0;
    int64_t scores = 0;        // rows with decision = scored
    int64_t decisions = 0;     // all rows in `scores`
    int64_t dead_letters = 0;
    int64_t judge_pending = 0;
};

class Store {
public:
    virtual ~Store() = default;

    // Records the scorer versions of this configuration (idempotent). Must
    // be called before write() stores rows for them: a row for a version
    // this Store object has not registered fails the batch.
    virtual Status register_scorers(const std::vector<ScorerVersionInfo>& versions) = 0;
    // Writes the batch in one transaction. Score rows and judge tasks may
    // refer to traces in the batch or already stored (not_found otherwise).
    // Traces and score rows are upserts
    // keyed by trace_id and (trace_id, scorer, scorer_version): writing the
    // same batch twice leaves the store as if written once (counters aside).
    // On failure nothing of the batch is stored.
    virtual Status write(const WriteBatch& batch) = 0;

    virtual Result<std::vector<BottomRow>> bottom(const BottomQuery& q) = 0;
    // not_found when no trace has this id.
    virtual Result<StoredTrace> trace(const std::string& trace_id) = 0;
    virtual Result<StoreCounts> counts() = 0;
    virtual Result<std::vector<CounterDelta>> sampler_counters() = 0;
};

struct StoreOptions {
    std::string sqlite_path = "assay.db";  // store.sqlite / --db / ASSAY_DB
    int busy_timeout_ms = 5000;            // store.busy_timeout_ms
};

// Opens the configured backend, creating and migrating the schema as needed.
// io_error names the path when it cannot be opened.
Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace assay
