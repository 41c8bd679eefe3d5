// FakeProvider: see fake_provider.h for the contract and README.md for the
// wire and scripting shapes.
#include "fake_provider.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <limits>
#include <set>

#include "model_rules.h"

namespace assay::testing {

namespace {

using nlohmann::json;

constexpr std::size_t k_not_recorded = std::numeric_limits<std::size_t>::max();
constexpr std::size_t k_max_body_bytes = 64u << 20;
constexpr const char* k_json = "application/json";
// Requests served on one kept-alive connection before it is closed (httplib's
// default is 5, which would make benchmark clients reconnect constantly).
constexpr std::size_t k_keep_alive_max_requests = 1000;

// httplib adds these pseudo-headers to every request; they were not sent.
bool is_httplib_pseudo_header(const std::string& name) {
    return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
           name == "LOCAL_PORT";
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

struct ErrorShape {
    std::string type;
    std::string code;  // OpenAI only; "" is sent as null
    std::string message;
};

ErrorShape default_error(bool anthropic, int status, bool quota) {
    if (quota) {
        if (anthropic) {
            return {"billing_error", "",
                    "Your credit balance is too low to access the Anthropic API."};
        }
        return {"insufficient_quota", "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details."};
    }
    switch (status) {
        case 400:
            return {"invalid_request_error", "", "Invalid request (scripted fault)."};
        case 401:
            return {anthropic ? "authentication_error" : "invalid_request_error", "invalid_api_key",
                    "Incorrect API key provided."};
        case 402:
            return {anthropic ? "billing_error" : "insufficient_quota", "insufficient_quota",
                    "Payment required: your credit balance is too low."};
        case 403:
            return {anthropic ? "permission_error" : "invalid_request_error", "permission_denied",
                    "Your API key does not have permission to use this resource."};
        case 404:
            return {anthropic ? "not_found_error" : "invalid_request_error", "model_not_found",
                    "The model does not exist or you do not have access to it."};
        case 413:
            return {anthropic ? "request_too_large" : "invalid_request_error", "request_too_large",
                    "Request exceeds the maximum allowed number of bytes."};
        case 429:
            return {anthropic ? "rate_limit_error" : "requests", "rate_limit_exceeded",
                    "Rate limit reached for requests. Please try again later."};
        case 500:
            return {anthropic ? "api_error" : "server_error", "",
                    "The server had an error while processing your request."};
        case 503:
        case 529:
            return {anthropic ? "overloaded_error" : "server_error", "service_unavailable",
                    "The engine is currently overloaded, please try again later."};
        case 504:
            return {anthropic ? "timeout_error" : "server_error", "timeout",
                    "The request was released after hanging."};
        default:
            break;
    }
    if (status >= 500) {
        return {anthropic ? "api_error" : "server_error", "", "Scripted server error."};
    }
    return {"invalid_request_error", "", "Scripted client error."};
}

// `param`: OpenAI's error.param, the refused request field ("" is sent as null).
std::string error_body(bool anthropic, const ErrorShape& e, const std::string& param_name = "") {
    if (anthropic) {
        return json{{"type", "error"}, {"error", {{"type", e.type}, {"message", e.message}}}}
            .dump();
    }
    json code = e.code.empty() ? json(nullptr) : json(e.code);
    json param = param_name.empty() ? json(nullptr) : json(param_name);
    return json{
        {"error", {{"message", e.message}, {"type", e.type}, {"param", param}, {"code", code}}}}
        .dump();
}

// Concatenated text of a message `content` (a string or a list of parts).
void add_text(const json& content, std::size_t& bytes) {
    if (content.is_string()) {
        bytes += content.get_ref<const std::string&>().size();
    } else if (content.is_array()) {
        for (const auto& part : content) {
            if (part.is_object()) {
                auto it = part.find("text");
                if (it != part.end() && it->is_string()) {
                    bytes += it->get_ref<const std::string&>().size();
                }
            }
        }
    }
}

// The text of the last message with role "user" ("" when there is none).
// The messages of a request: `messages`, or the Responses API's `input`.
const json* message_list(const json& body) {
    if (!body.is_object()) {
        return nullptr;
    }
    for (const char* key : {"messages", "input"}) {
        if (body.contains(key) && body.at(key).is_array()) {
            return &body.at(key);
        }
    }
    return nullptr;
}

std::string last_user_text(const json& body) {
    std::string out;
    if (body.is_object() && body.contains("input") && body.at("input").is_string()) {
        return body.at("input").get<std::string>();  // Responses: input as one string
    }
    const json* messages = message_list(body);
    if (messages == nullptr) {
        return out;
    }
    for (const auto& m : *messages) {
        if (!m.is_object() || !m.contains("role") || m.at("role") != "user" ||
            !m.contains("content")) {
            continue;
        }
        const json& c = m.at("content");
        out.clear();
        if (c.is_string()) {
            out = c.get<std::string>();
        } else if (c.is_array()) {
            for (const auto& part : c) {
                if (part.is_object() && part.contains("text") && part.at("text").is_string()) {
                    out += part.at("text").get<std::string>();
                }
            }
        }
    }
    return out;
}

std::int64_t estimate_tokens(std::size_t bytes) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>((bytes + 3) / 4));
}

std::int64_t estimate_prompt_tokens(const json& body) {
    std::size_t bytes = 0;
    if (!body.is_object()) {
        return 1;
    }
    for (const char* key : {"system", "instructions"}) {
        if (auto it = body.find(key); it != body.end()) {
            add_text(*it, bytes);
        }
    }
    if (auto it = body.find("input"); it != body.end() && it->is_string()) {
        add_text(*it, bytes);
    }
    if (const json* messages = message_list(body)) {
        for (const auto& m : *messages) {
            if (m.is_object()) {
                if (auto c = m.find("content"); c != m.end()) {
                    add_text(*c, bytes);
                }
            }
        }
    }
    return estimate_tokens(bytes);
}

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// The decimal number right after the first `marker` in `body`, if any.
std::optional<double> marked_quality(std::string_view body, const std::string& marker) {
    if (marker.empty()) {
        return std::nullopt;
    }
    const auto at = body.find(marker);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string tail(body.substr(at + marker.size(), 32));
    char* end = nullptr;
    const double v = std::strtod(tail.c_str(), &end);
    if (end == tail.c_str() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

// --- JSON → Behaviour ---------------------------------------------------------

bool get_int(const json& j, const std::string& key, const std::string& where, int min_value,
             int& out, std::string& error) {
    const auto& v = j.at(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < min_value ||
        v.get<std::int64_t>() > std::numeric_limits<int>::max()) {
        error = where + key + ": expected an integer >= " + std::to_string(min_value) + ", got " +
                v.dump();
        return false;
    }
    out = v.get<int>();
    return true;
}

bool get_string(const json& j, const std::string& key, const std::string& where, std::string& out,
                std::string& error) {
    const auto& v = j.at(key);
    if (!v.is_string()) {
        error = where + key + ": expected a string, got " + v.dump();
        return false;
    }
    out = v.get<std::string>();
    return true;
}

bool get_bool(const json& j, const std::string& key, const std::string& where, bool& out,
              std::string& error) {
    const auto& v = j.at(key);
    if (!v.is_boolean()) {
        error = where + key + ": expected true or false, got " + v.dump();
        return false;
    }
    out = v.get<bool>();
    return true;
}

// A number from `lo` to `hi` ("score_noise_sd: expected a number from 0 to 100, got -1").
bool get_number(const json& j, const std::string& key, const std::string& where, int lo, int hi,
                double& out, std::string& error) {
    const auto& v = j.at(key);
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
        error = where + key + ": expected a number from " + std::to_string(lo) + " to " +
                std::to_string(hi) + ", got " + v.dump();
        return false;
    }
    out = v.get<double>();
    return true;
}

// Parses one behaviour; `where` prefixes error messages ("queue[2]."). When
// `repeat` is non-null the key "repeat" is accepted and stored there.
std::optional<Behaviour> parse_entry(const json& j, const std::string& where, int* repeat,
                                     std::string& error) {
    if (!j.is_object()) {
        error = (where.empty() ? std::string("behaviour") : where.substr(0, where.size() - 1)) +
                ": expected an object, got " + j.dump();
        return std::nullopt;
    }
    static const std::set<std::string> k_keys = {"latency_ms",     "content",
                                                 "score",          "out_of_range",
                                                 "reasoning",      "usage",
                                                 "finish_reason",  "status",
                                                 "retry_after_s",  "quota",
                                                 "error_type",     "error_code",
                                                 "error_message",  "hang",
                                                 "hang_ms",        "malformed",
                                                 "quality_marker", "score_noise_sd",
                                                 "echo",           "reasoning_tokens",
                                                 "verdict_faults", "verdict_fault_rate"};
    Behaviour b;
    for (const auto& [key, value] : j.items()) {
        if (key == "repeat" && repeat != nullptr) {
            if (!get_int(j, key, where, 1, *repeat, error)) {
                return std::nullopt;
            }
            continue;
        }
        if (k_keys.count(key) == 0) {
            error = where + key + ": unknown key";
            return std::nullopt;
        }
        (void)value;
    }
    bool hang = false;
    bool has_status = false;
    bool has_malformed = false;
    if (j.contains("latency_ms") && !get_int(j, "latency_ms", where, 0, b.latency_ms, error)) {
        return std::nullopt;
    }
    if (j.contains("content")) {
        std::string s;
        if (!get_string(j, "content", where, s, error)) {
            return std::nullopt;
        }
        b.content = std::move(s);
    }
    if (j.contains("echo") && !get_bool(j, "echo", where, b.echo, error)) {
        return std::nullopt;
    }
    if (b.echo && b.content) {
        error = where + "echo: not with content";
        return std::nullopt;
    }
    if (j.contains("score")) {
        int s = 0;
        if (!get_int(j, "score", where, std::numeric_limits<int>::min(), s, error)) {
            return std::nullopt;
        }
        b.score = s;
    }
    if (j.contains("out_of_range") && !get_bool(j, "out_of_range", where, b.out_of_range, error)) {
        return std::nullopt;
    }
    if (j.contains("reasoning") && !get_string(j, "reasoning", where, b.reasoning, error)) {
        return std::nullopt;
    }
    if (j.contains("quality_marker") &&
        !get_string(j, "quality_marker", where, b.quality_marker, error)) {
        return std::nullopt;
    }
    if (j.contains("score_noise_sd") &&
        !get_number(j, "score_noise_sd", where, 0, 100, b.score_noise_sd, error)) {
        return std::nullopt;
    }
    if (j.contains("verdict_faults")) {
        const auto& v = j.at("verdict_faults");
        if (v == "all") {
            b.verdict_faults = all_verdict_faults();
        } else if (v.is_array()) {
            for (const auto& name : v) {
                auto f =
                    name.is_string() ? parse_verdict_fault(name.get<std::string>()) : std::nullopt;
                if (!f) {
                    error = where + "verdict_faults: unknown fault " + name.dump() +
                            " (prose, cut_json, out_of_scale, wrong_key, score_as_text, "
                            "trailing_text)";
                    return std::nullopt;
                }
                b.verdict_faults.push_back(*f);
            }
        } else {
            error = where + "verdict_faults: expected a list of faults or \"all\", got " + v.dump();
            return std::nullopt;
        }
    }
    if (j.contains("verdict_fault_rate") &&
        !get_number(j, "verdict_fault_rate", where, 0, 1, b.verdict_fault_rate, error)) {
        return std::nullopt;
    }
    if (j.contains("reasoning_tokens")) {
        int n = 0;
        if (!get_int(j, "reasoning_tokens", where, 0, n, error)) {
            return std::nullopt;
        }
        b.reasoning_tokens = n;
    }
    if (j.contains("finish_reason") &&
        !get_string(j, "finish_reason", where, b.finish_reason, error)) {
        return std::nullopt;
    }
    if (j.contains("usage")) {
        const auto& u = j.at("usage");
        if (!u.is_object()) {
            error = where + "usage: expected an object, got " + u.dump();
            return std::nullopt;
        }
        FakeUsage usage;
        for (const auto& [key, value] : u.items()) {
            if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
                error = where + "usage." + key + ": expected a non-negative integer, got " +
                        value.dump();
                return std::nullopt;
            }
            if (key == "input_tokens" || key == "prompt_tokens") {
                usage.input_tokens = value.get<std::int64_t>();
            } else if (key == "output_tokens" || key == "completion_tokens") {
                usage.output_tokens = value.get<std::int64_t>();
            } else {
                error = where + "usage." + key +
                        ": unknown key (input_tokens|prompt_tokens, output_tokens|"
                        "completion_tokens)";
                return std::nullopt;
            }
        }
        b.usage = usage;
    }
    if (j.contains("status")) {
        if (!get_int(j, "status", where, 100, b.status, error)) {
            return std::nullopt;
        }
        if (b.status > 599) {
            error = where + "status: expected an HTTP status 100-599, got " + j.at("status").dump();
            return std::nullopt;
        }
        has_status = b.status != 200;
        if (!has_status) {
            b.status = 0;
        }
    }
    if (j.contains("retry_after_s")) {
        int s = 0;
        if (!get_int(j, "retry_after_s", where, 0, s, error)) {
            return std::nullopt;
        }
        b.retry_after_s = s;
    }
    if (j.contains("quota") && !get_bool(j, "quota", where, b.quota, error)) {
        return std::nullopt;
    }
    if (j.contains("error_type") && !get_string(j, "error_type", where, b.error_type, error)) {
        return std::nullopt;
    }
    if (j.contains("error_code") && !get_string(j, "error_code", where, b.error_code, error)) {
        return std::nullopt;
    }
    if (j.contains("error_message") &&
        !get_string(j, "error_message", where, b.error_message, error)) {
        return std::nullopt;
    }
    if (j.contains("hang") && !get_bool(j, "hang", where, hang, error)) {
        return std::nullopt;
    }
    if (j.contains("hang_ms")) {
        if (!get_int(j, "hang_ms", where, 0, b.hang_ms, error)) {
            return std::nullopt;
        }
        hang = true;
    }
    if (j.contains("malformed")) {
        std::string m;
        if (!get_string(j, "malformed", where, m, error)) {
            return std::nullopt;
        }
        if (m == "not_json") {
            b.malformed = MalformedKind::not_json;
        } else if (m == "truncated_json") {
            b.malformed = MalformedKind::truncated_json;
        } else if (m == "cut_connection") {
            b.malformed = MalformedKind::cut_connection;
        } else {
            error = where +
                    "malformed: expected not_json, truncated_json or cut_connection, got '" + m +
                    "'";
            return std::nullopt;
        }
        has_malformed = true;
    }
    if (int(hang) + int(has_status) + int(has_malformed) > 1) {
        error = (where.empty() ? std::string("behaviour") : where.substr(0, where.size() - 1)) +
                ": at most one of hang/hang_ms, status (other than 200) and malformed";
        return std::nullopt;
    }
    if (b.quota && !has_status) {
        error = where + "quota: needs a status (402 or 429)";
        return std::nullopt;
    }
    if (hang) {
        b.kind = Behaviour::Kind::hang;
    } else if (has_status) {
        b.kind = Behaviour::Kind::error;
    } else if (has_malformed) {
        b.kind = Behaviour::Kind::malformed;
    }
    return b;
}

bool parse_list(const json& j, const std::string& key, std::vector<Behaviour>& out,
                std::string& error) {
    const auto& list = j.at(key);
    if (!list.is_array()) {
        error = key + ": expected a list of behaviours, got " + list.dump();
        return false;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        int repeat = 1;
        auto b = parse_entry(list[i], key + "[" + std::to_string(i) + "].", &repeat, error);
        if (!b) {
            return false;
        }
        for (int r = 0; r < repeat; ++r) {
            out.push_back(*b);
        }
    }
    return true;
}

// Shuts down (without closing: httplib owns them) every accepted connection of
// this process whose local end is 127.0.0.1:port. httplib 0.11 keeps an idle
// kept-alive connection's worker polling for keep_alive_timeout_s after
// Server::stop(); shutting the socket down ends that wait at once. Linux only
// (/proc/self/fd); elsewhere stop() just waits for the keep-alive timeout.
void shutdown_accepted_connections(int port) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return;
    }
    const int own = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == own) {
            continue;
        }
        sockaddr_in local{};
        socklen_t len = sizeof local;
        if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
            local.sin_family != AF_INET || ntohs(local.sin_port) != port) {
            continue;
        }
        sockaddr_in peer{};
        len = sizeof peer;
        if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
            ::shutdown(static_cast<int>(fd), SHUT_RDWR);
        }
    }
    ::closedir(dir);
}

