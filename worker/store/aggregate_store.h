#pragma once
// AggregateStore: the `aggregates` table (README "Monitoring"): per scorer
// version x feature x prompt_version x tenant x model, by hour and by day
// (of the trace's timestamp), count/mean/pass rate, seen vs sampled, judge
// tokens/cost/errors. Buckets are recomputed whole from scores and traces
// (and `judgements` when that table exists), so refreshing twice, or after
// a crash, never double-counts.
//
// Errors: io_error (unavailable for a lost PostgreSQL connection) with the database's message. A
// refresh writes in transactions of one hour bucket (each bucket and its day replaced whole), so
// the write lock is never held long and an interrupted refresh is redone, never double-counted. One
// thread at a time per object (open one per thread); other processes may write the store meanwhile
// (WAL).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace assay {

// Figures of one group over a window (sums of bucket rows).
struct GroupStats {
    std::string scorer;
    std::string scorer_version;
    std::vector<std::string> group;  // values of AggregateQuery::by, in order
    int64_t count = 0;               // scored
    double sum = 0, sum_sq = 0;
    int64_t passed = 0, failed = 0;
    int64_t seen = 0, in_scope = 0, sampled = 0, pending = 0, skipped = 0, errors = 0;
    int64_t judge_calls = 0, judge_input_tokens = 0, judge_output_tokens = 0, judge_errors = 0;
    double judge_cost_usd = 0;
    int64_t first_ms = 0, last_ms = 0;  // first and last bucket start with data

    double mean() const { return count > 0 ? sum / static_cast<double>(count) : 0.0; }
    // Sample variance (n-1); 0 when count < 2.
    double variance() const;
    // passed / (passed + failed), absent when no score had a pass/fail.
    std::optional<double> pass_rate() const;
    // Scored count scaled by in_scope / sampled (what full scoring would give).
    double estimated_scored() const;
};

struct AggregateQuery {
    int64_t from_ms = 0;          // window [from_ms, to_ms) of bucket starts; uses day
    int64_t to_ms = 0;            // buckets when both ends are whole UTC days, else hours
    std::vector<std::string> by;  // feature | tenant | prompt_version | model
    std::string scorer;           // "" = every scorer
    std::string scorer_version;   // "" = every version (summed per version)
};

// Judge calls from `judgements` in a window of call time (at_ms).
struct JudgeWindowStats {
    bool table_present = false;  // false before the judge module's migration
    int64_t calls = 0, errors = 0, input_tokens = 0, output_tokens = 0;
    double cost_usd = 0;
};

// The hours holding scored or skipped traces: [from_ms, to_ms) of hour buckets.
struct DataRange {
    int64_t from_ms = 0;  // start of the first hour with data
    int64_t to_ms = 0;    // end of the last hour with data
};

class AggregateStore {
public:
    virtual ~AggregateStore() = default;
    // Recomputes every hour bucket (and its day) holding a trace whose score
    // or judgement was written at or after since_ms. Idempotent.
    virtual Status refresh(int64_t since_ms) = 0;
    // Same, from the stored watermark (minus a 10-minute slack for batches
    // committed late); advances the watermark. The worker and every reader
    // command call this first.
    virtual Status refresh() = 0;
    // Recomputes the hour buckets of these trace timestamps (erasure).
    virtual Status refresh_times(const std::vector<int64_t>& ts_ms) = 0;
    virtual Result<std::vector<GroupStats>> query(const AggregateQuery& q) = 0;
    // Where the aggregates have data (after a refresh); nullopt when they are empty.
    virtual Result<std::optional<DataRange>> data_range() = 0;
    // judge "" = every judge.
    virtual Result<JudgeWindowStats> judge_window(const std::string& judge, int64_t from_ms,
                                                  int64_t to_ms) = 0;
};

// Opens the aggregates of the store at `location`: a SQLite file, or a
// postgresql:// URI (store_location.h) for the PostgreSQL backend
// (postgres/monitor_stores.h says what differs there).
Result<std::unique_ptr<AggregateStore>> open_aggregate_store(const std::string& location);

}  // namespace assay
