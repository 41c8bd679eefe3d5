#pragma once
// Error classification of one HTTP attempt of a judge request: what the
// provider's answer (or the transport failure) means for the request —
// success, retry (and after how long), pause the judge, count towards the
// circuit breaker — and the message naming the judge, the HTTP status, the
// provider's own words and, where Assay knows it, the fix. Independent of
// the HTTP library. Pure functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm/judge_client.h"
#include "llm/judge_wire.h"

namespace assay {

// What came back from one attempt, as the transport saw it.
struct AttemptResponse {
    enum class Failure { none, timeout, transport, too_large };
    Failure failure = Failure::none;
    std::string detail;  // the transport's error text (failure != none)
    int http_status = 0;
    std::string_view body;
    std::int64_t retry_after_s = 0;  // the Retry-After header, 0 when absent
    int max_tokens = 0;              // the output budget this attempt asked for
};

// What one attempt came to.
struct AttemptOutcome {
    JudgeError error = JudgeError::none;
    std::string message;
    int http_status = 0;
    bool retry = false;            // worth another attempt with the same request
    bool pause = false;            // pause the judge
    bool breaker_failure = false;  // counts towards the circuit breaker
    std::optional<std::chrono::milliseconds> retry_after;
    // The parsed reply of a 2xx (success or truncated): its usage was billed.
    std::optional<JudgeReply> reply;
};

AttemptOutcome classify_attempt(const JudgeOptions& spec, const AttemptResponse& response);

// The judge key to change for a parameter a model refused ("max_tokens",
// "temperature", "reasoning_effort", ...), as one sentence. Pure.
std::string unsupported_parameter_fix(const JudgeOptions& spec, std::string_view param);

}  // namespace assay
