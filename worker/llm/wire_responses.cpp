// The OpenAI Responses API: {model, instructions, input, max_output_tokens,
// temperature?, reasoning {effort}?, text {format: json_schema strict with a
// reply schema, else json_object}?} -> the output_text parts
// of the `message` items of `output` (reasoning items skipped), `status`
// (completed | incomplete with incomplete_details.reason), usage
// (input_tokens_details.cached_tokens, output_tokens_details.reasoning_tokens).
#include "llm/wire_format.h"

namespace assay::wire {

using nlohmann::json;

nlohmann::ordered_json responses_body(const JudgeOptions& spec, const JudgeRequest& request,
                                      int max_tokens) {
    nlohmann::ordered_json body;
    body["model"] = spec.model;
    if (!request.system.empty()) {
        body["instructions"] = request.system;
    }
    body["input"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", request.user}}});
    body["max_output_tokens"] = max_tokens;
    if (spec.temperature) {
        body["temperature"] = *spec.temperature;
    }
    if (!spec.reasoning_effort.empty()) {
        body["reasoning"] = {{"effort", spec.reasoning_effort}};
    }
    if (auto schema = reply_schema(spec, request)) {
        body["text"] = {{"format",
                         {{"type", "json_schema"},
                          {"name", request.reply_schema_name},
                          {"strict", true},
                          {"schema", std::move(*schema)}}}};
    } else if (spec.json_response_format) {
        body["text"] = {{"format", {{"type", "json_object"}}}};
    }
    body["store"] = false;  // judge prompts hold trace text: not kept by the provider
    return body;
}

Result<JudgeReply> parse_responses(const json& j) {
    const std::string status = string_field(j, "status");
    if (status.empty()) {
        return Status::invalid_argument("reply has no status");
    }
    JudgeReply reply;
    reply.finish_reason = status;
    if (status == "incomplete") {
        const json* details = object_field(j, "incomplete_details");
        const std::string reason = details != nullptr ? string_field(*details, "reason") : "";
        reply.finish_reason = reason.empty() ? status : reason;
        reply.truncated = reason == "max_output_tokens";
    } else if (status != "completed") {
        return Status::invalid_argument("reply has status '" + status + "'");
    }
    auto output = j.find("output");
    if (output == j.end() || !output->is_array()) {
        return Status::invalid_argument("reply has no output list");
    }
    bool any_text = false;
    for (const auto& item : *output) {
        if (string_field(item, "type") != "message") {
            continue;  // reasoning, tool calls, ...
        }
        auto content = item.find("content");
        if (content == item.end() || !content->is_array()) {
            continue;
        }
        for (const auto& part : *content) {
            if (string_field(part, "type") == "output_text" && part.contains("text") &&
                part["text"].is_string()) {
                reply.text += part["text"].get<std::string>();
                any_text = true;
            }
        }
    }
    if (!any_text && !reply.truncated) {
        return Status::invalid_argument("reply has no output_text in a message item");
    }
    read_openai_usage(j, "input_tokens", "output_tokens", reply);
    return reply;
}

}  // namespace assay::wire
