// The judge stage's setup from a loaded config, its start helper and the
// judge_cache key (contracts in judge_stage.h).
#include "core/sha256.h"
#include "judge/judge_redaction.h"
#include "judge/judge_stage.h"
#include "llm/judge_wire.h"

namespace assay {

Result<JudgeStageSetup> judge_stage_setup(const StoreOptions& store,
                                          const std::vector<JudgeSpec>& judges,
                                          const std::vector<ConfiguredScorer>& scorers) {
    JudgeStageSetup setup;
    setup.store = store;
    for (const auto& j : judges) {
        auto rt = judge_runtime_from_spec(j);
        if (!rt.ok()) {
            return rt.status();
        }
        setup.judges.push_back(std::move(rt).value());
    }
    for (const auto& cs : scorers) {
        if (!cs.is_judge()) {
            continue;
        }
        const JudgeScorerSpec* spec = judge_scorer_spec(cs.deferred.get());
        if (spec == nullptr) {
            return Status::internal("scorer '" + cs.name +
                                    "' is a judge scorer without a judge spec");
        }
        setup.scorers.push_back({cs.name, cs.version, cs.config_json, *spec});
    }
    setup.redactor = builtin_redactor();
    return setup;
}

std::string judge_cache_key(const JudgeOptions& judge, const Rubric& rubric,
                            std::string_view system, std::string_view prompt) {
    std::string material = request_key_material("assay-judge-cache-v1", judge);
    if (judge.structured_output) {
        // The schema follows from the rubric (hashed below); only whether it is sent.
        append_key_field(material, "structured_output");
    }
    for (std::string_view field : {std::string_view(rubric.name), std::string_view(rubric.version),
                                   std::string_view(rubric.content_hash), system, prompt}) {
        append_key_field(material, field);
    }
    return sha256_hex(material);
}

Result<std::unique_ptr<JudgeStage>> start_judge_stage(
    const StoreOptions& store, const std::vector<JudgeSpec>& judges,
    const std::vector<ConfiguredScorer>& scorers) {
    auto setup = judge_stage_setup(store, judges, scorers);
    if (!setup.ok()) {
        return setup.status();
    }
    if (setup->scorers.empty()) {
        return std::unique_ptr<JudgeStage>();
    }
    auto stage = JudgeStage::create(std::move(setup).value());
    if (stage.ok()) {
        (*stage)->start();
    }
    return stage;
}

}  // namespace assay
