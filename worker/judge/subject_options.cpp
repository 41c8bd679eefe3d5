#include "judge/subject_options.h"

#include <nlohmann/json.hpp>

namespace assay {

Result<SubjectRuntime> subject_runtime_from_json(std::string_view config_json) {
    using nlohmann::json;
    json j = json::parse(config_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return Status::invalid_argument("subject: expected a mapping");
    }
    SubjectRuntime out;
    for (const char* key : {"name", "redact"}) {
        if (j.contains(key)) {
            return Status::invalid_argument(
                std::string("subject: unknown key '") + key +
                "' (the subject is named subject:<model>, and its prompts are sent "
                "as rendered, without redaction)");
        }
    }
    if (auto it = j.find("system"); it != j.end()) {
        if (!it->is_null() && !it->is_string()) {
            return Status::invalid_argument("subject: key 'system': expected a string, got " +
                                            it->dump());
        }
        if (it->is_string()) {
            out.system = it->get<std::string>();
        }
        j.erase(it);
    }
    if (!j.contains("json_response_format")) {
        j["json_response_format"] = false;
    }
    const std::string model =
        j.contains("model") && j["model"].is_string() ? j["model"].get<std::string>() : "";
    j["name"] = "subject:" + model;
    j["redact"] = false;
    auto rt = judge_runtime_from_json(j.dump());
    if (!rt.ok()) {
        // "judge 'subject:m': key ..." -> "subject: key ..."
        std::string msg = rt.status().message();
        const std::string prefix = "judge 'subject:" + model + "'";
        if (msg.rfind(prefix, 0) == 0) {
            msg = "subject" + msg.substr(prefix.size());
        }
        return Status::invalid_argument(msg);
    }
    if (model.empty()) {
        return Status::invalid_argument(
            "subject: key 'model': is required (a pinned model version string)");
    }
    out.rt = std::move(rt).value();
    // A subject's answer cut at its budget is still its answer (finish_reason says so).
    out.rt.transport.truncation_is_error = false;
    return out;
}

}  // namespace assay
