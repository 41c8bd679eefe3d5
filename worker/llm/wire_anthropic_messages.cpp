// Anthropic messages: {model, system?, messages, max_tokens, temperature? |
// thinking {type: enabled, budget_tokens}} -> the `text` blocks of content
// (thinking and redacted_thinking blocks skipped), stop_reason, usage
// (cache_read_input_tokens, cache_creation_input_tokens).
#include "llm/wire_format.h"

namespace assay::wire {

using nlohmann::json;

json anthropic_messages_body(const JudgeOptions& spec, const JudgeRequest& request,
                             int max_tokens) {
    json body;
    body["model"] = spec.model;
    body["max_tokens"] = max_tokens;
    if (!request.system.empty()) {
        body["system"] = request.system;
    }
    body["messages"] = json::array({{{"role", "user"}, {"content", request.user}}});
    if (spec.thinking_budget_tokens > 0) {
        body["thinking"] = {{"type", "enabled"}, {"budget_tokens", spec.thinking_budget_tokens}};
    } else if (spec.temperature) {
        body["temperature"] = *spec.temperature;
    }
    return body;
}

Result<JudgeReply> parse_anthropic_messages(const json& j) {
    auto content = j.find("content");
    if (content == j.end() || !content->is_array()) {
        return Status::invalid_argument("reply has no content array");
    }
    JudgeReply reply;
    reply.finish_reason = string_field(j, "stop_reason");
    reply.truncated = reply.finish_reason == "max_tokens";
    bool any_text = false;
    for (const auto& block : *content) {
        if (string_field(block, "type") == "text" && block.contains("text") &&
            block["text"].is_string()) {
            reply.text += block["text"].get<std::string>();
            any_text = true;
        }
    }
    if (!any_text && !reply.truncated) {
        return Status::invalid_argument("reply has no text content block");
    }
    if (const json* usage = object_field(j, "usage")) {
        reply.cached_input_tokens = int_field(*usage, "cache_read_input_tokens");
        reply.input_tokens = int_field(*usage, "input_tokens") + reply.cached_input_tokens +
                             int_field(*usage, "cache_creation_input_tokens");
        reply.output_tokens = int_field(*usage, "output_tokens");
    }
    return reply;
}

}  // namespace assay::wire
