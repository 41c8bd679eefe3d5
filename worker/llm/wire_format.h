#pragma once
// One wire format per LLM API, behind judge_wire.h's dispatch. Each builds
// the request body for a JudgeRequest with a given output budget and reads a
// 200 reply body (already parsed as a JSON object) into a JudgeReply. A new
// LLM API is one more pair here, one more JudgeApi value and one more file.
// Bodies are ordered_json: keys go out in the order written, so a reply
// schema's properties keep theirs (the model writes its reasoning before
// the score it asks for).
// Pure functions over untrusted JSON: never throw. Thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "llm/judge_client.h"
#include "llm/judge_wire.h"

namespace assay::wire {

// wire_chat_completions.cpp: POST {base}/chat/completions (OpenAI and
// OpenAI-compatible servers).
nlohmann::ordered_json chat_completions_body(const JudgeOptions& spec, const JudgeRequest& request,
                                             int max_tokens);
Result<JudgeReply> parse_chat_completions(const nlohmann::json& reply);

// wire_responses.cpp: POST {base}/responses (OpenAI Responses API).
nlohmann::ordered_json responses_body(const JudgeOptions& spec, const JudgeRequest& request,
                                      int max_tokens);
Result<JudgeReply> parse_responses(const nlohmann::json& reply);

// wire_anthropic_messages.cpp: POST {base}/messages (Anthropic).
nlohmann::ordered_json anthropic_messages_body(const JudgeOptions& spec,
                                               const JudgeRequest& request, int max_tokens);
Result<JudgeReply> parse_anthropic_messages(const nlohmann::json& reply);

// Helpers shared by the formats (judge_wire.cpp).
// The request's reply schema when it is to be sent (spec.structured_output
// and a non-empty, parseable request.reply_schema), in its own key order;
// nullopt otherwise.
std::optional<nlohmann::ordered_json> reply_schema(const JudgeOptions& spec,
                                                   const JudgeRequest& request);
std::string string_field(const nlohmann::json& j, const char* key);
std::int64_t int_field(const nlohmann::json& j, const char* key);  // >= 0; 0 when absent
const nlohmann::json* object_field(const nlohmann::json& j, const char* key);  // or nullptr
// OpenAI's usage object (chat: prompt_tokens / completion_tokens; Responses:
// input_tokens / output_tokens), each with its <name>_details holding
// cached_tokens and reasoning_tokens, into reply's token counts.
void read_openai_usage(const nlohmann::json& reply_json, const std::string& input_key,
                       const std::string& output_key, JudgeReply& reply);

}  // namespace assay::wire
