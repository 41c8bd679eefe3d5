#pragma once
// FakeProvider: a scripted, in-process fake of the OpenAI chat-completions,
// OpenAI Responses and Anthropic messages APIs (with the parameter rules and
// output-budget behaviour of reasoning models and extended thinking,
// model_rules.h), served over real HTTP on 127.0.0.1 (port 0 by
// default, so tests never collide and never leave the machine). It is the
// only fake allowed in Assay's tests and benchmarks: everything on the client
// side (HTTP client, retries, parsing, storage) runs for real against it.
//
// What it answers is scripted with Behaviour values: a default behaviour plus
// an ordered queue of one-shot behaviours, each consumed by the next API
// request. Every API request is recorded (method, path, headers, body,
// arrival time, the status sent back) for assertions. The same script and
// records are reachable over HTTP under /_control/ so the standalone binary
// (main.cpp) can be driven from Python or shell; README.md has the shapes.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "structured_output.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace assay::testing {

// How a `malformed` reply is broken.
enum class MalformedKind {
    not_json,        // 200, Content-Type application/json, body is not JSON at all
    truncated_json,  // 200, the normal reply cut in half; Content-Length matches the cut body
    cut_connection,  // 200 and a Content-Length for the full body, then the connection is
                     // closed half-way through it (the client sees a transport error)
};

// Token counts reported in `usage`. OpenAI spells them prompt/completion
// tokens, Anthropic input/output tokens.
struct FakeUsage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
};

// One scripted answer. Build it with the factories below or from JSON
// (parse_behaviour). Plain value; copy freely.
struct Behaviour {
    enum class Kind { reply, error, hang, malformed };

    Kind kind = Kind::reply;
    int latency_ms = 0;  // slept on the handler thread before answering (every kind)

    // kind == reply
    std::optional<std::string> content;  // verbatim assistant text; default: a judge reply
                                         // {"reasoning": "...", "score": N}
    bool echo = false;                   // assistant text = the text of the request's last
                                         // user message (generation tests); not with content
    std::optional<int> score;            // fixed N; default: derived_score() of the body
    bool out_of_range = false;           // N = k_out_of_range_score, outside the scale
    std::string reasoning;               // default: names the request hash
    std::optional<FakeUsage> usage;      // default: ~bytes/4 of the prompt and the reply
    std::string finish_reason = "stop";  // OpenAI spelling; Anthropic gets end_turn for
                                         // "stop", max_tokens for "length", else verbatim
    // Reasoning (OpenAI reasoning models) or thinking (Anthropic with
    // thinking on) tokens spent before the reply; ignored for other models.
    // Default there: k_default_reasoning_tokens (thinking: at most its
    // budget). They count against the output budget: when they reach it the
    // reply has no text and finish_reason length (Responses: status
    // incomplete, max_output_tokens; Anthropic: max_tokens).
    std::optional<std::int64_t> reasoning_tokens;
    // Judge-noise simulation (kind == reply, no `content`, not out_of_range).
    // quality_marker (e.g. "quality="): when the request body contains it
    // followed by a decimal number, that number is the score's base instead
    // of the derived score (a simulation plants it in the judged output).
    std::string quality_marker;
    // > 0: Gaussian noise with this standard deviation is added to the base
    // (the fixed `score`, the marker's number or the derived score), drawn
    // from the server's seeded generator (FakeProviderOptions::noise_seed).
    // With a marker or noise the score is rounded and clamped to the scale.
    double score_noise_sd = 0.0;
    // Verdict faults of a free-text judge (structured_output.h): with
    // probability verdict_fault_rate (drawn from the seeded generator) a
    // generated verdict is broken by one of verdict_faults (uniformly). A
    // request with a strict json_schema never gets one (the model is held to
    // the schema); a forced Anthropic tool only the value faults. `content`
    // and out_of_range are sent whatever the request asked (a server that
    // ignores the schema).
    std::vector<VerdictFault> verdict_faults;
    double verdict_fault_rate = 0.0;

    // kind == error
    int status = 0;                    // 400, 401, 402, 403, 404, 429, 500, 503, ...
    std::optional<int> retry_after_s;  // sent as the Retry-After header when set
    bool quota = false;                // billing-style: OpenAI insufficient_quota,
                                       // Anthropic billing_error
    std::string error_type;            // overrides the type derived from status
    std::string error_code;            // overrides the OpenAI code derived from status
    std::string error_message;         // overrides the default message

