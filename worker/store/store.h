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
    int32_t batch_index = -1;  // position of the trace in WriteBatch::traces, if there
};

struct DeadLetter {
    int64_t received_ms = 0;
    std::string source;  // "file:traces.jsonl", "stdin", ...
    int64_t line = 0;    // 0 when not from a file
    std::string error;   // names the problem
    std::string raw;     // as received (cut at the size limit; see raw_bytes)
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
    int32_t batch_index = -1;  // position of the trace in WriteBatch::traces, if there
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
    int64_t scores = 0;     // rows with decision = scored
    int64_t decisions = 0;  // all rows in `scores`
    int64_t dead_letters = 0;
    int64_t judge_pending = 0;
};

// --- LLM judges (judge/judge_stage.h) --------------------------------------

// A judge_queue entry with its stored trace, as the judge stage reads it.
struct PendingJudgeTask {
    std::string trace_id;
    std::string scorer;
    std::string scorer_version;
    std::string raw;  // the stored trace JSON
    int64_t enqueued_ms = 0;
    int32_t attempts = 0;  // times the stage took it and left it pending
};

// One judge call result (a row of `judgements`). Exactly one of: a score
// (error_type empty) or an error (error_type set, score nullopt).
struct JudgementRecord {
    std::string judge;
    std::string model;
    std::string rubric;
    std::string rubric_version;
    std::string rubric_hash;
    std::optional<double> score;
    std::optional<bool> passed;
    std::string choice;
    std::string reasoning;
    // Every billed attempt of this call together (a truncated or unparsable
    // reply, a retry, the answer).
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    double cost_usd = 0.0;
    double latency_ms = 0.0;
    int32_t attempts = 0;
    int64_t reasoning_tokens = 0;     // part of output_tokens
    int64_t cached_input_tokens = 0;  // part of input_tokens
    bool cached = false;
    std::string error_type;  // e.g. "server_error", "parse_error"; empty on success
    std::string error_message;
    int64_t at_ms = 0;
};

// Added to judge_spend(judge, day): what a judge cost on one UTC day.
struct JudgeSpend {
    std::string judge;
    std::string day;    // YYYY-MM-DD (UTC) of the call
    int64_t calls = 0;  // HTTP attempts made
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    double cost_usd = 0.0;
    int64_t cache_hits = 0;           // answers taken from judge_cache (no call)
    int64_t reasoning_tokens = 0;     // part of output_tokens
    int64_t cached_input_tokens = 0;  // part of input_tokens
};

// A judge_cache row: the reply a judge gave to one exact request.
struct JudgeCacheEntry {
    std::string request_hash;  // SHA-256 hex (judge_stage.h, judge_cache_key)
    std::string judge;
    std::string model;
    std::string reply;
    int64_t input_tokens = 0;
    int64_t output_tokens = 0;
    int64_t at_ms = 0;
};

// Everything the judge stage writes for one task, stored atomically.
struct JudgeOutcome {
    std::string trace_id;
    std::string scorer;
    std::string scorer_version;
    // The final decision (scored, failed, skipped_budget or
    // skipped_missing_input): upserted into `scores` and the task leaves
    // judge_queue. nullopt: the task stays pending (attempts + 1), e.g.
    // when a judge is paused.
    std::optional<ScoreRow> score;
    std::vector<JudgementRecord> judgements;
    std::vector<JudgeCacheEntry> cache;  // inserted (an existing hash is kept)
    std::vector<JudgeSpend> spend;       // added
    // Budget reservations (reserve_judge_budget) this outcome settles: deleted
    // in the same transaction that adds `spend`, so the estimate is replaced by
    // the actual cost at once.
    std::vector<int64_t> settle;
};

// What write_judge_outcome did: stored, or nothing because the task's claim
// is no longer this claimant's (lease_lost says why, naming the task and
// who holds it now).
struct JudgeWrite {
    bool stored = true;
    std::string lease_lost;
};

// What reserve_judge_budget decided, with the numbers it decided on.
struct BudgetReservation {
    bool granted = false;
    int64_t id = 0;       // the reservation, when granted
    double spent = 0;     // judge_spend.cost_usd of (judge, day)
    double reserved = 0;  // live reservations of (judge, day), all workers, before this one
};

