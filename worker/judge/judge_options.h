#pragma once
// Maps one `judges:` config entry (llm/judge_spec.h, its config_json) to
// what the judge stage needs: the transport options of judge_client.h plus
// the stage's own per-judge settings (budget, cache, redaction).
//
// Keys and defaults (README "Judges"): provider (required), model
// (required), base_url (default https://api.openai.com/v1 or
// https://api.anthropic.com/v1), api (chat_completions | responses for
// openai; messages for anthropic), api_key_env (""), temperature (0, or
// 'default' = left out; left out by default for reasoning models: OpenAI o1/
// o3/o4/gpt-5 names, reasoning_effort or thinking_budget_tokens set),
// max_tokens (512; 4096 for reasoning models, at least thinking budget +
// 512), max_tokens_field (max_completion_tokens | max_tokens; chat
// completions only), reasoning_effort (""), thinking_budget_tokens (0 = off),
// max_tokens_on_truncation (0 = a truncated reply is not retried),
// max_concurrency (16), requests_per_minute (0 =
// unlimited), tokens_per_minute (0), timeout_ms (30000), connect_timeout_ms
// (10000), max_retries (4), max_retry_after_ms (60000: a longer Retry-After
// is cut to it), price {input_per_mtok, output_per_mtok (0),
// cached_input_per_mtok (default input_per_mtok)}, daily_budget_usd (0 = no
// budget), headers ({name: value}), json_response_format (true),
// structured_output (the verdict in a schema, judge/verdict_schema.h;
// default: openai json_response_format, anthropic true unless
// thinking_budget_tokens is set), cache
// (true), redact (true = email, phone, card; false; or a list of those).
// Pure functions; thread-safe. Never reads the environment.

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "llm/judge_client.h"
#include "llm/judge_spec.h"

namespace assay {

// PII kinds replaced before any text leaves the machine (README "Judges",
// Redaction). All on by default.
struct JudgeRedaction {
    bool email = true;
    bool phone = true;
    bool card = true;
    bool any() const { return email || phone || card; }
};

// Replaces PII in one text before it is sent to a judge (judge_redaction.h).
using JudgeRedactor =
    std::function<std::string(std::string_view text, const JudgeRedaction& kinds)>;

struct JudgeRuntime {
    JudgeOptions transport;
    double daily_budget_usd = 0.0;  // per UTC day; 0 = no budget
    bool cache = true;              // answer identical requests from judge_cache
    JudgeRedaction redact;
};

// invalid_argument naming the judge and the key ("judge 'primary': key
// 'max_tokens': expected an integer, got \"many\"") on a wrong type, an
// unknown key or a value out of range (validate_judge_options).
Result<JudgeRuntime> judge_runtime_from_json(std::string_view config_json);
Result<JudgeRuntime> judge_runtime_from_spec(const JudgeSpec& spec);

}  // namespace assay