    // kind == hang: never answers until the client gives up and then stop(),
    // reset() or release_hung() is called, or hang_ms (> 0) has passed; the late
    // answer is a 504 nobody is expected to read.
    int hang_ms = 0;

    // kind == malformed
    MalformedKind malformed = MalformedKind::not_json;

    static Behaviour reply_text(std::string text);
    static Behaviour reply_score(int fixed_score);
    static Behaviour reply_out_of_range();
    static Behaviour error(int http_status, std::optional<int> retry_after_s = std::nullopt);
    static Behaviour rate_limited(int retry_after_s);
    static Behaviour insufficient_quota(int http_status = 429);
    static Behaviour hang_forever();
    static Behaviour malformed_reply(MalformedKind how = MalformedKind::not_json);
    Behaviour& with_latency(int ms) {
        latency_ms = ms;
        return *this;
    }
    Behaviour& with_usage(std::int64_t input_tokens, std::int64_t output_tokens) {
        usage = FakeUsage{input_tokens, output_tokens};
        return *this;
    }
};

// Parses one behaviour from its JSON shape (README.md). Returns the behaviour,
// or nullopt with `error` naming the offending key (unknown keys, wrong types
// and conflicting kinds are errors). Pure function; thread-safe.
std::optional<Behaviour> parse_behaviour(const nlohmann::json& j, std::string& error);

// The score used when a reply has no fixed score: min + fnv1a64(body) % (max -
// min + 1), where fnv1a64 is 64-bit FNV-1a over the raw request body bytes.
// Identical request bodies always get identical scores. Pure; thread-safe.
std::uint64_t fnv1a64(std::string_view bytes);
int derived_score(std::string_view body, int score_min, int score_max);

// The score sent by out_of_range replies (the usual scale is 1..5).
inline constexpr int k_out_of_range_score = 9;

// Reasoning tokens a reasoning model spends unless scripted: more than a
// 512-token budget, as a real reasoning judge often does.
inline constexpr std::int64_t k_default_reasoning_tokens = 640;

struct FakeProviderOptions {
    // Bound on 127.0.0.1 only. 0 (the default) picks a free port.
    int port = 0;
    // What requests get when the queue is empty. Default: a judge reply with a
    // derived score, no latency.
    Behaviour default_behaviour;
    // Scale of derived scores (default 1..5, as rubrics/helpfulness.yaml).
    int score_min = 1;
    int score_max = 5;
    // Seed of the generator that draws score_noise_sd noise (script key
    // noise_seed; reset() re-seeds). The draws follow arrival order, so
    // concurrent requests may get them in any order.
    std::uint64_t noise_seed = 1;
    // Models accepted; any other model gets 404 model_not_found. Empty (the
    // default): every model is accepted.
    std::vector<std::string> known_models;
    // OpenAI models that follow the reasoning-model rules (model_rules.h).
    // Empty (the default): by name (o1, o3, o4-*, gpt-5* but not *-chat*).
    std::vector<std::string> reasoning_models;
    // When true (default), a request without a key (OpenAI: Authorization:
    // Bearer ...; Anthropic: x-api-key) gets 401, before any scripted behaviour
    // is consumed; Anthropic requests without anthropic-version get 400.
    bool require_api_key = true;
    // When non-empty, a key different from this one gets 401.
    std::string api_key;
    // httplib worker threads = maximum connections served at once. A hung or
    // sleeping request holds one. Default 128 (the judge benchmark runs 64).
    int threads = 128;
    // listen() backlog, raised from httplib's 5 so bursts of connections are
    // not dropped and retried after a second by the kernel.
    int listen_backlog = 1024;
    // Idle keep-alive connections are closed after this many seconds (stop()
    // closes them at once).
    int keep_alive_timeout_s = 5;
    // Requests beyond this many are counted but not recorded (memory bound).
    std::size_t max_recorded = 100000;
};

// One API request as received (control requests under /_control/ are not
// recorded).
struct RecordedRequest {
    std::uint64_t seq = 0;  // 1, 2, ... in arrival order since the last reset
    std::string method;
    std::string path;                                          // without the query string
    std::vector<std::pair<std::string, std::string>> headers;  // as the client sent them
    std::string body;
    std::chrono::system_clock::time_point arrival;
    int status = 0;         // status sent back; 0 while still being handled (or hung)
    std::string behaviour;  // "reply", "error", "hang", "malformed", "auth", "invalid",
                            // "unknown_model", "unknown_path"