struct JudgeQueueDepth {
    std::string scorer;
    std::string scorer_version;
    int64_t pending = 0;
    int64_t oldest_enqueued_ms = 0;
};

struct JudgeErrorRow {
    std::string trace_id;
    std::string scorer;
    std::string judge;
    std::string error_type;
    std::string error_message;
    int64_t at_ms = 0;
};

struct JudgeStatusReport {
    std::vector<JudgeQueueDepth> queue;        // per scorer version with pending work
    std::vector<JudgeSpend> spend;             // per judge, the day asked for
    std::vector<JudgeErrorRow> recent_errors;  // newest first
    // The newest judgement of each judge (error_type empty when it scored).
    std::vector<JudgeErrorRow> last_by_judge;
};

// Stored traces a backfill may judge: no decision yet for this scorer
// version, or one that may change (skipped_budget, failed, sampled_out,
// filtered_out). Already scored, pending or skipped_missing_input traces are
// left out (deduplicated).
struct BackfillQuery {
    std::string scorer;
    std::string scorer_version;
    std::optional<int64_t> since_ms;  // traces.ts_ms >= since
    std::string feature;              // empty: any
    int64_t limit = 0;                // 0: no limit
};

struct BackfillCandidate {
    std::string trace_id;
    std::string raw;
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

