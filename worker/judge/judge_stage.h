#pragma once
// JudgeStage: runs the LLM-judge scorers. It consumes the store's judge_queue
// (filled by the pipeline, or by `assay backfill`) on its own thread with its
// own Store connection, so code scoring never waits for a judge and pending
// work survives restarts (it lives in the store). It takes tasks by claiming
// them (Store::claim_judge_tasks, lease store.judge_lease_ms renewed on every
// poll), so several workers sharing one store judge each task once, and a
// crashed worker's tasks are taken over by a live one on the same host.
//
// For each queued task (trace x judge scorer version) it:
//   1. renders the rubric for every judge of the scorer's ensemble, after
//      redacting PII from the trace text (per judge, on by default); a
//      required variable that is missing or blank records the decision
//      skipped_missing_input naming it, and no call is made;
//   2. reserves each judge's daily budget (UTC day) in the store
//      (Store::reserve_judge_budget): spent today + the estimates reserved by
//      every worker for calls in flight + this task's estimate must stay
//      within daily_budget_usd, else skipped_budget naming the judge, until
//      the next UTC day; the outcome settles the reservation (replaced by
//      the actual cost), so workers sharing a store share one budget;
//   3. answers from judge_cache when the identical request was made before
//      (recorded with cached = 1, no call, no cost), else submits it through
//      the judge's JudgeClient;
//   4. parses the reply (parse_reply); a parse failure is retried once, then
//      recorded as a judge error (error_type parse_error), never a score;
//   5. when every judge answered, aggregates (ensemble.h) and writes the
//      judgements, the score row, the cache entries and the spend in one
//      transaction, removing the task from judge_queue.
// A judge that is paused (auth, billing, unknown model, or its API key
// environment variable unset) or whose circuit breaker is open leaves its
// tasks pending (never failed); the pause is logged once and shown in
// metrics() and `assay judges status`. Any other final error of a judge
// (retries exhausted, 4xx, parse_error) makes the task `failed`, with one
// judgements row per judge saying why.
// Outcomes are fenced on the claim (Store::write_judge_outcome): when this
// worker lost a task's lease and another took it, its result is dropped
// (the calls' cost is still recorded), counted in metrics().tasks as
// `lease_lost` and logged once.
//
// Thread safety: every public method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "judge/judge_options.h"
#include "judge/judge_scorer_spec.h"
#include "llm/judge_spec.h"
#include "pipeline/run_summary.h"
#include "pipeline/scorer_set.h"
#include "store/store.h"