    // The first header of that name (case-insensitive), or "" if absent.
    std::string header(std::string_view name) const;
    std::int64_t arrival_ms() const;
};

struct FakeCounters {
    std::uint64_t requests = 0;   // every API request (recorded or not)
    std::uint64_t openai = 0;     // POST /v1/chat/completions
    std::uint64_t responses = 0;  // POST /v1/responses
    std::uint64_t anthropic = 0;  // POST /v1/messages
    std::uint64_t replies = 0;    // 200 with a well-formed reply
    std::uint64_t errors = 0;     // 4xx/5xx answers (scripted or not)
    std::uint64_t hangs = 0;
    std::uint64_t malformed = 0;
    std::uint64_t in_flight = 0;      // being handled right now
    std::uint64_t max_in_flight = 0;  // high-water mark of in_flight
};

nlohmann::json to_json(const RecordedRequest& r);
nlohmann::json to_json(const FakeCounters& c);

// The fake server. All public methods are thread-safe and may be called while
// requests are being served. Not copyable or movable (handlers hold `this`).
class FakeProvider {
public:
    explicit FakeProvider(FakeProviderOptions options = {});
    ~FakeProvider();  // stop()s
    FakeProvider(const FakeProvider&) = delete;
    FakeProvider& operator=(const FakeProvider&) = delete;

    // Binds 127.0.0.1:options.port and serves on background threads. Returns
    // the bound port (> 0) once connections are accepted; if already running,
    // returns the current port. Returns 0 when binding fails (error() says why).
    int start();
    // Releases hung and sleeping requests, closes the listener, shuts down
    // every open connection (idle kept-alive ones included) and joins every
    // server thread; returns in milliseconds. Idempotent; a later start()
    // serves again, on a new port when options.port is 0 (scripts and records
    // are kept).
    void stop();

    int port() const;              // 0 when not running
    std::string base_url() const;  // "http://127.0.0.1:PORT"
    std::string error() const;     // why start() failed

    // Scripting.
    void set_default(Behaviour b);
    void enqueue(Behaviour b, int times = 1);
    void clear_queue();
    std::size_t queued() const;
    void set_known_models(std::vector<std::string> models);
    void set_score_scale(int score_min, int score_max);
    // Applies a script in the JSON shape of POST /_control/script. All-or-
    // nothing: on a bad script nothing changes and false is returned with
    // `error` naming the key.
    bool apply_script(const nlohmann::json& script, std::string& error);
    // Lets every currently hung request answer (504) and return.
    void release_hung();

    // Observation. Copies, safe to inspect while serving.
    std::vector<RecordedRequest> requests() const;
    FakeCounters counters() const;

    // Back to the construction-time script: clears the queue, records and
    // counters, restores the default behaviour, models and scale, and releases
    // hung requests. Requests in flight finish and are counted afresh.
    void reset();

private:
    enum class Wire { openai, responses, anthropic };
    struct Answer;

    void install_routes();
    void handle_api(Wire wire, const httplib::Request& req, httplib::Response& res);
    void handle_unknown(const httplib::Request& req, httplib::Response& res);
    std::size_t record(const httplib::Request& req);
    void finish(std::size_t slot, std::uint64_t generation, int status, const char* behaviour);
    // Sleeps up to `ms` (< 0: forever) or until stop(), or with
    // `release_on_hung` also until release_hung()/reset(). Never holds the lock
    // while waiting.
    void wait_for(int ms, bool release_on_hung);
    Answer make_reply(Wire wire, const Behaviour& b, const httplib::Request& req,
                      const nlohmann::json& body, const StructuredRequest& structured = {});

    const FakeProviderOptions m_options;

    mutable std::mutex m_lifecycle;  // serialises start()/stop()
    std::unique_ptr<httplib::Server> m_server;
    std::thread m_listener;
    std::string m_error;

    mutable std::mutex m_mutex;  // guards everything below
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::uint64_t m_release_generation = 0;  // bumped by release_hung()/reset()
    std::uint64_t m_record_generation = 0;   // bumped by reset()
    int m_port = 0;
    Behaviour m_default;
    std::deque<Behaviour> m_queue;
    std::vector<std::string> m_known_models;
    std::vector<std::string> m_reasoning_models;
    int m_score_min;
    int m_score_max;
    std::mt19937_64 m_noise_rng;
    std::vector<RecordedRequest> m_requests;
    FakeCounters m_counters;
    std::uint64_t m_seq = 0;
    std::uint64_t m_next_id = 0;
};

}  // namespace assay::testing