    // --- LLM judges. Versions must be registered (register_scorers) first.
    // Claims up to `limit` queued tasks of one scorer version and returns
    // them with their traces, oldest first. In one transaction (SQLite:
    // BEGIN IMMEDIATE; PostgreSQL: the rows are taken FOR UPDATE SKIP
    // LOCKED, so concurrent claimers never wait on or share a row) it
    // takes tasks that are unclaimed, claimed by this connection's claimant
    // (StoreOptions::judge_claimant), whose claim expired (claimed_until_ms <
    // now), or whose claimant is a process of this host that no longer exists
    // (kill(pid, 0) fails with ESRCH), and sets claimed_by = this claimant and
    // claimed_until_ms = now + judge_lease_ms. It also renews the lease of
    // every task this claimant holds for the version (its in-flight tasks),
    // so they stay its while the stage keeps polling, and the expiry of its
    // budget reservations (reserve_judge_budget). Tasks whose trace id is
    // in `skip` (the caller's in-flight set) are neither returned nor
    // re-claimed. A task claimed by a live claimant is never returned to
    // another, so several workers sharing one file judge each task once.
    // write_judge_outcome deletes the task or, when it stays pending, clears
    // the claim.
    virtual Result<std::vector<PendingJudgeTask>> claim_judge_tasks(
        const std::string& scorer, const std::string& scorer_version, int limit,
        const std::vector<std::string>& skip) = 0;
    // Every queued task of one scorer version with its trace, oldest first
    // (the order claim_judge_tasks takes them), claimed or not, without
    // claiming anything: what a judge stage for that version would drain
    // (`assay backfill` prices it). invalid_argument when the version was
    // not registered (register_scorers).
    virtual Result<std::vector<PendingJudgeTask>> queued_judge_tasks(
        const std::string& scorer, const std::string& scorer_version) = 0;
    // Writes one task's outcome in one transaction (see JudgeOutcome); on
    // failure nothing of it is stored. not_found when the trace is unknown.
    // Fenced on the claim: it writes only while the task is still in
    // judge_queue claimed by this connection's claimant (an expired lease
    // that nobody took over still counts as held). Otherwise -- the lease
    // ran out and another worker claimed the task, or finished it, or left
    // it pending -- it stores nothing (not its judgements, score, cache,
    // spend or settlements) and returns stored = false with lease_lost
    // saying why: the caller drops the result (judge_stage.h). The check and the write are
    // one transaction, serialised against claims (SQLite: BEGIN IMMEDIATE;
    // PostgreSQL: the queue row is locked FOR UPDATE).
    // (write_judge_outcomes with one outcome.)
    Result<JudgeWrite> write_judge_outcome(const JudgeOutcome& outcome) {
        auto w = write_judge_outcomes({outcome});
        if (!w.ok()) {
            return w.status();
        }
        return std::move((*w)[0]);
    }
    // write_judge_outcome for several tasks in ONE transaction (the judge
    // stage writes the outcomes ready at one poll together). Each outcome is
    // fenced on its own claim exactly as write_judge_outcome: one whose claim
    // is gone stores nothing and is reported stored = false with lease_lost,
    // the others are stored. Returns one JudgeWrite per outcome, in order.
    // On failure (an unknown trace, a bad row, the store unavailable) nothing
    // of the batch is stored. An empty batch does nothing.
    virtual Result<std::vector<JudgeWrite>> write_judge_outcomes(
        const std::vector<JudgeOutcome>& outcomes) = 0;
    // Stores LLM calls made outside a judge task (generate mode's subject,
    // `assay gate --prompt`) in one transaction: inserts `cache` entries (an
    // existing hash is kept) and adds `spend` to the (judge, day) rows; on
    // failure nothing of it is stored.
    virtual Status record_llm_calls(const std::vector<JudgeCacheEntry>& cache,
                                    const std::vector<JudgeSpend>& spend) = 0;
    // The daily judge budget across every worker sharing the store. In one
    // transaction serialised per (judge, day): drops reservations that
    // expired (expires_ms < now), then grants a reservation of `amount_usd`
    // -- stored with this claimant and expires_ms = now + judge_lease_ms --
    // iff spent + live reservations + amount_usd <= budget_usd; otherwise
    // stores nothing and returns granted = false. Either way `spent` and
    // `reserved` say what it decided on. A reservation is settled by the
    // outcome that adds the actual spend (JudgeOutcome::settle) or by
    // release_judge_budget; claim_judge_tasks renews the expiry of this
    // claimant's reservations with its claims, so a dead worker's lapse.
    virtual Result<BudgetReservation> reserve_judge_budget(const std::string& judge,
                                                           const std::string& day,
                                                           double amount_usd,
                                                           double budget_usd) = 0;
    // Deletes reservations (unknown ids are ignored), e.g. when the calls
    // were not made or their spend was recorded by record_llm_calls.
    virtual Status release_judge_budget(const std::vector<int64_t>& ids) = 0;
    // The cached reply for `request_hash`, or nullopt.
    virtual Result<std::optional<JudgeCacheEntry>> judge_cache_get(
        const std::string& request_hash) = 0;
    // What `judge` has spent on UTC `day` (zeros when nothing).
    virtual Result<JudgeSpend> judge_spend(const std::string& judge, const std::string& day) = 0;
    // Queue depth per scorer version, spend per judge on `day`, and the
    // `recent_errors` newest judge errors.
    virtual Result<JudgeStatusReport> judge_status(const std::string& day, int recent_errors) = 0;
    // Stored traces a backfill of one scorer version may judge, oldest first.
    virtual Result<std::vector<BackfillCandidate>> backfill_candidates(const BackfillQuery& q) = 0;
};

struct StoreOptions {
    // store.sqlite / store.postgres / --db / ASSAY_DB: a SQLite file path,
    // or a PostgreSQL URI (postgresql://...; store_location.h).
    std::string sqlite_path = "assay.db";
    int busy_timeout_ms = 5000;  // store.busy_timeout_ms
    // How long a judge task claimed by claim_judge_tasks stays this
    // connection's before another worker may take it (store.judge_lease_ms).
    int64_t judge_lease_ms = 300000;
    // Claimant id written to judge_queue.claimed_by; empty: the store makes
    // "hostname:pid:nonce" (random nonce) at open. Tests set it.
    std::string judge_claimant = {};
    // Not configurable: set by NewFileBuild (store/sqlite/new_file_build.h)
    // for a new SQLite file that no other connection opens until it is
    // published. The file is opened exclusively, keeps its rollback journal
    // in memory, never syncs and runs no checkpoint thread; a crash leaves
    // it unusable, and NewFileBuild then never publishes it.
    bool private_build = false;
};

// Opens the backend that options.sqlite_path names (a postgresql:// or
// postgres:// URI: PostgresStore; anything else: SqliteStore), creating and
// migrating the schema as needed. io_error (unavailable for an unreachable
// PostgreSQL server) names the path or masked URI when it cannot be opened.
Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace assay
