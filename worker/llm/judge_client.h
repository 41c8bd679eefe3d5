#pragma once
// JudgeClient: the transport to one LLM judge (one `judges:` entry). It sends
// rendered judge prompts to an OpenAI-compatible /chat/completions, the
// OpenAI /responses or an Anthropic /messages endpoint (llm/judge_wire.h) and
// reports, for each request, the reply text, token usage (reasoning and
// cached input tokens apart), cost, latency and attempts, or a typed error.
//
// Faults and limits are handled here, per judge:
//   - connect and total timeouts per attempt;
//   - retries with exponential back-off and full jitter; Retry-After on 429
//     and 503 is honoured, capped at max_retry_after_ms (so one provider
//     answer cannot stall a judge for hours), as a floor for that request's
//     delay, and holds back every request of this judge until it has passed;
//   - no retry on 400/401/403 and other 4xx; the provider's message is kept;
//   - a 400 unsupported_parameter / unsupported_value (a reasoning model
//     refusing max_tokens, temperature or a reasoning_effort) PAUSES the
//     judge with a message naming the parameter and the judge key to change;
//   - a reply cut off at the output budget (finish_reason length,
//     max_tokens, or status incomplete) is the error `truncated`, never
//     retried with the same budget: once with max_tokens_on_truncation when
//     that is set, else not at all;
//   - every attempt's usage and cost is added up, failed ones included (the
//     provider billed them);
//   - 401/402/403, insufficient_quota/billing bodies and 404 (unknown model or
//     wrong URL) PAUSE the judge: queued and later requests fail at once with
//     "paused: ..." and spend nothing, until resume();
//   - a circuit breaker after N consecutive failed attempts (transport,
//     timeout, 5xx, malformed): while open, requests fail with circuit_open;
//   - AIMD on 429: the request rate (and concurrency) is halved, then grows
//     back slowly with each success;
//   - max concurrency, a requests-per-minute and a tokens-per-minute token
//     bucket (prompt tokens estimated as bytes/4 + max_tokens). Every attempt
//     counts against every limit.
// The API key is read from the environment variable named in the spec, sent
// only in a request header, and never logged or put in a message (any echo
// of it by the provider is redacted).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace assay {

enum class JudgeProvider { openai, anthropic };
const char* to_string(JudgeProvider provider);
// "openai" | "anthropic"; invalid_argument naming the value otherwise.
Result<JudgeProvider> parse_judge_provider(std::string_view text);

// The wire format (one file each in llm/: wire_chat_completions.cpp,
// wire_responses.cpp, wire_anthropic_messages.cpp). OpenAI speaks
// chat_completions (default) or responses; Anthropic speaks messages.
enum class JudgeApi { chat_completions, responses, messages };
const char* to_string(JudgeApi api);
// "chat_completions" | "responses" | "messages"; invalid_argument otherwise.
Result<JudgeApi> parse_judge_api(std::string_view text);

// True for OpenAI model names of the reasoning families (o1, o3, o4-*, gpt-5*
// except gpt-5*-chat*): they take max_completion_tokens, only the default
// temperature, and spend part of the output budget on reasoning tokens.
// Used for defaults only (judge/judge_options.cpp); a pure function.
bool is_openai_reasoning_model(std::string_view model);

struct JudgePrice {
    double input_per_mtok = 0.0;   // USD per million input tokens (default 0)
    double output_per_mtok = 0.0;  // USD per million output tokens (default 0)
    // USD per million input tokens served from the provider's prompt cache
    // (default: input_per_mtok).
    std::optional<double> cached_input_per_mtok;
};

