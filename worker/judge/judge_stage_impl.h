#pragma once
// JudgeStage::Impl: the judge stage's state and its steps, private to the
// stage's files: judge_stage.cpp (create, the claim loop, start/stop,
// metrics), judge_stage_calls.cpp (a claimed task's prompts, cache hits,
// budget check and calls) and judge_stage_outcome.cpp (replies, aggregation,
// storing the outcome, tallies). The stage thread runs every step; `mu`
// guards what other threads read (completions, counters, metrics).

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "judge/claim_lease.h"
#include "judge/committed_traces.h"
#include "judge/judge_stage.h"
#include "judge/reply_parser.h"
#include "judge/rubric.h"
#include "llm/judge_client.h"
#include "store/store.h"

namespace assay {

// The "judge" logger (the default logger before logging is set up).
std::shared_ptr<spdlog::logger> judge_stage_log();

struct JudgeStage::Impl {
    CommittedTraces committed;
    struct JudgeState {
        JudgeRuntime rt;
        std::unique_ptr<JudgeClient> client;
        std::string disabled_reason;  // set when there is no client
        std::string final_state;      // the client's state when stop() released it
        std::string final_reason;
        bool pause_logged = false;
        JudgeStageMetrics::Judge m;
    };
    struct Slot {
        size_t judge = 0;
        std::string member;  // the ensemble member's name: the judge, or judge#i for samples
        JudgeRequest request;
        std::string key;
        double estimate = 0;
        int parse_tries = 0;
        bool done = false;
        bool keep_pending = false;
        std::optional<JudgeVerdict> verdict;
        JudgementRecord rec;
        std::optional<JudgeCacheEntry> cache_entry;
    };
    struct Task {
        PendingJudgeTask task;
        size_t scorer = 0;
        std::vector<Slot> slots;
        size_t remaining = 0;
        // Budget reservations (Store::reserve_judge_budget) held for the
        // calls of this task, settled with its outcome.
        std::vector<int64_t> reservations;
    };
    struct Completion {
        uint64_t task = 0;
        size_t slot = 0;
        JudgeResult result;
    };

    JudgeStageSetup setup;
    std::unique_ptr<Store> store;
    std::vector<JudgeState> judges;
    std::vector<std::vector<size_t>> scorer_judges;  // scorer index -> judge indexes
    // Per scorer: the lease of this stage's claims, renewed by each claim
    // call; a task's requests are withdrawn once its lease may have passed.
    std::vector<ClaimLease> leases;  // stage thread only
    // JudgeStageOptions::max_in_flight, at most twice the judges'
    // max_concurrency added up (set by create()).
    int max_tasks = 0;
    std::map<uint64_t, Task> tasks;  // stage thread only
    // Tasks whose outcome could not be stored: not taken again by this stage
    // (they stay queued for the next run), so a failing store never makes
    // the stage call a judge over and over for the same trace.
    std::set<std::pair<size_t, std::string>> unwritable;
    // Outcomes not stored because the store was unavailable (an outage): the
    // calls were made, so they are written again on every poll, in order,
    // until stored (or fenced off), never judged again. Their tasks stay
    // claimed (the claim is renewed) and are not claimed again by this stage.
    struct Unstored {
        size_t scorer = 0;
        JudgeOutcome outcome;
        std::string what;
    };
    std::vector<Unstored> unstored;  // stage thread only
    // Outcomes decided since the last flush_outcomes (same shape as
    // Unstored): written together, in one store transaction, at the next
    // flush. Stage thread only.
    std::vector<Unstored> ready;
    uint64_t next_task = 1;
    // Identical requests in flight (same cache key, judges with the cache
    // on): one is sent, the others wait for its answer and take it as a
    // cache hit, so a batch holding the same request twice pays once.
    // Stage thread only.
    std::map<std::string, std::vector<std::pair<uint64_t, size_t>>> followers;
    std::set<std::string> leading;  // keys with a request in flight
    // JudgeStageOptions::max_usd: estimated cost of the calls sent so far
    // (stage thread only), and whether the cap stopped the stage taking tasks.
    double sent_estimate = 0;
    bool capped = false;
    bool lease_lost_logged = false;  // stage thread only