// httplib::Server with the listen backlog raised above the compiled-in 5.
class BacklogServer : public httplib::Server {
public:
    bool set_backlog(int backlog) {
        return ::listen(static_cast<int>(svr_sock_.load()), backlog) == 0;
    }
};

}  // namespace

// --- Behaviour factories ------------------------------------------------------

Behaviour Behaviour::reply_text(std::string text) {
    Behaviour b;
    b.content = std::move(text);
    return b;
}

Behaviour Behaviour::reply_score(int fixed_score) {
    Behaviour b;
    b.score = fixed_score;
    return b;
}

Behaviour Behaviour::reply_out_of_range() {
    Behaviour b;
    b.out_of_range = true;
    return b;
}

Behaviour Behaviour::error(int http_status, std::optional<int> retry_after) {
    Behaviour b;
    b.kind = Kind::error;
    b.status = http_status;
    b.retry_after_s = retry_after;
    return b;
}

Behaviour Behaviour::rate_limited(int retry_after) { return error(429, retry_after); }

Behaviour Behaviour::insufficient_quota(int http_status) {
    Behaviour b = error(http_status);
    b.quota = true;
    return b;
}

Behaviour Behaviour::hang_forever() {
    Behaviour b;
    b.kind = Kind::hang;
    return b;
}

