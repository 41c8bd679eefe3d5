#pragma once
// The trace model: one LLM call (or one agent run) as Assay scores it.
// A Trace is a plain value built by core/trace_json.h from the JSON
// contract documented in README.md ("Trace format"). It owns all its data and
// is immutable once built; reading it from several threads is safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay {

struct Message {
    std::string role;
    std::string content;
};

struct Usage {
    std::optional<int64_t> input_tokens;
    std::optional<int64_t> output_tokens;
    std::optional<int64_t> cached_tokens;
    std::optional<double> cost_usd;
};

struct TraceError {
    std::string type;
    std::string message;
};

// The well-known metadata keys get their own fields (they are indexed columns
// in the store; an empty string means absent); every other key stays in
// `extra` with its JSON value.
struct Metadata {
    std::string feature;
    std::string tenant;
    std::string user_id;
    std::string session_id;
    std::string prompt_name;
    std::string prompt_version;
    std::string model;
    std::string environment;
    std::string expected_format;
    std::vector<std::string> tags;
    nlohmann::json extra = nlohmann::json::object();

    // The value of metadata key `key` (well-known or extra) as text: strings
    // as they are, numbers and booleans in their JSON spelling; nullopt when
    // absent, empty or null, or when the value is an object or array.
    std::optional<std::string> get(std::string_view key) const;
    bool has_tag(std::string_view tag) const;
    // The field of a well-known key ("feature", ...), or nullptr.
    const std::string* known(std::string_view key) const;
};

struct Trace {
    std::string trace_id;
    int64_t timestamp_ms = 0;  // Unix epoch milliseconds (given, or time received)
    bool timestamp_given = false;
    int64_t received_ms = 0;  // when Assay received it

    // Text forms: a plain string as given, or the messages' contents joined
    // with "\n\n". The message lists are empty when a plain string was given.
    std::string input;
    std::vector<Message> input_messages;
    std::string output;
    std::vector<Message> output_messages;

    std::optional<std::string> reference;
    std::vector<std::string> context;
    Metadata metadata;
    Usage usage;
    std::optional<double> latency_ms;
    std::optional<double> ttft_ms;
    std::string finish_reason;
    std::optional<TraceError> error;

    // The exact JSON text this trace was parsed from.
    std::string raw;
};

}  // namespace assay
