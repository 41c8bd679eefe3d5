#pragma once
// The wire formats a judge speaks (JudgeApi): OpenAI chat completions, the
// OpenAI Responses API and Anthropic messages, one file each
// (wire_chat_completions.cpp, wire_responses.cpp, wire_anthropic_messages.cpp,
// declared in wire_format.h); this is the dispatch over them. Builds request
// bodies and headers, and turns response bodies into reply text + usage, or
// into the provider's error (type, code, param, message). Pure functions over
// untrusted bytes: never throw, never crash. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/judge_client.h"

namespace assay {

// base_url (trailing '/' dropped) + "/chat/completions", "/responses" or
// "/messages".
std::string judge_request_url(const JudgeOptions& spec);

// The JSON body for one request, with the output budget `max_tokens`
// (default spec.max_tokens) under the API's name for it; temperature only
// when set, reasoning effort / thinking when configured.
// chat_completions: system as the first message, response_format
// json_object when spec.json_response_format; responses: `instructions` and
// `input`, text.format json_object; messages: the top-level `system` field.
std::string judge_request_body(const JudgeOptions& spec, const JudgeRequest& request);
std::string judge_request_body(const JudgeOptions& spec, const JudgeRequest& request,
                               int max_tokens);

// Request headers as "Name: value" lines: Content-Type, Accept, an empty
// Expect (no 100-continue round trip), the key (OpenAI:
// Authorization: Bearer; Anthropic: x-api-key + anthropic-version) unless
// `api_key` is empty, then spec.extra_headers.
std::vector<std::string> judge_request_headers(const JudgeOptions& spec,
                                               const std::string& api_key);

struct JudgeReply {
    std::string text;
    // Every prompt token, read from the provider's cache or not (OpenAI:
    // usage.prompt_tokens; Anthropic: input_tokens + cache_read_input_tokens
    // + cache_creation_input_tokens).
    std::int64_t input_tokens = 0;
    // The part of input_tokens the provider served from its prompt cache
    // (OpenAI: usage.prompt_tokens_details.cached_tokens; Anthropic:
    // cache_read_input_tokens), billed at JudgePrice::cached_input_per_mtok.
    std::int64_t cached_input_tokens = 0;
    std::int64_t output_tokens = 0;  // reasoning / thinking tokens included
    // The part of output_tokens spent reasoning (OpenAI
    // completion_tokens_details.reasoning_tokens, Responses
    // output_tokens_details.reasoning_tokens; Anthropic does not report it).
    std::int64_t reasoning_tokens = 0;
    // Why the model stopped, as the provider spells it (chat
    // choices[0].finish_reason, e.g. "stop", "length"; Responses `status`
    // "completed" or incomplete_details.reason, e.g. "max_output_tokens";
    // Anthropic stop_reason, e.g. "end_turn", "max_tokens"); "" when absent.
    std::string finish_reason;
    // The reply was cut off at the output budget (its text may be empty or
    // partial): finish_reason length / max_output_tokens / max_tokens.
    bool truncated = false;
};

// USD for one reply's usage: uncached input x input_per_mtok + cached input
// x cached_input_per_mtok (input_per_mtok when unset) + output x output_per_mtok.
double judge_reply_cost(const JudgePrice& price, const JudgeReply& reply);

// The cost one call is estimated at before it is sent (budgets, `assay
// backfill`, the judge stage's cost cap): prompt_bytes / 4 input tokens x
// input_per_mtok + max_tokens x output_per_mtok, an upper bound for the
// output side (reasoning tokens included: max_tokens caps them too).
// `prompt_bytes`: the system message and the prompt together.
double judge_call_estimate(const JudgeOptions& judge, size_t prompt_bytes);

// Parses a 200 body. A truncated reply parses (with `truncated` set) even
// with no text. invalid_argument naming what is wrong ("reply is not JSON",
// "reply has no choices[0].message.content", ...) otherwise. The provider
// overload reads chat_completions (openai) or messages (anthropic).
Result<JudgeReply> parse_judge_reply(JudgeApi api, std::string_view body);
Result<JudgeReply> parse_judge_reply(JudgeProvider provider, std::string_view body);

struct ProviderError {
    std::string type;     // OpenAI error.type / Anthropic error.type
    std::string code;     // OpenAI error.code (may be empty)
    std::string param;    // OpenAI error.param: the request field refused (may be empty)
    std::string message;  // the provider's message, cut to 500 bytes
};

// Parses an error body of either shape. Unknown shapes give a message made
// of the body's first 200 printable bytes.
ProviderError parse_provider_error(std::string_view body);

// Cache keys of LLM requests (the judges' judge_cache_key, generate mode's
// generation_cache_key) share one layout: `tag`, then each field as
// "\n<byte length>:<bytes>". request_key_material starts it with the fields
// that change a reply for every caller: provider, model, temperature
// (printed with %.17g, "default" when left out), max_tokens and the response
// format ("json" or "text"), then only when not at their defaults (so keys of
// older configs stay valid): the api (responses), reasoning_effort and the
// thinking budget; callers append their own with append_key_field and hash
// the result (sha256_hex). Pure functions.
std::string request_key_material(std::string_view tag, const JudgeOptions& spec);
void append_key_field(std::string& material, std::string_view field);

// Rough prompt size: (system + user bytes) / 4, plus max_tokens for the reply.
std::int64_t estimate_request_tokens(const JudgeOptions& spec, const JudgeRequest& request);

}  // namespace assay