// One judge's configuration (a `judges:` entry; llm/judge_spec.h's JudgeSpec
// only names and references judges, this is what the transport needs).
// Every field states its default.
struct JudgeOptions {
    std::string name;  // required, e.g. "primary"
    JudgeProvider provider = JudgeProvider::openai;
    // Required. Up to the version path: "https://api.openai.com/v1",
    // "https://api.anthropic.com/v1"; "/chat/completions" or "/messages" is
    // appended. A trailing '/' is ignored.
    std::string base_url;
    // openai: chat_completions (default) or responses. anthropic: always
    // messages (the default value means it there too); see judge_api().
    JudgeApi api = JudgeApi::chat_completions;
    std::string model;  // required, a pinned version string
    // Name of the environment variable holding the API key (never the key
    // itself). Empty: no key is sent (local servers such as Ollama).
    std::string api_key_env;
    // Sent when set (0..2); nullopt: left out (the provider's default; the
    // only value reasoning models and Anthropic thinking accept).
    std::optional<double> temperature = 0.0;
    int max_tokens = 512;  // the output budget, reasoning/thinking tokens included
    // chat_completions only: the name the budget is sent under,
    // "max_completion_tokens" (default; OpenAI's reasoning models refuse the
    // other) or "max_tokens" (OpenAI-compatible servers that only know it).
    // responses sends max_output_tokens, messages max_tokens.
    std::string max_tokens_field = "max_completion_tokens";
    // OpenAI only: sent as reasoning_effort (chat) or reasoning.effort
    // (responses) when non-empty, verbatim (allowed values differ per model).
    std::string reasoning_effort;
    // Anthropic only: > 0 turns extended thinking on with this budget
    // (>= 1024 and < max_tokens); temperature is then left out.
    int thinking_budget_tokens = 0;
    // A truncated reply is asked once more with this larger budget; 0 (the
    // default): a truncated reply is the final error. Else > max_tokens.
    int max_tokens_on_truncation = 0;
    // false: a reply cut at the budget is returned as a success with its
    // finish_reason (generation of subject outputs, where a long answer is
    // an answer); true (default): it is the error `truncated`.
    bool truncation_is_error = true;
    int max_concurrency = 16;        // in-flight requests, >= 1
    int requests_per_minute = 0;     // 0 = unlimited
    int tokens_per_minute = 0;       // 0 = unlimited
    int timeout_ms = 30000;          // whole attempt, > 0
    int connect_timeout_ms = 10000;  // TCP/TLS connect, > 0
    int max_retries = 4;             // retries after the first attempt, >= 0
    // A Retry-After longer than this is cut to it (default 60 s); >= 1.
    int max_retry_after_ms = 60000;
    int backoff_base_ms = 500;        // first retry's jitter window
    int backoff_max_ms = 30000;       // cap of the jitter window
    int breaker_failures = 5;         // consecutive failures to open; 0 = off
    int breaker_cooldown_ms = 30000;  // open -> half-open after this
    // Extra request headers ("Name", "value"), e.g. OpenAI-Organization.
    std::vector<std::pair<std::string, std::string>> extra_headers;
    JudgePrice price;
    // OpenAI only: send response_format {"type": "json_object"} (default
    // true; some OpenAI-compatible servers reject it) when the request has
    // no reply schema or structured_output is off.
    bool json_response_format = true;
    // Structured output: a request's reply_schema (JudgeRequest) is sent as
    // chat completions response_format json_schema (strict), Responses
    // text.format json_schema (strict), or an Anthropic tool forced with
    // tool_choice whose input_schema is the schema (its input is the reply
    // text). false: the schema is not sent and the reply is free text.
    // judge/judge_options.cpp picks the default per provider.
    bool structured_output = true;
    std::string anthropic_version = "2023-06-01";  // anthropic-version header
    std::uint64_t rng_seed = 0;                    // back-off jitter; 0 = random
    std::size_t max_response_bytes = 8u << 20;     // larger replies are errors
};

// The wire format a judge speaks: messages for anthropic, spec.api for openai.
JudgeApi judge_api(const JudgeOptions& spec);

// Checks ranges and required fields; invalid_argument naming the judge and
// the field otherwise. Does not read the environment.
Status validate_judge_options(const JudgeOptions& spec);

struct JudgeRequest {
    std::string system;  // system message (e.g. judge_system_message())
    std::string user;    // the rendered rubric prompt
    std::string id;      // caller's id (trace id), echoed in the result and logs
    // chat_completions only: sent as `seed` when set (self-consistency
    // samples ask the same prompt with different seeds). Other APIs have no
    // seed: their samples differ by the model's own sampling.
    std::optional<std::int64_t> seed = std::nullopt;
    // The JSON schema (JSON text) the reply must follow, sent only when
    // JudgeOptions::structured_output is on; "" (the default): free text.
    // Strict-mode rules apply (every object: additionalProperties false and
    // every property required). reply_schema_name names it (the
    // json_schema / tool name, [A-Za-z0-9_-]{1,64}).
    std::string reply_schema = {};
    std::string reply_schema_name = {};
    // Asked on the client's thread just before each attempt is sent (the
    // first and every retry); when it returns false nothing more is sent and
    // the request ends with `withdrawn`. Empty (the default): always sent.
    // Must be thread-safe and must not block. The judge stage uses it to
    // send nothing for a claim whose lease may have run out (a stall).
    std::function<bool()> still_wanted = {};
};