Behaviour Behaviour::malformed_reply(MalformedKind how) {
    Behaviour b;
    b.kind = Kind::malformed;
    b.malformed = how;
    return b;
}

std::optional<Behaviour> parse_behaviour(const nlohmann::json& j, std::string& error) {
    return parse_entry(j, "", nullptr, error);
}

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

int derived_score(std::string_view body, int score_min, int score_max) {
    if (score_max <= score_min) {
        return score_min;
    }
    auto span = static_cast<std::uint64_t>(score_max - score_min) + 1;
    return score_min + static_cast<int>(fnv1a64(body) % span);
}

// --- records ------------------------------------------------------------------

std::string RecordedRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return "";
}

std::int64_t RecordedRequest::arrival_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(arrival.time_since_epoch())
        .count();
}

nlohmann::json to_json(const RecordedRequest& r) {
    json headers = json::object();
    for (const auto& [k, v] : r.headers) {
        if (headers.contains(k)) {
            headers[k] = headers[k].get<std::string>() + ", " + v;
        } else {
            headers[k] = v;
        }
    }
    return json{{"seq", r.seq},       {"method", r.method},
                {"path", r.path},     {"headers", std::move(headers)},
                {"body", r.body},     {"arrival_ms", r.arrival_ms()},
                {"status", r.status}, {"behaviour", r.behaviour}};
}

