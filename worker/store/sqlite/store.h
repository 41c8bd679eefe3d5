#pragma once
// SqliteStore: the embedded default Store, one SQLite file in WAL mode.
// Prepared statements are compiled once at open. Writes are batched: one
// transaction per WriteBatch. One thread at a time per object (see store.h);
// other processes may read the file concurrently (WAL).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/scorer_version_ids.h"
#include "store/sqlite/wal_checkpointer.h"
#include "store/store.h"

struct sqlite3;

namespace assay {

class SqliteStore final : public Store {
public:
    // The WAL size at which a checkpoint is requested (run on a connection
    // and thread of its own, wal_checkpointer.h): about 64 MiB whatever the page size.
    static constexpr int64_t k_wal_checkpoint_bytes = WalCheckpointer::k_default_bytes;
    // Opens (creating if needed) and migrates the database at
    // options.sqlite_path. Tests pass a smaller wal_checkpoint_bytes.
    static Result<std::unique_ptr<SqliteStore>> open(
        const StoreOptions& options, int64_t wal_checkpoint_bytes = k_wal_checkpoint_bytes);
    ~SqliteStore() override;

    Status register_scorers(const std::vector<ScorerVersionInfo>& versions) override;
    Status write(const WriteBatch& batch) override;
    Result<std::vector<BottomRow>> bottom(const BottomQuery& q) override;
    Result<StoredTrace> trace(const std::string& trace_id) override;
    Result<StoreCounts> counts() override;
    Result<std::vector<CounterDelta>> sampler_counters() override;
    // LLM judges: implemented in store_judge.cpp.
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

    // The applied schema version (PRAGMA user_version).
    Result<int> schema_version();
    // WAL checkpoints run off the writer's commits so far (wal_checkpointer.h).
    int64_t background_checkpoints() const;

private:
    struct Statements;
    struct VersionId {
        std::string scorer;
        std::string version;
        int64_t id = 0;
    };
    SqliteStore(sqlite3* db, std::string path);
    Status exec(const char* sql);
    Status prepare_all();
    Status migrate();
    // Fills the schema_version table (versions 1..current; those above
    // `found`, applied by this open, with the time).
    Status record_schema_versions(int current, int found);
    Status write_locked(const WriteBatch& batch);
    // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; on any failure rolls back
    // and returns it.
    Status in_write_txn(const std::function<Status()>& body);
    // Stores nothing and sets `lost` when the claim is not this claimant's.
    Status write_judge_locked(const JudgeOutcome& outcome, std::string& lost);
    // The judge_cache inserts and judge_spend additions of a judge outcome or
    // of record_llm_calls, inside the caller's transaction.
    Status write_cache_and_spend_locked(const std::vector<JudgeCacheEntry>& cache,
                                        const std::vector<JudgeSpend>& spend);
    // Sets `lost` unless the task (trace row, version) is in judge_queue
    // claimed by m_claimant (store.h, write_judge_outcome), inside the
    // caller's transaction.
    Status check_claim_locked(int64_t trace, int64_t version, const JudgeOutcome& o,
                              std::string& lost);
    // Deletes reservations `ids` inside the caller's transaction.
    Status release_budget_locked(const std::vector<int64_t>& ids);
    Status error(const std::string& what) const;
    Result<int64_t> version_id(const std::string& scorer, const std::string& version) const;
    // The traces.id of a trace in this batch (by batch_index) or stored.
    Result<int64_t> trace_row_id(const std::string& trace_id, int32_t batch_index,
                                 const std::vector<int64_t>& ids);

    sqlite3* m_db;
    std::string m_path;
    std::unique_ptr<Statements> m_stmts;
    ScorerVersionIds m_version_ids;  // filled by register_scorers()
    std::string m_claimant;          // judge_queue.claimed_by of this connection
    int64_t m_judge_lease_ms = 300000;
    std::unique_ptr<WalCheckpointer> m_checkpointer;  // set by open()
};

}  // namespace assay
