// Anthropic messages: {model, system?, messages, max_tokens, temperature? |
// thinking {type: enabled, budget_tokens}, tools + tool_choice {type: tool}
// with a reply schema} -> the input of the first tool_use block (as JSON
// text) when there is one, else the `text` blocks of content (thinking and
// redacted_thinking blocks skipped), stop_reason, usage
// (cache_read_input_tokens, cache_creation_input_tokens).
#include "llm/wire_format.h"

namespace assay::wire {

using nlohmann::json;

nlohmann::ordered_json anthropic_messages_body(const JudgeOptions& spec,
                                               const JudgeRequest& request, int max_tokens) {
    nlohmann::ordered_json body;
    body["model"] = spec.model;
    body["max_tokens"] = max_tokens;
    if (!request.system.empty()) {
        body["system"] = request.system;
    }
    body["messages"] =
        nlohmann::ordered_json::array({{{"role", "user"}, {"content", request.user}}});
    if (spec.thinking_budget_tokens > 0) {
        body["thinking"] = {{"type", "enabled"}, {"budget_tokens", spec.thinking_budget_tokens}};
    } else if (spec.temperature) {
        body["temperature"] = *spec.temperature;
    }
    // The verdict as a forced tool call (validate_judge_options refuses it
    // together with thinking, as Anthropic does).
    if (auto schema = reply_schema(spec, request)) {
        body["tools"] = nlohmann::ordered_json::array(
            {{{"name", request.reply_schema_name},
              {"description", "Record the reply in this exact shape."},
              {"input_schema", std::move(*schema)}}});
        body["tool_choice"] = {{"type", "tool"}, {"name", request.reply_schema_name}};
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
        if (string_field(block, "type") == "tool_use") {
            auto input = block.find("input");
            if (input == block.end() || !input->is_object()) {
                return Status::invalid_argument(
                    "reply has a tool_use block without an input object");
            }
            reply.text = input->dump(-1, ' ', false, json::error_handler_t::replace);
            any_text = true;
            break;
        }
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