nlohmann::json to_json(const FakeCounters& c) {
    return json{{"requests", c.requests},   {"openai", c.openai},
                {"anthropic", c.anthropic}, {"responses", c.responses},
                {"replies", c.replies},     {"errors", c.errors},
                {"hangs", c.hangs},         {"malformed", c.malformed},
                {"in_flight", c.in_flight}, {"max_in_flight", c.max_in_flight}};
}

// --- FakeProvider -------------------------------------------------------------

struct FakeProvider::Answer {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool cut_connection = false;  // send Content-Length for body, then only half of it
};

FakeProvider::FakeProvider(FakeProviderOptions options)
    : m_options(std::move(options)),
      m_default(m_options.default_behaviour),
      m_known_models(m_options.known_models),
      m_reasoning_models(m_options.reasoning_models),
      m_score_min(m_options.score_min),
      m_score_max(m_options.score_max),
      m_noise_rng(m_options.noise_seed) {}

FakeProvider::~FakeProvider() { stop(); }

int FakeProvider::start() {
    std::lock_guard<std::mutex> life(m_lifecycle);
    if (m_server) {
        return port();
    }
    auto server = std::make_unique<BacklogServer>();
    const auto threads = static_cast<std::size_t>(std::max(1, m_options.threads));
    server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server->set_keep_alive_timeout(std::max(0, m_options.keep_alive_timeout_s));
    server->set_keep_alive_max_count(k_keep_alive_max_requests);
    server->set_payload_max_length(k_max_body_bytes);
    server->set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which would let a second server
    // share a fixed port and steal half its connections: only SO_REUSEADDR.
    server->set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    m_server = std::move(server);
    install_routes();

    auto* srv = static_cast<BacklogServer*>(m_server.get());
    int bound = 0;
    if (m_options.port == 0) {
        bound = srv->bind_to_any_port("127.0.0.1");
    } else {
        bound = srv->bind_to_port("127.0.0.1", m_options.port) ? m_options.port : -1;
    }
    if (bound <= 0) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_error = "cannot bind 127.0.0.1:" + std::to_string(m_options.port);
        m_server.reset();
        return 0;
    }
    srv->set_backlog(std::max(5, m_options.listen_backlog));
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_port = bound;
        m_error.clear();
    }
    m_listener = std::thread([srv] { srv->listen_after_bind(); });
    // stop() is a no-op until the accept loop runs: wait for it.
    while (!srv->is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return bound;
}

void FakeProvider::stop() {
    std::lock_guard<std::mutex> life(m_lifecycle);
    if (!m_server) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_server->stop();
    shutdown_accepted_connections(port());
    if (m_listener.joinable()) {
        m_listener.join();  // returns after httplib joined its worker threads
    }
    m_server.reset();
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = false;
    m_port = 0;
}

int FakeProvider::port() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_port;
}

std::string FakeProvider::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string FakeProvider::error() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_error;
}

void FakeProvider::set_default(Behaviour b) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_default = std::move(b);
}

void FakeProvider::enqueue(Behaviour b, int times) {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (int i = 0; i < times; ++i) {
        m_queue.push_back(b);
    }
}

void FakeProvider::clear_queue() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_queue.clear();
}

std::size_t FakeProvider::queued() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_queue.size();
}

void FakeProvider::set_known_models(std::vector<std::string> models) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_known_models = std::move(models);
}

void FakeProvider::set_score_scale(int score_min, int score_max) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_score_min = score_min;
    m_score_max = score_max;
}

