#include "llm/attempt_outcome.h"

#include <algorithm>

namespace assay {

namespace {

using std::chrono::milliseconds;

// "Unsupported parameter: 'max_tokens' is not ..." -> "max_tokens".
std::string quoted_param(std::string_view message) {
    const auto open = message.find('\'');
    if (open == std::string_view::npos) {
        return {};
    }
    const auto close = message.find('\'', open + 1);
    if (close == std::string_view::npos || close - open > 64) {
        return {};
    }
    return std::string(message.substr(open + 1, close - open - 1));
}

std::string truncation_message(const JudgeOptions& spec, const JudgeReply& reply, int max_tokens) {
    const char* budget_key = spec.api == JudgeApi::responses ? "max_output_tokens" : "max_tokens";
    std::string m = "judge '" + spec.name + "': reply cut off at the output budget (" +
                    (reply.finish_reason.empty() ? "truncated" : reply.finish_reason) +
                    "): " + std::to_string(reply.output_tokens) + " output tokens used of " +
                    budget_key + " " + std::to_string(max_tokens);
    if (reply.reasoning_tokens > 0) {
        m += ", " + std::to_string(reply.reasoning_tokens) + " of them reasoning";
    }
    m += reply.text.empty() ? "; no reply text" : "; the reply text is cut";
    m += "; raise the judge's max_tokens";
    if (!spec.reasoning_effort.empty()) {
        m += " or lower reasoning_effort";
    }
    if (spec.thinking_budget_tokens > 0) {
        m += " or lower thinking_budget_tokens";
    }
    if (spec.max_tokens_on_truncation == 0) {
        m += " (or set max_tokens_on_truncation to retry once with a larger budget)";
    }
    return m;
}

}  // namespace

std::string unsupported_parameter_fix(const JudgeOptions& spec, std::string_view param) {
    if (param == "max_tokens") {
        return "this model takes max_completion_tokens: drop the judge's max_tokens_field: "
               "max_tokens (max_completion_tokens is the default)";
    }
    if (param == "max_completion_tokens") {
        return "this server takes max_tokens: set max_tokens_field: max_tokens on the judge";
    }
    if (param == "temperature" || param == "top_p") {
        return "this model takes only its default " + std::string(param) +
               ": set temperature: default on the judge (or remove the key)";
    }
    if (param == "reasoning_effort" || param == "reasoning.effort") {
        return "set the judge's reasoning_effort to a value this model accepts (the provider's "
               "message lists them), or remove it";
    }
    if (param == "response_format" || param == "text.format") {
        return "set json_response_format: false on the judge";
    }
    return "remove or change the key of judge '" + spec.name + "' that sends '" +
           std::string(param) + "'";
}

AttemptOutcome classify_attempt(const JudgeOptions& spec, const AttemptResponse& r) {
    AttemptOutcome o;
    o.http_status = r.http_status;
    const std::string who = "judge '" + spec.name + "'";
    if (r.failure != AttemptResponse::Failure::none) {
        o.retry = true;
        o.breaker_failure = true;
        if (r.failure == AttemptResponse::Failure::too_large) {
            o.error = JudgeError::malformed;
            o.message =
                who + ": reply larger than " + std::to_string(spec.max_response_bytes) + " bytes";
        } else if (r.failure == AttemptResponse::Failure::timeout) {
            o.error = JudgeError::timeout;
            o.message = who + ": timed out (timeout_ms " + std::to_string(spec.timeout_ms) +
                        ", connect_timeout_ms " + std::to_string(spec.connect_timeout_ms) +
                        "): " + r.detail;
        } else {
            o.error = JudgeError::transport;
            o.message = who + ": transport error: " + r.detail;
        }
        return o;
    }
    const int http = r.http_status;
    if (http >= 200 && http < 300) {
        auto reply = parse_judge_reply(judge_api(spec), r.body);
        if (!reply.ok()) {
            o.error = JudgeError::malformed;
            o.message = who + ": HTTP " + std::to_string(http) +
                        " with a malformed body: " + reply.status().message();
            o.retry = true;
            o.breaker_failure = true;
            return o;
        }
        o.reply = std::move(reply).value();
        if (o.reply->truncated && spec.truncation_is_error) {
            o.error = JudgeError::truncated;
            o.message = truncation_message(spec, *o.reply, r.max_tokens);
        }
        return o;
    }
    const ProviderError pe = parse_provider_error(r.body);
    std::string kind = pe.type;
    if (!pe.code.empty() && pe.code != pe.type) {
        kind += (kind.empty() ? "" : "/") + pe.code;
    }
    o.message = who + ": HTTP " + std::to_string(http) + (kind.empty() ? "" : " " + kind) + ": " +
                pe.message;
    const bool billing_body = pe.type == "insufficient_quota" || pe.code == "insufficient_quota" ||
                              pe.type == "billing_error";
    const bool unsupported =
        http == 400 && (pe.code == "unsupported_parameter" || pe.code == "unsupported_value");
    if (billing_body || http == 402) {
        o.error = JudgeError::billing;
        o.pause = true;
    } else if (http == 401 || http == 403) {
        o.error = JudgeError::auth;
        o.pause = true;
    } else if (http == 404) {
        o.error = JudgeError::unknown_model;
        o.pause = true;
    } else if (unsupported) {
        // Every request of this judge would get the same answer: a config fix.
        const std::string param = pe.param.empty() ? quoted_param(pe.message) : pe.param;
        o.error = JudgeError::unsupported_parameter;
        o.pause = true;
        o.message = who + ": model '" + spec.model + "' refuses parameter '" + param +
                    "' (HTTP 400 " + kind + ": " + pe.message +
                    "); fix: " + unsupported_parameter_fix(spec, param);
    } else if (http == 429) {
        o.error = JudgeError::rate_limited;
        o.retry = true;
    } else if (http == 408 || http >= 500) {
        o.error = JudgeError::server_error;
        o.retry = true;
        o.breaker_failure = true;
    } else {
        o.error = JudgeError::bad_request;
    }
    if ((http == 429 || http == 503) && r.retry_after_s > 0) {
        // Capped: one answer must not stall the judge for hours.
        o.retry_after =
            milliseconds(std::min<std::int64_t>(r.retry_after_s * 1000, spec.max_retry_after_ms));
    }
    return o;
}

}  // namespace assay
