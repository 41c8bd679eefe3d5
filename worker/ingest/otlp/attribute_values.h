#pragma once
// Readers of OTLP attribute values, convention-agnostic: typed access to an
// AttributeMap (text, counts, numbers), JSON carried in string attributes,
// message lists in the shapes instrumentations send, flattened indexed keys
// ("prefix.N.rest"). Which keys mean what, and in which order they are
// preferred, lives in ingest/otlp/trace_mapping.cpp; these only read values.
// Pure functions: thread-safe; never throw on attribute content.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/otlp/mapper.h"

namespace assay::otlp {

bool starts_with(std::string_view s, std::string_view prefix);

// The value of `key`, or nullptr when absent or null.
const nlohmann::json* attr(const AttributeMap& m, std::string_view key);
// The value of `key` on the span, else on its resource.
const nlohmann::json* span_or_resource(const OtlpSpan& s, std::string_view key);
// A scalar as text: strings as they are, numbers and booleans in their JSON
// spelling; nullopt for absent, empty, arrays and objects.
std::optional<std::string> as_text(const nlohmann::json* v);
std::optional<std::string> text_attr(const AttributeMap& m, std::string_view key);
// A non-negative integer attribute (integer, integral float, or decimal string).
std::optional<int64_t> count_attr(const AttributeMap& m, std::string_view key);
std::optional<double> number_attr(const AttributeMap& m, std::string_view key);

// JSON text carried in a string attribute, parsed with bounded nesting;
// nullopt when it is not JSON.
std::optional<nlohmann::json> parse_embedded(std::string_view s);
// The text of a message "content" or of GenAI "parts": a string as it is;
// for a list of parts, the text parts and tool results joined by newlines.
std::string content_text(const nlohmann::json& c);
// A list of messages (GenAI {role, parts}, OpenAI {role, content}) as Assay
// messages [{role, content}]; nullopt when `v` is not a non-empty list of
// message objects.
std::optional<nlohmann::json> to_messages(const nlohmann::json& v);
// A message-list attribute: a JSON string, or an array of kvlists.
std::optional<nlohmann::json> messages_attr(const AttributeMap& m, std::string_view key);
// Flattened indexed attributes: for prefix "llm.input_messages.", the keys
// "llm.input_messages.<N>.<rest>" grouped by N (ascending) as {rest: value}.
std::vector<AttributeMap> indexed(const AttributeMap& m, std::string_view prefix);
// "prefix.N.<inner>{role,content,...}" keys as Assay messages (OpenInference
// with inner "message.", OpenLLMetry with inner "").
std::optional<nlohmann::json> flattened_messages(const AttributeMap& m, std::string_view prefix,
                                                 std::string_view inner);

enum class Unwrap {
    none,        // keep the text as it is (mime type text/plain)
    messages,    // a JSON message list becomes messages; any other text is kept
    json_value,  // also unwrap {"messages": [...]}, OpenAI {"choices": [...]}, a
                 // small object with one well-known text field (mime application/json),
                 // a JSON-encoded string, and Traceloop's {"args", "kwargs"} (its one
                 // string argument, else a well-known keyword argument)
};
// A text attribute as input/output: messages, unwrapped text, or the text.
nlohmann::json text_or_messages(const std::string& s, Unwrap unwrap);
// How to unwrap a value by its mime-type attribute `mime_key`.
Unwrap value_unwrap(const AttributeMap& a, std::string_view mime_key);
// `key` of the first event named `event`, as text or messages.
std::optional<nlohmann::json> event_attr_value(const OtlpSpan& s, std::string_view event,
                                               std::string_view key);
// Null or the empty string.
bool empty_value(const nlohmann::json& v);

}  // namespace assay::otlp
