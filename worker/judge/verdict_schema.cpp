#include "judge/verdict_schema.h"

#include <nlohmann/json.hpp>

namespace assay {

std::string verdict_schema(const Rubric& rubric) {
    using nlohmann::ordered_json;
    const RubricScale& scale = rubric.scale;
    ordered_json verdict;
    std::string key;
    if (scale.kind == RubricScale::Kind::choices) {
        key = "choice";
        ordered_json labels = ordered_json::array();
        for (const auto& c : scale.choices) {
            labels.push_back(c.label);
        }
        verdict = {{"type", "string"}, {"enum", std::move(labels)}};
    } else {
        key = "score";
        verdict = {{"type", scale.integer ? "integer" : "number"}};
        if (scale.integer) {
            verdict["minimum"] = static_cast<long long>(scale.min);
            verdict["maximum"] = static_cast<long long>(scale.max);
        } else {
            verdict["minimum"] = scale.min;
            verdict["maximum"] = scale.max;
        }
    }
    ordered_json schema = {
        {"type", "object"},
        {"properties", {{"reasoning", {{"type", "string"}}}, {key, std::move(verdict)}}},
        {"required", {"reasoning", key}},
        {"additionalProperties", false}};
    return schema.dump();
}

void attach_verdict_schema(JudgeRequest& request, const JudgeOptions& judge, const Rubric& rubric) {
    if (!judge.structured_output) {
        return;
    }
    request.reply_schema = verdict_schema(rubric);
    request.reply_schema_name = k_verdict_schema_name;
}

}  // namespace assay