bool FakeProvider::apply_script(const nlohmann::json& script, std::string& error) {
    if (!script.is_object()) {
        error = "script: expected an object, got " + script.dump();
        return false;
    }
    static const std::set<std::string> k_keys = {"default",    "queue",           "append",
                                                 "models",     "score_min",       "score_max",
                                                 "noise_seed", "reasoning_models"};
    for (const auto& [key, value] : script.items()) {
        (void)value;
        if (k_keys.count(key) == 0) {
            error = key +
                    ": unknown key (default, queue, append, models, score_min, score_max, "
                    "noise_seed, reasoning_models)";
            return false;
        }
    }
    std::optional<Behaviour> def;
    if (script.contains("default")) {
        def = parse_entry(script.at("default"), "default.", nullptr, error);
        if (!def) {
            return false;
        }
    }
    std::vector<Behaviour> queue;
    std::vector<Behaviour> append;
    if (script.contains("queue") && !parse_list(script, "queue", queue, error)) {
        return false;
    }
    if (script.contains("append") && !parse_list(script, "append", append, error)) {
        return false;
    }
    std::optional<std::vector<std::string>> models;
    std::optional<std::vector<std::string>> reasoning_models;
    for (const char* key : {"models", "reasoning_models"}) {
        if (!script.contains(key)) {
            continue;
        }
        const auto& m = script.at(key);
        auto& target = std::string(key) == "models" ? models : reasoning_models;
        bool ok = m.is_array();
        if (ok) {
            target.emplace();
            for (const auto& name : m) {
                ok = ok && name.is_string();
                if (ok) {
                    target->push_back(name.get<std::string>());
                }
            }
        }
        if (!ok) {
            error = std::string(key) + ": expected a list of model names, got " + m.dump();
            return false;
        }
    }
    std::optional<int> smin;
    std::optional<int> smax;
    int v = 0;
    if (script.contains("score_min")) {
        if (!get_int(script, "score_min", "", std::numeric_limits<int>::min(), v, error)) {
            return false;
        }
        smin = v;
    }
    if (script.contains("score_max")) {
        if (!get_int(script, "score_max", "", std::numeric_limits<int>::min(), v, error)) {
            return false;
        }
        smax = v;
    }
    std::optional<std::uint64_t> seed;
    if (script.contains("noise_seed")) {
        const auto& n = script.at("noise_seed");
        if (!n.is_number_unsigned()) {
            error = "noise_seed: expected an integer >= 0, got " + n.dump();
            return false;
        }
        seed = n.get<std::uint64_t>();
    }

    std::lock_guard<std::mutex> lock(m_mutex);
    if (smin.value_or(m_score_min) > smax.value_or(m_score_max)) {
        error = "score_min: must not exceed score_max";
        return false;
    }
    if (def) {
        m_default = std::move(*def);
    }
    if (script.contains("queue")) {
        m_queue.assign(queue.begin(), queue.end());
    }
    m_queue.insert(m_queue.end(), append.begin(), append.end());
    if (models) {
        m_known_models = std::move(*models);
    }
    if (reasoning_models) {
        m_reasoning_models = std::move(*reasoning_models);
    }
    m_score_min = smin.value_or(m_score_min);
    m_score_max = smax.value_or(m_score_max);
    if (seed) {
        m_noise_rng.seed(*seed);
    }
    return true;
}

void FakeProvider::release_hung() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_release_generation;
    }
    m_wake.notify_all();
}

std::vector<RecordedRequest> FakeProvider::requests() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests;
}

FakeCounters FakeProvider::counters() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_counters;
}

void FakeProvider::reset() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_default = m_options.default_behaviour;
        m_queue.clear();
        m_known_models = m_options.known_models;
        m_reasoning_models = m_options.reasoning_models;
        m_score_min = m_options.score_min;
        m_score_max = m_options.score_max;
        m_noise_rng.seed(m_options.noise_seed);
        m_requests.clear();
        const auto in_flight = m_counters.in_flight;
        m_counters = FakeCounters{};
        m_counters.in_flight = in_flight;
        m_counters.max_in_flight = in_flight;
        m_seq = 0;
        ++m_record_generation;
        ++m_release_generation;
    }
    m_wake.notify_all();
}

void FakeProvider::wait_for(int ms, bool release_on_hung) {
    std::unique_lock<std::mutex> lock(m_mutex);
    const auto generation = m_release_generation;
    auto done = [&] {
        return m_stopping || (release_on_hung && m_release_generation != generation);
    };
    if (ms < 0) {
        m_wake.wait(lock, done);
    } else {
        m_wake.wait_for(lock, std::chrono::milliseconds(ms), done);
    }
}

std::size_t FakeProvider::record(const httplib::Request& req) {
    // Caller holds m_mutex.
    ++m_counters.requests;
    if (m_requests.size() >= m_options.max_recorded) {
        return k_not_recorded;
    }
    RecordedRequest r;
    r.seq = ++m_seq;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.headers) {
        if (!is_httplib_pseudo_header(k)) {
            r.headers.emplace_back(k, v);
        }
    }
    r.body = req.body;
    r.arrival = std::chrono::system_clock::now();
    m_requests.push_back(std::move(r));
    return m_requests.size() - 1;
}

void FakeProvider::finish(std::size_t slot, std::uint64_t generation, int status,
                          const char* behaviour) {
    // Caller holds m_mutex.
    if (generation != m_record_generation) {
        return;  // reset() since arrival: the request is forgotten
    }
    if (status >= 400) {
        ++m_counters.errors;
    }
    if (slot != k_not_recorded && slot < m_requests.size()) {
        m_requests[slot].status = status;
        m_requests[slot].behaviour = behaviour;
    }
}

void FakeProvider::install_routes() {
    auto& s = *m_server;
    auto send_json = [](httplib::Response& res, int status, const json& j) {
        res.status = status;
        res.set_content(j.dump(), k_json);
    };

    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                if (ep) {
                    std::rethrow_exception(ep);
                }
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            res.status = 500;
            res.set_content(json{{"error",
                                  {{"message", "fake provider bug: " + what},
                                   {"type", "server_error"},
                                   {"code", nullptr}}}}
                                .dump(),
                            k_json);
        });

    s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
        handle_api(Wire::openai, req, res);
    });
    s.Post("/v1/responses", [this](const httplib::Request& req, httplib::Response& res) {
        handle_api(Wire::responses, req, res);
    });
    s.Post("/v1/messages", [this](const httplib::Request& req, httplib::Response& res) {
        handle_api(Wire::anthropic, req, res);
    });

    s.Post("/_control/script",
           [this, send_json](const httplib::Request& req, httplib::Response& res) {
               json script;
               try {
                   script = json::parse(req.body);
               } catch (const json::parse_error& e) {
                   send_json(res, 400,
                             json{{"error", std::string("script is not valid JSON: ") + e.what()}});
                   return;
               }
               std::string error;
               if (!apply_script(script, error)) {
                   send_json(res, 400, json{{"error", error}});
                   return;
               }
               send_json(res, 200, json{{"ok", true}, {"queued", queued()}});
           });
    s.Get("/_control/requests", [this, send_json](const httplib::Request&, httplib::Response& res) {
        json list = json::array();
        for (const auto& r : requests()) {
            list.push_back(to_json(r));
        }
        send_json(res, 200, json{{"requests", std::move(list)}, {"counters", to_json(counters())}});
    });
    s.Get("/_control/counters", [this, send_json](const httplib::Request&, httplib::Response& res) {
        auto c = to_json(counters());
        c["queued"] = queued();
        send_json(res, 200, c);
    });
    s.Post("/_control/reset", [this, send_json](const httplib::Request&, httplib::Response& res) {
        reset();
        send_json(res, 200, json{{"ok", true}});
    });
    s.Post("/_control/release", [this, send_json](const httplib::Request&, httplib::Response& res) {
        release_hung();
        send_json(res, 200, json{{"ok", true}});
    });
    s.Get("/_control/health", [send_json](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, json{{"ok", true}});
    });

    auto unknown = [this](const httplib::Request& req, httplib::Response& res) {
        handle_unknown(req, res);
    };
    s.Get(".*", unknown);
    s.Post(".*", unknown);
    s.Put(".*", unknown);
    s.Patch(".*", unknown);
    s.Delete(".*", unknown);
}

