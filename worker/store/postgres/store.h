#pragma once
// PostgresStore: the Store (store.h) on PostgreSQL 15 through libpq, for
// several workers on several machines sharing one database (README,
// PostgreSQL). Same tables and meaning as SqliteStore. Writes are batched:
// one transaction per WriteBatch; traces and scores are sent with COPY into
// session-local staging tables and upserted from there, the rest with
// multi-row INSERT statements. Every statement is parameterised (COPY data
// is data, never SQL).
//
// The judge queue is shared by several workers: claims take rows FOR UPDATE
// SKIP LOCKED with a lease (store.h, claim_judge_tasks), outcomes are fenced
// on the claim (write_judge_outcome) and the daily budget is reserved under
// a per-(judge, day) advisory lock (reserve_judge_budget); store_judge.cpp
// and store_budget.cpp.
//
// Score rows have no foreign keys (schema.cpp, migration 11); the writer
// keeps their guarantees. A score row's trace is either written in the same
// transaction or locked FOR KEY SHARE before the row is written (lock_traces,
// the lock the key check took): an erasure (FOR UPDATE on the trace, then its
// scores, then the trace) waits for this transaction, or this one waits for
// it and finds the trace gone, and then writes nothing (not_found, as for a
// trace that was never stored). A score row's scorer version is one this
// object registered (register_scorers) before writing; scorer versions are
// never deleted.
//
// One thread at a time per object (one connection); open one per thread.

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/scorer_version_ids.h"
#include "store/store.h"

namespace assay::pg {
class PgConn;
}  // namespace assay::pg

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
    // LLM judges: store_judge.cpp.
    Result<std::vector<PendingJudgeTask>> claim_judge_tasks(
        const std::string& scorer, const std::string& scorer_version, int limit,
        const std::vector<std::string>& skip) override;
    Result<std::vector<PendingJudgeTask>> queued_judge_tasks(
        const std::string& scorer, const std::string& scorer_version) override;
    Result<std::vector<JudgeWrite>> write_judge_outcomes(
        const std::vector<JudgeOutcome>& outcomes) override;
    Status record_llm_calls(const std::vector<JudgeCacheEntry>& cache,
                            const std::vector<JudgeSpend>& spend) override;
    Result<std::optional<JudgeCacheEntry>> judge_cache_get(
        const std::string& request_hash) override;
    Result<JudgeSpend> judge_spend(const std::string& judge, const std::string& day) override;
    Result<JudgeStatusReport> judge_status(const std::string& day, int recent_errors) override;
    Result<std::vector<BackfillCandidate>> backfill_candidates(const BackfillQuery& q) override;
    // Budget reservations: store_budget.cpp.
    Result<BudgetReservation> reserve_judge_budget(const std::string& judge, const std::string& day,
                                                   double amount_usd, double budget_usd) override;
    Status release_judge_budget(const std::vector<int64_t>& ids) override;

    // The applied schema version (the highest row of schema_version).
    Result<int> schema_version();

private:
    struct VersionId {
        std::string scorer;
        std::string version;
        int64_t id = 0;
    };
    PostgresStore(std::unique_ptr<pg::PgConn> conn, const StoreOptions& options);
    // Creates the session's COPY staging tables once per connection.
    Status ensure_staging();
    Status write_locked(const WriteBatch& batch);
    // traces.id by trace_id, of the stored traces among `trace_ids` (an
    // unknown one is absent), each row locked FOR KEY SHARE until the
    // transaction ends, in id order. Inside the caller's transaction.
    using TraceIds = std::unordered_map<std::string, int64_t>;
    Result<TraceIds> lock_traces(std::vector<std::string> trace_ids);
    // The traces.id of every trace of the batch, by batch index (upserted);
    // `fresh` gets the ids of the rows this transaction inserted (not updated).
    Result<std::vector<int64_t>> write_traces(const std::vector<Trace>& traces,
                                              std::unordered_set<int64_t>& fresh);
    // A row names its trace by batch index (`ids`) or by trace_id, then one
    // of `locked` (lock_traces; not_found when absent). Score rows of a
    // trace in `fresh` cannot exist yet (its row is this transaction's,
    // unseen by others): they are copied into scores directly; the others
    // are upserted through the staging table.
    Status write_scores(const WriteBatch& b, const std::vector<int64_t>& ids,
                        const TraceIds& locked, const std::unordered_set<int64_t>& fresh = {});
    // Upserts changed_hours for these traces (row id -> newest at_ms written).
    Status mark_changed_hours(const std::map<int64_t, int64_t>& newest);
    Status write_dead_letters(const std::vector<DeadLetter>& dead);
    Status write_counters(const std::vector<CounterDelta>& counters);
    Status write_judge_tasks(const WriteBatch& b, const std::vector<int64_t>& ids,
                             const TraceIds& locked);
    Result<int64_t> version_id(const std::string& scorer, const std::string& version) const;
    // traces.id of a row that names a trace by batch_index (`ids`) or by
    // trace_id (one of `locked`; not_found naming it when absent).
    static Result<int64_t> trace_row_id(const std::string& trace_id, int32_t batch_index,
                                        const std::vector<int64_t>& ids, const TraceIds& locked);
    // Judge outcome parts, inside the caller's transaction, whose trace the
    // caller locked (lock_traces: `locked`).
    // Stores nothing and sets `lost` when the claim is not this claimant's.
    // The outcome's score row, if any, is appended to `scores` for the
    // caller to write (write_scores) once for the whole transaction.
    Status write_judge_locked(const JudgeOutcome& o, const TraceIds& locked, std::string& lost,
                              WriteBatch& scores);
    Status write_judgements(int64_t trace, int64_t version, const JudgeOutcome& o);
    Status write_cache_and_spend(const std::vector<JudgeCacheEntry>& cache,
                                 const std::vector<JudgeSpend>& spend);
    Status release_budget_locked(const std::vector<int64_t>& ids);

    std::unique_ptr<pg::PgConn> m_conn;
    ScorerVersionIds m_version_ids;     // filled by register_scorers()
    bool m_staging = false;             // ensure_staging() ran on this connection
    uint64_t m_staging_generation = 0;  // ... at this PgConn::generation()
    std::string m_claimant;             // judge_queue.claimed_by of this connection
    int64_t m_judge_lease_ms = 300000;
};

}  // namespace assay
