// The `judge` scorer type: LLM-as-judge rubrics. The pipeline samples traces
// for it and queues them in judge_queue (decision `pending`); the judge stage
// (worker/judge/judge_stage.h) consumes that queue, reading the rubric,
// ensemble and aggregate through JudgeScorerInfo. The factory loads the
// rubric with worker/judge/rubric.h, so a bad rubric fails at startup with a
// message naming the file and key, and the rubric's bytes are part of the
// scorer version.
#include "core/scorer_registry.h"
#include "judge/judge_scorer_spec.h"
#include "judge/rubric.h"

namespace assay {

namespace {

class JudgeScorer final : public JudgeScorerInfo {
public:
    explicit JudgeScorer(JudgeScorerSpec spec) : m_spec(std::move(spec)) {}
    const JudgeScorerSpec& judge_spec() const override { return m_spec; }
    bool pairwise() const override { return m_spec.rubric.pairwise; }

private:
    JudgeScorerSpec m_spec;
};

Result<std::unique_ptr<DeferredScorer>> make_judge(ConfigBlock& block) {
    auto rubric = block.get_path("rubric");
    auto judges = block.get_string_list("judges");
    auto aggregate = block.get_string("aggregate").value_or("mean");
    const auto samples = block.get_int("samples").value_or(1);
    if (!rubric) {
        block.fail("rubric", "is required (a rubric YAML file, e.g. rubrics/helpfulness.yaml)");
        return Status::invalid_argument("rubric missing");
    }
    if (!judges || judges->empty()) {
        block.fail("judges",
                   "is required: the names of one or more judges from the top-level 'judges' list");
        return Status::invalid_argument("judges missing");
    }
    if (aggregate != "mean" && aggregate != "median" && aggregate != "majority") {
        block.fail("aggregate", "must be mean, median or majority; got '" + aggregate + "'");
        return Status::invalid_argument("bad aggregate");
    }
    if (samples < 1 || samples > 20) {
        block.fail("samples", "must be within 1..20, got " + std::to_string(samples));
        return Status::invalid_argument("bad samples");
    }
    auto loaded = load_rubric(*rubric);
    if (!loaded.ok()) {
        block.fail("rubric", loaded.status().message());
        return loaded.status();
    }
    // The rubric's exact bytes give the scorer its meaning (content_hash is
    // their SHA-256), wherever the file is and however its path is spelled.
    block.add_file_version("rubric", loaded->content_hash);
    JudgeScorerSpec spec;
    spec.rubric = std::move(loaded).value();
    spec.judges = *judges;
    spec.samples = static_cast<int>(samples);
    spec.aggregate = aggregate == "median"     ? JudgeAggregate::median
                     : aggregate == "majority" ? JudgeAggregate::majority
                                               : JudgeAggregate::mean;
    return std::unique_ptr<DeferredScorer>(new JudgeScorer(std::move(spec)));
}

}  // namespace

ASSAY_REGISTER_SCORER((ScorerType{
    "judge",
    "LLM-as-judge rubric on the sampled subset (queued for the judge stage)",
    1,
    -1.0,
    {
        {"rubric", "string",
         "path of the rubric YAML (required); its content hash is part of the version; "
         "a pairwise rubric (pairwise: true) makes the scorer gate-only (pairwise mode)"},
        {"judges", "list",
         "names of judges from the top-level 'judges' list (required); several = ensemble"},
        {"aggregate", "string",
         "mean | median | majority over an ensemble and its samples (default mean)"},
        {"samples", "int",
         "self-consistency: ask each judge this many times (1..20, default 1; chat completions "
         "get seeds 1..k) and aggregate every sample"},
    },
    nullptr,
    &make_judge,
}));

}  // namespace assay