void FakeProvider::handle_unknown(const httplib::Request& req, httplib::Response& res) {
    res.status = 404;
    if (req.path.rfind("/_control/", 0) == 0) {
        res.set_content(
            json{{"error", "unknown control endpoint " + req.method + " " + req.path}}.dump(),
            k_json);
        return;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto generation = m_record_generation;
    const auto slot = record(req);
    res.set_content(error_body(false, {"invalid_request_error", "unknown_url",
                                       "Unknown request URL: " + req.method + " " + req.path}),
                    k_json);
    finish(slot, generation, 404, "unknown_path");
}

FakeProvider::Answer FakeProvider::make_reply(Wire wire, const Behaviour& b,
                                              const httplib::Request& req, const json& body,
                                              const StructuredRequest& structured) {
    int score_min = 0;
    int score_max = 0;
    std::uint64_t id = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        score_min = m_score_min;
        score_max = m_score_max;
        id = ++m_next_id;  // unique per reply; identical requests still get identical content
    }
    std::string content;
    if (b.content) {
        content = *b.content;
    } else if (b.echo) {
        content = last_user_text(body);
    } else {
        int score = b.out_of_range
                        ? k_out_of_range_score
                        : b.score.value_or(derived_score(req.body, score_min, score_max));
        std::string simulated;
        if (!b.out_of_range && (!b.quality_marker.empty() || b.score_noise_sd > 0.0)) {
            double base = score;
            const auto quality =
                b.score ? std::nullopt : marked_quality(req.body, b.quality_marker);
            if (quality) {
                base = *quality;
            }
            double noise = 0.0;
            if (b.score_noise_sd > 0.0) {
                std::normal_distribution<double> draw(0.0, b.score_noise_sd);
                std::lock_guard<std::mutex> lock(m_mutex);
                noise = draw(m_noise_rng);
            }
            score = static_cast<int>(std::lround(std::clamp(
                base + noise, static_cast<double>(score_min), static_cast<double>(score_max))));
            char buf[96];
            std::snprintf(buf, sizeof buf, "base %.2f%s, noise %+.2f", base,
                          quality ? " (marked)" : "", noise);
            simulated = buf;
        }
        std::string reasoning = b.reasoning;
        if (reasoning.empty()) {
            reasoning = "Fake judge: request hash " + hex64(fnv1a64(req.body)) +
                        (simulated.empty() ? "" : ", " + simulated) + " gives score " +
                        std::to_string(score) + ".";
        }
        json verdict =
            structured.mode == StructuredRequest::Mode::none
                ? json{{"reasoning", reasoning}, {"score", score}}
                : conforming_verdict(structured.schema, score, fnv1a64(req.body), reasoning);
        if (b.out_of_range && structured.mode != StructuredRequest::Mode::none &&
            verdict.contains("score") && fault_survives(VerdictFault::out_of_scale, structured)) {
            // A schema that is not enforced (a non-strict one, an Anthropic tool) does not
            // keep the score in the scale; only a strict one does (conforming_verdict clamps).
            verdict["score"] = score;
        }
        content = verdict.dump();
        if (b.verdict_fault_rate > 0.0 && !b.verdict_faults.empty()) {
            std::lock_guard<std::mutex> lock(m_mutex);
            std::uniform_real_distribution<double> unit(0.0, 1.0);
            if (unit(m_noise_rng) < b.verdict_fault_rate) {
                const VerdictFault fault = b.verdict_faults[static_cast<std::size_t>(
                    m_noise_rng() % b.verdict_faults.size())];
                if (fault_survives(fault, structured)) {
                    content = apply_verdict_fault(fault, verdict, score_max);
                }
            }
        }
    }
    // Reasoning / thinking tokens come first and share the output budget.
    const FakeApi api = wire == Wire::openai      ? FakeApi::chat_completions
                        : wire == Wire::responses ? FakeApi::responses
                                                  : FakeApi::anthropic_messages;
    std::string model = "unknown";
    if (body.is_object() && body.contains("model") && body.at("model").is_string()) {
        model = body.at("model").get<std::string>();
    }
    const std::int64_t thinking = api == FakeApi::anthropic_messages ? thinking_budget(body) : 0;
    bool reasoning_model = false;
    if (api != FakeApi::anthropic_messages) {
        std::lock_guard<std::mutex> lock(m_mutex);
        reasoning_model = is_reasoning_model(model, m_reasoning_models);
    }
    std::int64_t reasoning = 0;
    if (reasoning_model || thinking > 0) {
        reasoning = b.reasoning_tokens.value_or(thinking > 0
                                                    ? std::min(thinking, k_default_reasoning_tokens)
                                                    : k_default_reasoning_tokens);
    }
    std::int64_t content_tokens = estimate_tokens(content.size());
    bool cut = false;
    if (reasoning > 0) {
        if (const auto budget = output_budget(api, body)) {
            if (reasoning >= *budget) {
                reasoning = *budget;
                content.clear();
                content_tokens = 0;
                cut = true;
            } else if (reasoning + content_tokens > *budget) {
                content_tokens = *budget - reasoning;
                content.resize(static_cast<std::size_t>(content_tokens) * 4);
                cut = true;
            }
        }
    }
    const std::string finish = cut ? "length" : b.finish_reason;
    FakeUsage usage;
    if (b.usage) {
        usage = *b.usage;
    } else {
        usage.input_tokens = estimate_prompt_tokens(body);
        usage.output_tokens =
            reasoning + (reasoning > 0 ? content_tokens : estimate_tokens(content.size()));
    }

    Answer a;
    if (api == FakeApi::chat_completions) {
        json u = {{"prompt_tokens", usage.input_tokens},
                  {"completion_tokens", usage.output_tokens},
                  {"total_tokens", usage.input_tokens + usage.output_tokens}};
        if (reasoning_model) {
            u["completion_tokens_details"] = {{"reasoning_tokens", reasoning}};
        }
        a.body = json{
            {"id", "chatcmpl-fake-" + std::to_string(id)},
            {"object", "chat.completion"},
            {"created", static_cast<std::int64_t>(std::time(nullptr))},
            {"model", model},
            {"choices", json::array({{{"index", 0},
                                      {"message", {{"role", "assistant"}, {"content", content}}},
                                      {"logprobs", nullptr},
                                      {"finish_reason", finish}}})},
            {"usage",
             std::move(
                 u)}}.dump();
    } else if (api == FakeApi::responses) {
        json output = json::array();
        if (reasoning > 0) {
            output.push_back({{"type", "reasoning"},
                              {"id", "rs_fake_" + std::to_string(id)},
                              {"summary", json::array()}});
        }
        if (!content.empty() || !cut) {
            output.push_back({{"type", "message"},
                              {"id", "msg_fake_" + std::to_string(id)},
                              {"status", cut ? "incomplete" : "completed"},
                              {"role", "assistant"},
                              {"content", json::array({{{"type", "output_text"},
                                                        {"text", content},
                                                        {"annotations", json::array()}}})}});
        }
        a.body = json{{"id", "resp_fake_" + std::to_string(id)},
                      {"object", "response"},
                      {"created_at", static_cast<std::int64_t>(std::time(nullptr))},
                      {"status", cut ? "incomplete" : "completed"},
                      {"incomplete_details",
                       cut ? json{{"reason", "max_output_tokens"}} : json(nullptr)},
                      {"model", model},
                      {"output", std::move(output)},
                      {"usage",
                       {{"input_tokens", usage.input_tokens},
                        {"input_tokens_details", {{"cached_tokens", 0}}},
                        {"output_tokens", usage.output_tokens},
                        {"output_tokens_details", {{"reasoning_tokens", reasoning}}},
                        {"total_tokens", usage.input_tokens + usage.output_tokens}}}}
                     .dump();
    } else {
        std::string stop_reason = finish;
        if (stop_reason == "stop") {
            stop_reason = "end_turn";
        } else if (stop_reason == "length") {
            stop_reason = "max_tokens";
        }
        json blocks = json::array();
        if (thinking > 0) {
            blocks.push_back({{"type", "thinking"},
                              {"thinking",
                               "Fake thinking: weighing the answer against the "
                               "rubric ({\"score\": 1} would be too harsh)."},
                              {"signature", "fake-signature-" + std::to_string(id)}});
        }
        // A forced tool call answers with its input object (a partial one
        // when cut, which is left out here).
        const json input = structured.mode == StructuredRequest::Mode::forced_tool && !cut
                               ? json::parse(content, nullptr, false)
                               : json();
        if (input.is_object()) {
            blocks.push_back({{"type", "tool_use"},
                              {"id", "toolu_fake_" + std::to_string(id)},
                              {"name", structured.name},
                              {"input", input}});
            stop_reason = "tool_use";
        } else if (!content.empty() || !cut) {
            blocks.push_back({{"type", "text"}, {"text", content}});
        }
        a.body =
            json{{"id", "msg_fake_" + std::to_string(id)},
                 {"type", "message"},
                 {"role", "assistant"},
                 {"model", model},
                 {"content", std::move(blocks)},
                 {"stop_reason", stop_reason},
                 {"stop_sequence", nullptr},
                 {"usage",
                  {{"input_tokens", usage.input_tokens}, {"output_tokens", usage.output_tokens}}}}
                .dump();
    }
    return a;
}

