// OpenAI chat completions: {model, messages, max_completion_tokens |
// max_tokens, temperature?, reasoning_effort?, response_format? (json_schema
// strict with a reply schema, else json_object)} ->
// choices[0].message.content, finish_reason, usage (prompt_tokens_details.
// cached_tokens, completion_tokens_details.reasoning_tokens).
#include "llm/wire_format.h"

namespace assay::wire {

using nlohmann::json;

nlohmann::ordered_json chat_completions_body(const JudgeOptions& spec, const JudgeRequest& request,
                                             int max_tokens) {
    nlohmann::ordered_json body;
    body["model"] = spec.model;
    auto messages = nlohmann::ordered_json::array();
    if (!request.system.empty()) {
        messages.push_back({{"role", "system"}, {"content", request.system}});
    }
    messages.push_back({{"role", "user"}, {"content", request.user}});
    body["messages"] = std::move(messages);
    body[spec.max_tokens_field] = max_tokens;
    if (spec.temperature) {
        body["temperature"] = *spec.temperature;
    }
    if (!spec.reasoning_effort.empty()) {
        body["reasoning_effort"] = spec.reasoning_effort;
    }
    if (auto schema = reply_schema(spec, request)) {
        body["response_format"] = {{"type", "json_schema"},
                                   {"json_schema",
                                    {{"name", request.reply_schema_name},
                                     {"strict", true},
                                     {"schema", std::move(*schema)}}}};
    } else if (spec.json_response_format) {
        body["response_format"] = {{"type", "json_object"}};
    }
    if (request.seed) {
        body["seed"] = *request.seed;
    }
    return body;
}

Result<JudgeReply> parse_chat_completions(const json& j) {
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) {
        return Status::invalid_argument("reply has no choices");
    }
    const json& choice = (*choices)[0];
    JudgeReply reply;
    reply.finish_reason = string_field(choice, "finish_reason");
    reply.truncated = reply.finish_reason == "length";
    const json* message = object_field(choice, "message");
    auto content = message != nullptr ? message->find("content") : json::const_iterator();
    const bool has_text = message != nullptr && content != message->end() && content->is_string();
    if (has_text) {
        reply.text = content->get<std::string>();
    } else if (!reply.truncated) {
        // A reasoning model that spent the whole budget thinking sends null.
        return Status::invalid_argument("reply has no choices[0].message.content string");
    }
    read_openai_usage(j, "prompt_tokens", "completion_tokens", reply);
    return reply;
}

}  // namespace assay::wire
