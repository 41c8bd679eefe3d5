// The `judge` scorer type: LLM-as-judge rubrics. At this stage the pipeline
// samples traces for it and queues them in judge_queue (decision `pending`);
// the judge stage (worker/judge/) consumes that queue. The factory validates
// the config and the rubric file so a bad rubric fails at startup, and the
// rubric's bytes are part of the scorer version.
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/scorer_registry.h"

namespace assay {

namespace {

class JudgeScorer final : public Scorer {
public:
    Result<Score> score(const Trace&) const override {
        // Never called: judge scorers are deferred (ScorerType::is_judge).
        return Status::internal("judge scorers run in the judge stage, not inline");
    }
};

Result<std::unique_ptr<Scorer>> make_judge(ConfigBlock& block) {
    auto rubric = block.get_path("rubric");
    auto judges = block.get_string_list("judges");
    auto aggregate = block.get_string("aggregate").value_or("mean");
    if (!rubric) {
        block.fail("rubric", "is required (a rubric YAML file, e.g. rubrics/helpfulness.yaml)");
        return Status::invalid_argument("rubric missing");
    }
    if (!judges || judges->empty()) {
        block.fail("judges", "is required: the names of one or more judges from the top-level 'judges' list");
        return Status::invalid_argument("judges missing");
    }
    if (aggregate != "mean" && aggregate != "median" && aggregate != "majority") {
        block.fail("aggregate", "must be mean, median or majority; got '" + aggregate + "'");
        return Status::invalid_argument("bad aggregate");
    }
    std::ifstream in(*rubric, std::ios::binary);
    if (!in) {
        block.fail("rubric", "cannot read '" + *rubric + "'");
        return Status::invalid_argument("rubric unreadable");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        YAML::Node r = YAML::Load(ss.str());
        if (!r.IsMap() || !r["name"] || !r["prompt"] || !r["prompt"].IsScalar()) {
            block.fail("rubric", "'" + *rubric + "' must be a mapping with at least 'name' and 'prompt'");
            return Status::invalid_argument("bad rubric");
        }
    } catch (const YAML::Exception& e) {
        block.fail("rubric", "'" + *rubric + "': YAML error at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
        return Status::invalid_argument("bad rubric");
    }
    block.add_version_material(ss.str());
    return std::unique_ptr<Scorer>(new JudgeScorer());
}

}  // namespace

ASSAY_REGISTER_SCORER((ScorerType{
    "judge",
    "LLM-as-judge rubric on the sampled subset (queued for the judge stage)",
    1,
    true,
    -1.0,
    {
        {"rubric", "string", "path of the rubric YAML (required); its content hash is part of the version"},
        {"judges", "list", "names of judges from the top-level 'judges' list (required); several = ensemble"},
        {"aggregate", "string", "mean | median | majority over an ensemble (default mean)"},
    },
    &make_judge,
}));

}  // namespace assay