void FakeProvider::handle_api(Wire wire, const httplib::Request& req, httplib::Response& res) {
    const bool anthropic = wire == Wire::anthropic;
    std::uint64_t generation = 0;
    std::size_t slot = k_not_recorded;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        generation = m_record_generation;
        slot = record(req);
        ++(anthropic                 ? m_counters.anthropic
           : wire == Wire::responses ? m_counters.responses
                                     : m_counters.openai);
        ++m_counters.in_flight;
        m_counters.max_in_flight = std::max(m_counters.max_in_flight, m_counters.in_flight);
    }

    auto send = [&](Answer a, const char* label) {
        res.status = a.status;
        for (const auto& [k, v] : a.headers) {
            res.set_header(k, v);
        }
        if (a.cut_connection) {
            auto full = std::make_shared<std::string>(std::move(a.body));
            res.set_content_provider(
                full->size(), k_json,
                [full](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                    if (offset == 0) {
                        sink.write(full->data(), full->size() / 2);
                        return true;
                    }
                    return false;  // abort: the connection is closed mid-body
                });
        } else {
            res.set_content(a.body, k_json);
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        finish(slot, generation, a.status, label);
        --m_counters.in_flight;
    };
    auto fail = [&](int status, ErrorShape shape, const char* label) {
        Answer a;
        a.status = status;
        a.body = error_body(anthropic, shape);
        send(std::move(a), label);
    };

    // 1. Authentication, before any scripted behaviour is consumed.
    if (m_options.require_api_key || !m_options.api_key.empty()) {
        std::string key;
        if (anthropic) {
            key = req.get_header_value("x-api-key");
        } else {
            const auto auth = req.get_header_value("Authorization");
            if (auth.rfind("Bearer ", 0) == 0) {
                key = auth.substr(7);
            }
        }
        if (key.empty() || (!m_options.api_key.empty() && key != m_options.api_key)) {
            auto shape = default_error(anthropic, 401, false);
            shape.message = key.empty() ? (anthropic ? "x-api-key header is required"
                                                     : "You didn't provide an API key "
                                                       "(Authorization: Bearer KEY).")
                                        : "Incorrect API key provided.";
            fail(401, shape, "auth");
            return;
        }
        if (anthropic && !req.has_header("anthropic-version")) {
            fail(400, {"invalid_request_error", "", "anthropic-version: header is required"},
                 "invalid");
            return;
        }
    }

    // 2. The scripted behaviour: the next queued one, else the default.
    Behaviour b;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_queue.empty()) {
            b = std::move(m_queue.front());
            m_queue.pop_front();
        } else {
            b = m_default;
        }
        if (b.kind == Behaviour::Kind::hang) {
            ++m_counters.hangs;
        } else if (b.kind == Behaviour::Kind::malformed) {
            ++m_counters.malformed;
        }
    }

    // 3. Latency: a sleep on this handler thread only.
    if (b.latency_ms > 0) {
        wait_for(b.latency_ms, false);
    }

    // 4. The answer.
    switch (b.kind) {
        case Behaviour::Kind::hang: {
            wait_for(b.hang_ms > 0 ? b.hang_ms : -1, true);
            fail(504, default_error(anthropic, 504, false), "hang");
            return;
        }
        case Behaviour::Kind::error: {
            auto shape = default_error(anthropic, b.status, b.quota);
            if (!b.error_type.empty()) {
                shape.type = b.error_type;
            }
            if (!b.error_code.empty()) {
                shape.code = b.error_code;
            }
            if (!b.error_message.empty()) {
                shape.message = b.error_message;
            }
            Answer a;
            a.status = b.status;
            a.body = error_body(anthropic, shape);
            if (b.retry_after_s) {
                a.headers.emplace_back("Retry-After", std::to_string(*b.retry_after_s));
            }
            send(std::move(a), "error");
            return;
        }
        case Behaviour::Kind::malformed: {
            json body;
            try {
                body = json::parse(req.body);
            } catch (const json::parse_error&) {
                body = json::object();
            }
            Answer a;
            if (b.malformed == MalformedKind::not_json) {
                a.body =
                    "<html><head><title>502 Bad Gateway</title></head>"
                    "<body>upstream connect error</body></html>";
            } else {
                a = make_reply(wire, b, req, body);
                if (b.malformed == MalformedKind::truncated_json) {
                    a.body.resize(a.body.size() / 2);
                } else {
                    a.cut_connection = true;
                }
            }
            send(std::move(a), "malformed");
            return;
        }
        case Behaviour::Kind::reply:
            break;
    }

    // A reply: the request must be one a real provider would answer.
    json body;
    try {
        body = json::parse(req.body);
    } catch (const json::parse_error& e) {
        fail(400,
             {"invalid_request_error", "",
              std::string("We could not parse the JSON body of your request: ") + e.what()},
             "invalid");
        return;
    }
    if (!body.is_object()) {
        fail(400, {"invalid_request_error", "", "The request body must be a JSON object."},
             "invalid");
        return;
    }
    if (!body.contains("model") || !body.at("model").is_string() ||
        body.at("model").get_ref<const std::string&>().empty()) {
        fail(400, {"invalid_request_error", "", "model: field required (a non-empty string)"},
             "invalid");
        return;
    }
    StructuredRequest structured;
    const char* list_key = wire == Wire::responses ? "input" : "messages";
    const bool string_input = wire == Wire::responses && body.contains("input") &&
                              body.at("input").is_string() &&
                              !body.at("input").get_ref<const std::string&>().empty();
    if (!string_input &&
        (!body.contains(list_key) || !body.at(list_key).is_array() || body.at(list_key).empty())) {
        fail(400,
             {"invalid_request_error", "",
              std::string(list_key) + ": field required (a non-empty list)"},
             "invalid");
        return;
    }
    if (anthropic && (!body.contains("max_tokens") || !body.at("max_tokens").is_number_integer())) {
        fail(400, {"invalid_request_error", "", "max_tokens: field required (an integer)"},
             "invalid");
        return;
    }
    {
        const auto& model = body.at("model").get_ref<const std::string&>();
        bool known = true;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            known = m_known_models.empty() ||
                    std::find(m_known_models.begin(), m_known_models.end(), model) !=
                        m_known_models.end();
        }
        if (!known) {
            auto shape = default_error(anthropic, 404, false);
            shape.message = anthropic ? "model: " + model
                                      : "The model `" + model +
                                            "` does not exist or you do not have access to it.";
            fail(404, shape, "unknown_model");
            return;
        }
        const FakeApi api = wire == Wire::openai      ? FakeApi::chat_completions
                            : wire == Wire::responses ? FakeApi::responses
                                                      : FakeApi::anthropic_messages;
        bool reasoning_model = false;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            reasoning_model = is_reasoning_model(model, m_reasoning_models);
        }
        auto refusal = check_model_parameters(api, body, reasoning_model);
        if (!refusal) {
            refusal = read_structured_request(api, body, structured);
        }
        if (refusal) {
            Answer refused;
            refused.status = 400;
            refused.body = error_body(anthropic, {refusal->type, refusal->code, refusal->message},
                                      refusal->param);
            send(std::move(refused), "invalid");
            return;
        }
    }
    Answer a = make_reply(wire, b, req, body, structured);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (generation == m_record_generation) {
            ++m_counters.replies;
        }
    }
    send(std::move(a), "reply");
}

}  // namespace assay::testing
