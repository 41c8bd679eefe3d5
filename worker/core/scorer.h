#pragma once
// The Scorer seam. A scorer type (format, refusal, ...) lives in its own
// folder under scorers/ and registers a factory with ASSAY_REGISTER_SCORER.
// The factory validates its config block once, at startup; score() then runs
// per trace on the hot path.

#include <memory>
#include <string>
#include <vector>

#include "core/config_block.h"
#include "core/score.h"
#include "core/status.h"
#include "core/trace.h"

namespace assay {

class Scorer {
public:
    virtual ~Scorer() = default;

    // Scores one trace. Returns a Score on success. Returns
    //   - missing_input when the trace lacks a field this scorer needs (the
    //     trace is recorded as skipped_missing_input, not retried);
    //   - not_applicable when the scorer does not apply to this trace (e.g. a
    //     JSON check on a text answer; recorded as filtered_out);
    //   - any other non-OK Status when scoring failed (recorded as failed,
    //     never as a score).
    // Safe to call from several threads at once: implementations keep no
    // mutable state, and compile regexes in their factory, never per trace.
    virtual Result<Score> score(const Trace& trace) const = 0;
};

// scorer.score(trace), with an exception escaping the scorer (a library
// throwing on pathological input) returned as an internal error ("scorer
// threw: <what>") instead of ending the process. Every caller that runs a
// code scorer (the pipeline, the gate's checks) goes through it. Thread-safe
// as score() is.
Result<Score> score_guarded(const Scorer& scorer, const Trace& trace);

// A deferred scorer (LLM-as-judge): the pipeline only samples traces for it
// and queues them (judge_queue, decision `pending`); a stage of its own
// (judge/judge_stage.h, or the gate's CaseJudge) does the scoring. It has no
// score(): what that stage needs comes from the concrete type
// (judge/judge_scorer_spec.h). Immutable after startup; thread-safe.
class DeferredScorer {
public:
    virtual ~DeferredScorer() = default;
    // A pairwise scorer compares two outputs for the same input (a judge
    // scorer with a pairwise rubric). Only `assay gate` runs it: the
    // pipeline records it as filtered_out and never queues it.
    virtual bool pairwise() const { return false; }
};

// One config key a scorer type accepts, for `assay scorers` and README.
struct ConfigKeyDoc {
    std::string key;
    std::string type;     // "bool", "number", "string", "list", "mapping"
    std::string meaning;  // includes the default
};

// Builds a Scorer from its config block. Reads every key it accepts through
// `block` (unknown keys are then reported by the caller). Returns a non-OK
// Status, naming the key, when the config is unusable.
using ScorerFactory = Result<std::unique_ptr<Scorer>> (*)(ConfigBlock& block);
// The same for a deferred scorer.
using DeferredScorerFactory = Result<std::unique_ptr<DeferredScorer>> (*)(ConfigBlock& block);

// A scorer type sets exactly one of `make` and `make_deferred`.
struct ScorerType {
    std::string type;                  // the `type:` value in config
    std::string summary;               // one line for `assay scorers`
    int impl_version = 1;              // bump when the meaning of a value changes
    double default_sample_rate = 1.0;  // < 0: sample_rate is required
    std::vector<ConfigKeyDoc> keys;
    ScorerFactory make = nullptr;                   // a code scorer, run on every sampled trace
    DeferredScorerFactory make_deferred = nullptr;  // or a deferred one, queued for the judge stage
    bool is_judge() const { return make_deferred != nullptr; }
};

}  // namespace assay
