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

struct ScorerType {
    std::string type;          // the `type:` value in config
    std::string summary;       // one line for `assay scorers`
    int impl_version = 1;      // bump when the meaning of a value changes
    bool is_judge = false;     // deferred to the judge queue (LLM-as-judge)
    double default_sample_rate = 1.0;  // < 0: sample_rate is required
    std::vector<ConfigKeyDoc> keys;
    ScorerFactory make = nullptr;
};

}  // namespace assay
