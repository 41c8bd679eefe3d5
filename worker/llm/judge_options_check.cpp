// Judge option names and checks: the enum spellings of judge_client.h and
// validate_judge_options (ranges, required fields, combinations).
#include <string>

#include "llm/judge_client.h"

namespace assay {

const char* to_string(JudgeProvider provider) {
    return provider == JudgeProvider::openai ? "openai" : "anthropic";
}

const char* to_string(JudgeApi api) {
    switch (api) {
        case JudgeApi::chat_completions:
            return "chat_completions";
        case JudgeApi::responses:
            return "responses";
        case JudgeApi::messages:
            return "messages";
    }
    return "?";
}

Result<JudgeApi> parse_judge_api(std::string_view text) {
    for (JudgeApi api : {JudgeApi::chat_completions, JudgeApi::responses, JudgeApi::messages}) {
        if (text == to_string(api)) {
            return api;
        }
    }
    return Status::invalid_argument("unknown judge api '" + std::string(text) +
                                    "' (expected chat_completions, responses or messages)");
}

bool is_openai_reasoning_model(std::string_view model) {
    auto starts = [&](std::string_view prefix) { return model.substr(0, prefix.size()) == prefix; };
    if (starts("gpt-5")) {
        return model.find("-chat") == std::string_view::npos;
    }
    for (std::string_view family : {"o1", "o3", "o4"}) {
        if (starts(family) && (model.size() == family.size() || model[family.size()] == '-')) {
            return true;
        }
    }
    return false;
}

JudgeApi judge_api(const JudgeOptions& spec) {
    return spec.provider == JudgeProvider::anthropic ? JudgeApi::messages : spec.api;
}

Result<JudgeProvider> parse_judge_provider(std::string_view text) {
    if (text == "openai") {
        return JudgeProvider::openai;
    }
    if (text == "anthropic") {
        return JudgeProvider::anthropic;
    }
    return Status::invalid_argument("unknown judge provider '" + std::string(text) +
                                    "' (expected openai or anthropic)");
}

const char* to_string(JudgeError error) {
    switch (error) {
        case JudgeError::none:
            return "none";
        case JudgeError::timeout:
            return "timeout";
        case JudgeError::transport:
            return "transport";
        case JudgeError::rate_limited:
            return "rate_limited";
        case JudgeError::server_error:
            return "server_error";
        case JudgeError::malformed:
            return "malformed";
        case JudgeError::truncated:
            return "judge_truncated";
        case JudgeError::unsupported_parameter:
            return "unsupported_parameter";
        case JudgeError::bad_request:
            return "bad_request";
        case JudgeError::auth:
            return "auth";
        case JudgeError::billing:
            return "billing";
        case JudgeError::unknown_model:
            return "unknown_model";
        case JudgeError::paused:
            return "paused";
        case JudgeError::circuit_open:
            return "circuit_open";
        case JudgeError::cancelled:
            return "cancelled";
        case JudgeError::withdrawn:
            return "withdrawn";
    }
    return "?";
}

const char* to_string(JudgeClientStatus::State state) {
    switch (state) {
        case JudgeClientStatus::State::active:
            return "active";
        case JudgeClientStatus::State::paused:
            return "paused";
        case JudgeClientStatus::State::circuit_open:
            return "circuit_open";
        case JudgeClientStatus::State::half_open:
            return "half_open";
    }
    return "?";
}

Status validate_judge_options(const JudgeOptions& spec) {
    const std::string who = "judge '" + spec.name + "': ";
    auto bad = [&](const std::string& field, const std::string& problem) {
        return Status::invalid_argument(who + "key '" + field + "': " + problem);
    };
    if (spec.name.empty()) {
        return Status::invalid_argument("judge: key 'name': required");
    }
    if (spec.base_url.rfind("http://", 0) != 0 && spec.base_url.rfind("https://", 0) != 0) {
        return bad("base_url", "must start with http:// or https://");
    }
    if (spec.model.empty()) {
        return bad("model", "required");
    }
    const bool anthropic = spec.provider == JudgeProvider::anthropic;
    if (anthropic ? spec.api == JudgeApi::responses : spec.api == JudgeApi::messages) {
        return bad("api",
                   std::string("provider ") + to_string(spec.provider) +
                       (anthropic ? " speaks messages" : " speaks chat_completions or responses") +
                       ", not " + to_string(spec.api));
    }
    if (spec.temperature && !(*spec.temperature >= 0.0 && *spec.temperature <= 2.0)) {
        return bad("temperature", "must be within 0..2");
    }
    if (spec.max_tokens < 1) {
        return bad("max_tokens", "must be >= 1");
    }
    if (spec.max_tokens_field != "max_completion_tokens" && spec.max_tokens_field != "max_tokens") {
        return bad("max_tokens_field", "must be max_completion_tokens or max_tokens, got '" +
                                           spec.max_tokens_field + "'");
    }
    if (spec.reasoning_effort.find_first_of(" \t\r\n\"") != std::string::npos) {
        return bad("reasoning_effort", "must be one word, e.g. low, medium or high");
    }
    if (!spec.reasoning_effort.empty() && anthropic) {
        return bad("reasoning_effort",
                   "is for provider openai; Anthropic thinking is thinking_budget_tokens");
    }
    if (spec.thinking_budget_tokens != 0) {
        if (!anthropic) {
            return bad("thinking_budget_tokens",
                       "is for provider anthropic; OpenAI models take reasoning_effort");
        }
        if (spec.thinking_budget_tokens < 1024 || spec.thinking_budget_tokens >= spec.max_tokens) {
            return bad("thinking_budget_tokens",
                       "must be >= 1024 and below max_tokens (" + std::to_string(spec.max_tokens) +
                           "): the thinking budget is part of the output budget");
        }
        if (spec.temperature) {
            return bad("temperature", "is not accepted with extended thinking; leave it out");
        }
        if (spec.structured_output) {
            return bad("structured_output",
                       "Anthropic does not allow a forced tool call (the structured verdict) "
                       "with extended thinking; set structured_output: false (the reply "
                       "parser reads the verdict from the text)");
        }
    }
    if (spec.max_tokens_on_truncation != 0 && spec.max_tokens_on_truncation <= spec.max_tokens) {
        return bad("max_tokens_on_truncation", "must be 0 (no retry) or above max_tokens (" +
                                                   std::to_string(spec.max_tokens) + ")");
    }
    if (spec.max_concurrency < 1) {
        return bad("max_concurrency", "must be >= 1");
    }
    if (spec.requests_per_minute < 0) {
        return bad("requests_per_minute", "must be >= 0 (0 = unlimited)");
    }
    if (spec.tokens_per_minute < 0) {
        return bad("tokens_per_minute", "must be >= 0 (0 = unlimited)");
    }
    if (spec.timeout_ms < 1) {
        return bad("timeout_ms", "must be >= 1");
    }
    if (spec.connect_timeout_ms < 1) {
        return bad("connect_timeout_ms", "must be >= 1");
    }
    if (spec.max_retries < 0 || spec.max_retries > 20) {
        return bad("max_retries", "must be within 0..20");
    }
    if (spec.max_retry_after_ms < 1) {
        return bad("max_retry_after_ms", "must be >= 1");
    }
    if (spec.backoff_base_ms < 1) {
        return bad("backoff_base_ms", "must be >= 1");
    }
    if (spec.backoff_max_ms < spec.backoff_base_ms) {
        return bad("backoff_max_ms", "must be >= backoff_base_ms");
    }
    if (spec.breaker_failures < 0) {
        return bad("breaker_failures", "must be >= 0 (0 = off)");
    }
    if (spec.max_response_bytes < 1024) {
        return bad("max_response_bytes", "must be >= 1024");
    }
    if (spec.breaker_cooldown_ms < 0) {
        return bad("breaker_cooldown_ms", "must be >= 0");
    }
    if (!(spec.price.input_per_mtok >= 0.0) || !(spec.price.output_per_mtok >= 0.0) ||
        !(spec.price.cached_input_per_mtok.value_or(0.0) >= 0.0)) {
        return bad("price", "must be >= 0");
    }
    for (const auto& [name, value] : spec.extra_headers) {
        if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
            return bad("extra_headers", "invalid header '" + name + "'");
        }
    }
    return {};
}

}  // namespace assay