namespace assay {

struct JudgeStageOptions {
    int poll_ms = 200;  // store poll interval while there is nothing to do
    int batch = 64;     // tasks read per scorer per poll
    // Tasks being judged at once, all scorers together; never more than twice
    // the judges' max_concurrency added up, so a stage claims only what its
    // judges can start soon and leaves the rest to the other workers.
    int max_in_flight = 256;
    // Cost cap of this stage's run (`assay backfill --max-usd`): the
    // estimated cost (judge_call_estimate) of all the calls it sends, all
    // judges together, parse retries included. A task whose calls would
    // pass it stays pending, and so does every later task that needs a
    // call (the stage claims no more tasks). Cache hits and decisions that
    // need no call (skipped_missing_input) cost nothing. Negative: no cap.
    double max_usd = -1;
};

struct JudgeStageScorer {
    std::string name;
    std::string version;
    std::string config_json;  // as stored in scorer_versions
    JudgeScorerSpec spec;
};

struct JudgeStageSetup {
    StoreOptions store;
    std::vector<JudgeRuntime> judges;
    std::vector<JudgeStageScorer> scorers;  // empty: the stage has nothing to do
    JudgeStageOptions options;
    // Applied to every trace text a rubric renders when a judge's `redact`
    // has any kind on. Without it such a judge is disabled (never unredacted).
    JudgeRedactor redactor;
    // Epoch ms for at_ms and the spend day; default: the system clock.
    std::function<int64_t()> clock_ms;
};

// The stage's setup for a loaded config (its store, judges and scorers): every judge, and every
// `type: judge` scorer with its rubric and ensemble. invalid_argument naming the judge or scorer
// when a judge entry is unusable.
Result<JudgeStageSetup> judge_stage_setup(const StoreOptions& store,
                                          const std::vector<JudgeSpec>& judges,
                                          const std::vector<ConfiguredScorer>& scorers);

// The judge_cache key: SHA-256 (hex) over the provider, model, temperature,
// max_tokens, the JSON response-format switch (and structured_output when
// on: the verdict schema follows from the rubric), the rubric version and
// content hash, the system message and the rendered prompt (each
// length-prefixed).
std::string judge_cache_key(const JudgeOptions& judge, const Rubric& rubric,
                            std::string_view system, std::string_view prompt);

struct JudgeStageMetrics {
    struct Judge {
        std::string name;
        std::string state;  // active | paused | circuit_open | half_open | disabled
        std::string pause_reason;
        std::map<std::string, uint64_t>
            results;  // by outcome: ok, cached, parse_error, <JudgeError>
        uint64_t attempts = 0;
        // Every billed attempt (truncated, unparsable and retried ones too).
        int64_t input_tokens = 0;
        int64_t output_tokens = 0;
        int64_t reasoning_tokens = 0;  // part of output_tokens
        double cost_usd = 0.0;
    };
    std::map<std::string, uint64_t> tasks;  // by decision written: scored, failed, skipped_budget,
                                            // skipped_missing_input, left_pending; lease_lost
    // Per judge scorer, what this stage decided (scored with value sums and
    // pass counts, errors = failed, skipped_budget, missing_input), to fold
    // into a run's summary.
    std::map<std::string, ScorerTally> by_scorer;
    uint64_t in_flight = 0;
    bool cost_cap_reached = false;  // JudgeStageOptions::max_usd stopped the stage taking tasks
    std::vector<Judge> judges;
};

class JudgeStage;

// judge_stage_setup + JudgeStage::create + start(), for the commands. An
// empty pointer when the config has no judge scorer.
Result<std::unique_ptr<JudgeStage>> start_judge_stage(const StoreOptions& store,
                                                      const std::vector<JudgeSpec>& judges,
                                                      const std::vector<ConfiguredScorer>& scorers);

class JudgeStage {
public:
    // Opens the stage's own Store connection, registers the scorer versions
    // and creates one JudgeClient per judge used by a scorer. A judge whose
    // client cannot be created (its API key variable is unset, or redaction
    // is on and no redactor exists) is disabled, logged and reported like a
    // paused judge; its tasks stay pending. io_error when the store cannot be
    // opened; invalid_argument when a scorer names an unknown judge.
    static Result<std::unique_ptr<JudgeStage>> create(JudgeStageSetup setup);
    ~JudgeStage();  // stop()s
    JudgeStage(const JudgeStage&) = delete;
    JudgeStage& operator=(const JudgeStage&) = delete;

    // Traces just committed by a pipeline of this process with judge tasks
    // (Pipeline::CommitReport::queued_for_judge): their tasks are judged
    // from these instead of parsing the stored text again. Any thread.
    void offer(std::vector<std::shared_ptr<const Trace>> traces);

    // Starts the stage's thread. Idempotent.
    void start();
    // Waits until a poll of the store that began after this call found no
    // task it could run (only tasks of paused judges, or none) and nothing is
    // in flight. true when idle, false on timeout or when not started.
    bool wait_idle(std::chrono::milliseconds timeout);
    // Stops the thread and the judge clients; calls in flight are cancelled
    // and their tasks stay pending in the store. Returns within about a
    // second. Idempotent.
    void stop();

    JudgeStageMetrics metrics() const;
    bool has_work() const;  // any judge scorer configured

private:
    struct Impl;
    explicit JudgeStage(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace assay
