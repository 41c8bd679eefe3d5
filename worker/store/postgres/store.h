#pragma once
// PostgresStore: the Store (store.h) on PostgreSQL 15 through libpq, for
// several workers on several machines sharing one database (README,
// PostgreSQL). Same tables and meaning as SqliteStore. Writes are batched:
// one transaction per WriteBatch; traces and scores are sent with COPY into
// session-local staging tables and upserted from there, the rest with
// multi-row INSERT statements. Every statement is parameterised (COPY data
// is data, never SQL).
//
// Implemented so far: register_scorers, write, bottom, trace, counts,
// sampler_counters. The judge methods return invalid_argument naming what is
// not yet done on PostgreSQL (README, PostgreSQL), so a judge scorer fails
// at start instead of misbehaving.
//
// One thread at a time per object (one connection); open one per thread.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/scorer_version_ids.h"
#include "store/store.h"

namespace assay::pg {
class PgConn;
}

namespace assay {

class PostgresStore final : public Store {
public:
    // Connects to options.sqlite_path (a postgresql:// URI) and migrates
    // the schema. invalid_argument when the URI carries a password (it
    // comes from PGPASSWORD or ~/.pgpass only); unavailable when the server
    // cannot be reached; every message shows the masked URI.
    static Result<std::unique_ptr<PostgresStore>> open(const StoreOptions& options);
    ~PostgresStore() override;

    Status register_scorers(const std::vector<ScorerVersionInfo>& versions) override;
    Status write(const WriteBatch& batch) override;
    Result<std::vector<BottomRow>> bottom(const BottomQuery& q) override;
    Result<StoredTrace> trace(const std::string& trace_id) override;
    Result<StoreCounts> counts() override;
    Result<std::vector<CounterDelta>> sampler_counters() override;
    // Not yet on PostgreSQL (store_judge_pending.cpp): invalid_argument.
    Result<std::vector<PendingJudgeTask>> claim_judge_tasks(
        const std::string& scorer, const std::string& scorer_version, int limit,
        const std::vector<std::string>& skip) override;
    Result<std::vector<PendingJudgeTask>> queued_judge_tasks(
        const std::string& scorer, const std::string& scorer_version) override;
    Status write_judge_outcome(const JudgeOutcome& outcome) override;
    Status record_llm_calls(const std::vector<JudgeCacheEntry>& cache,
                            const std::vector<JudgeSpend>& spend) override;
    Result<std::optional<JudgeCacheEntry>> judge_cache_get(
        const std::string& request_hash) override;
    Result<JudgeSpend> judge_spend(const std::string& judge, const std::string& day) override;
    Result<JudgeStatusReport> judge_status(const std::string& day, int recent_errors) override;
    Result<std::vector<BackfillCandidate>> backfill_candidates(const BackfillQuery& q) override;

    // The applied schema version (the highest row of schema_version).
    Result<int> schema_version();

private:
    struct VersionId {
        std::string scorer;
        std::string version;
        int64_t id = 0;
    };
    explicit PostgresStore(std::unique_ptr<pg::PgConn> conn);
    // Creates the session's COPY staging tables once per connection.
    Status ensure_staging();
    Status write_locked(const WriteBatch& batch);
    // The traces.id of every trace of the batch, by batch index (upserted).
    Result<std::vector<int64_t>> write_traces(const std::vector<Trace>& traces);
    Status write_scores(const WriteBatch& b, const std::vector<int64_t>& ids);
    // Upserts changed_hours for these traces (row id -> newest at_ms written).
    Status mark_changed_hours(const std::map<int64_t, int64_t>& newest);
    Status write_dead_letters(const std::vector<DeadLetter>& dead);
    Status write_counters(const std::vector<CounterDelta>& counters);
    Status write_judge_tasks(const WriteBatch& b, const std::vector<int64_t>& ids);
    Result<int64_t> version_id(const std::string& scorer, const std::string& version) const;
    // traces.id of a row that names a trace by batch_index or by trace_id
    // (looked up; not_found when unknown).
    Result<int64_t> trace_row_id(const std::string& trace_id, int32_t batch_index,
                                 const std::vector<int64_t>& ids);
    Status not_yet(const char* what) const;

    std::unique_ptr<pg::PgConn> m_conn;
    ScorerVersionIds m_version_ids;     // filled by register_scorers()
    bool m_staging = false;             // ensure_staging() ran on this connection
    uint64_t m_staging_generation = 0;  // ... at this PgConn::generation()
};

}  // namespace assay