    mutable std::mutex mu;  // guards below and JudgeState::m / state strings
    std::condition_variable cv;
    std::condition_variable idle_cv;
    std::vector<Completion> done;
    bool stopping = false;
    bool started = false;
    uint64_t idle_request = 0;
    uint64_t idle_seen = 0;
    std::map<std::string, uint64_t> task_counts;
    std::map<std::string, ScorerTally> by_scorer;
    uint64_t in_flight = 0;
    bool cost_cap_reached = false;
    std::thread thread;
    std::mutex clients_mu;  // guards client pointers against stop() for metrics()

    int64_t now() const { return setup.clock_ms ? setup.clock_ms() : now_ms(); }

    // "2026-11-22": the UTC day of `ms`, as judge_spend rows key it.
    static std::string utc_day(int64_t ms);
    // Takes a parsed reply into the slot; pass/fail is the rubric's
    // threshold, never the judge's own words.
    static void take_verdict(Slot& s, const Rubric& rubric, const JudgeVerdict& v);
    // Adds one call's outcome and usage to the judge's metrics (takes mu).
    void count_call(JudgeState& js, const std::string& outcome, const JudgeResult& r);

    // judge_stage_calls.cpp
    // Is this judge usable now? Logs a pause once.
    bool available(JudgeState& js);
    // Reserves the daily budget of every judge with one for the task's calls
    // still to make (Store::reserve_judge_budget). false when a judge's budget
    // is reached or the store failed: the task was decided (skipped_budget)
    // or left pending, and nothing stays reserved.
    bool reserve_budgets(Task& task, int64_t at);
    JudgementRecord base_record(const JudgeState& js, const Rubric& rubric, int64_t at) const;
    void submit(uint64_t id, size_t slot_index, Slot& slot);
    // submit(), unless an identical request is in flight: then the slot
    // waits for that answer (release_followers).
    void submit_or_follow(uint64_t id, size_t slot_index, Slot& slot);
    // The request for `key` ended. With a verdict, its followers take it as a
    // cache hit; without (an error), the first follower asks for itself.
    void release_followers(const std::string& key, const std::optional<JudgeVerdict>& verdict,
                           int64_t input_tokens, int64_t output_tokens);
    // Takes one queued task: decisions that need no call are stored at once.
    void start_task(PendingJudgeTask pt, size_t scorer);

    // judge_stage_outcome.cpp
    void count_task(size_t scorer, const std::optional<ScoreRow>& row);
    // Queues a decided outcome for the next flush_outcomes (the poll that
    // follows); `what` names it in the logs.
    void store_outcome(size_t scorer, JudgeOutcome o, std::string what);
    // Writes the held (`unstored`, oldest first) and `ready` outcomes in one
    // store transaction (Store::write_judge_outcomes), each fenced on its own
    // claim, and counts those stored. When the batch fails for another
    // reason than the store being unavailable, writes them one by one so
    // one bad outcome does not hold back the others.
    void flush_outcomes();
    // The stage's handling of one outcome's write: true when stored (then
    // counted). Lease lost (another worker owns the task now): the result is
    // dropped, the calls' cost recorded, counted as `lease_lost` and logged
    // once. The store unavailable: the outcome is held in `unstored` (logged
    // when an outage begins). Any other failure is logged with `what` and
    // the task is not taken again by this stage (unwritable).
    bool take_write(Unstored& u, const Result<JudgeWrite>& w, bool outage_logged);
    void write_final(Task& task, Decision decision, const std::string& reason);
    // Leaves a claimed task pending (attempts + 1, claim released) without a
    // call: the stage's cost cap is reached.
    void leave_pending(Task& task);
    // Every slot is done: aggregate and store.
    void finalize(Task& task);
    void complete(Completion c);

    // judge_stage.cpp
    // Writes the outcomes decided since the last poll (flush_outcomes), reads
    // runnable tasks and starts them, then writes the decisions that took no
    // call; true if any task was taken.
    bool poll();
    void run();
};

}  // namespace assay