enum class JudgeError {
    none,
    timeout,       // connect or total timeout (retried)
    transport,     // connection refused/reset, cut body, ... (retried)
    rate_limited,  // 429 (retried, AIMD cut)
    server_error,  // 5xx, 408, 529 (retried)
    malformed,     // 200 whose body is not a valid reply (retried)
    truncated,     // 200 cut off at the output budget ("judge_truncated")
    bad_request,   // 400 and other 4xx: not retried
    // 400 unsupported_parameter / unsupported_value: not retried, judge paused
    unsupported_parameter,
    auth,           // 401, 403: not retried, judge paused
    billing,        // 402, insufficient_quota / billing_error: judge paused
    unknown_model,  // 404: not retried, judge paused
    paused,         // the judge is paused: nothing was sent
    circuit_open,   // the breaker is open: nothing was sent
    cancelled,      // the client shut down first
    withdrawn,      // JudgeRequest::still_wanted said no before an attempt: not sent
};
const char* to_string(JudgeError error);

struct JudgeResult {
    std::string id;                       // JudgeRequest::id
    JudgeError error = JudgeError::none;  // none on success
    // OK on success; otherwise `unavailable` (retryable kinds, paused,
    // circuit_open, cancelled) or `invalid_argument` (bad_request, auth,
    // billing, unknown_model, unsupported_parameter, truncated) with a
    // message that names the judge, the HTTP status and the provider's own
    // message.
    Status status;
    std::string text;           // the assistant's reply text (success)
    std::string finish_reason;  // the last reply's finish/stop reason ("" when absent)
    // Usage and cost of EVERY attempt the provider answered with a reply
    // (a truncated one, one retried for a malformed body, the success), on
    // success and on failure alike: what the provider billed.
    std::int64_t input_tokens = 0;
    std::int64_t cached_input_tokens = 0;  // part of input_tokens
    std::int64_t output_tokens = 0;
    std::int64_t reasoning_tokens = 0;  // part of output_tokens
    double cost_usd = 0.0;              // usage x JudgeOptions::price
    double latency_ms = 0.0;            // the last attempt's wall time
    double total_ms = 0.0;              // submit() to completion, waits included
    int attempts = 0;                   // HTTP attempts made (0: nothing sent)
    int http_status = 0;                // the last attempt's status (0: none)
    // When the first attempt started (after the limits let it through);
    // default-constructed when nothing was sent.
    std::chrono::steady_clock::time_point started_at{};

    bool ok() const { return error == JudgeError::none; }
};

struct JudgeClientStatus {
    enum class State { active, paused, circuit_open, half_open };
    State state = State::active;
    std::string pause_reason;  // why it is paused (no secrets)
    double rate_factor = 1.0;  // AIMD factor applied to the limits, (0, 1]
    std::uint64_t submitted = 0;
    std::uint64_t attempts = 0;  // HTTP attempts started
    std::uint64_t retries = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t rate_limited = 0;  // 429 answers
    std::uint64_t connections = 0;   // new connections opened (the rest were reused)
    std::uint64_t in_flight = 0;
    std::uint64_t queued = 0;       // waiting for a slot, a token or a retry
    std::int64_t input_tokens = 0;  // every billed attempt, failed ones included
    std::int64_t cached_input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t reasoning_tokens = 0;
    double cost_usd = 0.0;
};
const char* to_string(JudgeClientStatus::State state);

// The transport seam: the judge scorers, the worker and the tests use it.
class JudgeClient {
public:
    using Callback = std::function<void(JudgeResult)>;

    virtual ~JudgeClient() = default;

    // Queues one request. `done` is called exactly once, on the client's
    // event-loop thread, with the result (success or typed error) — also
    // when the judge is paused or the breaker is open (nothing is sent then)
    // and with `cancelled` when the client is destroyed first. `done` must
    // not block; it may call submit(). Thread-safe.
    virtual void submit(JudgeRequest request, Callback done) = 0;

    // The same, as a future. Thread-safe.
    std::future<JudgeResult> submit_future(JudgeRequest request);

    // A snapshot of the state and counters. Thread-safe.
    virtual JudgeClientStatus status() const = 0;

    // Lifts a pause (after the key, billing or model was fixed). Thread-safe.
    virtual void resume() = 0;

    virtual const JudgeOptions& options() const = 0;
};

// Creates the libcurl-based client and starts its event-loop thread. Fails
// with invalid_argument when the spec is invalid or the API key environment
// variable is unset or empty (the message names the variable, never a
// value); with internal when libcurl cannot be initialised. Destroying the
// client cancels what is queued or in flight (callbacks get `cancelled`) and
// joins the thread.
Result<std::unique_ptr<JudgeClient>> make_judge_client(JudgeOptions spec);

}  // namespace assay
