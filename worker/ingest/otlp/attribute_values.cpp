#include "ingest/otlp/attribute_values.h"

#include <algorithm>
#include <map>

#include "core/fast_json_sax.h"
#include "core/json_scan.h"
#include "core/json_text.h"
#include "core/text.h"

namespace assay::otlp {

using nlohmann::json;

namespace {
constexpr size_t k_max_embedded_depth = 32;    // nesting of JSON carried inside a string attribute
constexpr size_t k_max_message_index = 10000;  // highest N in flattened "...messages.N..." keys
}  // namespace

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// The value of `key`, or nullptr when absent or null.
const json* attr(const AttributeMap& m, std::string_view key) {
    auto it = m.find(key);
    if (it == m.end() || it->second.is_null()) {
        return nullptr;
    }
    return &it->second;
}

// The value of `key` on the span, else on its resource.
const json* span_or_resource(const OtlpSpan& s, std::string_view key) {
    if (const json* v = attr(s.attributes, key)) {
        return v;
    }
    return s.resource_attributes ? attr(*s.resource_attributes, key) : nullptr;
}

// A scalar as text: strings as they are, numbers and booleans in their JSON
// spelling; nullopt for absent, empty, arrays and objects.
std::optional<std::string> as_text(const json* v) {
    if (v == nullptr || v->is_array() || v->is_object() || v->is_null()) {
        return std::nullopt;
    }
    std::string s = v->is_string() ? v->get<std::string>() : v->dump();
    if (s.empty()) {
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> text_attr(const AttributeMap& m, std::string_view key) {
    return as_text(attr(m, key));
}

// A non-negative integer attribute (integer, integral float, or decimal string).
std::optional<int64_t> count_attr(const AttributeMap& m, std::string_view key) {
    const json* v = attr(m, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number_integer()) {
        const int64_t i = v->get<int64_t>();
        return i >= 0 ? std::optional<int64_t>(i) : std::nullopt;
    }
    if (v->is_number_float()) {
        const double d = v->get<double>();
        if (std::isfinite(d) && d >= 0 && d < 9e18 && d == std::floor(d)) {
            return static_cast<int64_t>(d);
        }
        return std::nullopt;
    }
    if (v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        return std::stoll(s);
    }
    return std::nullopt;
}

std::optional<double> number_attr(const AttributeMap& m, std::string_view key) {
    const json* v = attr(m, key);
    if (v != nullptr && v->is_number()) {
        const double d = v->get<double>();
        if (std::isfinite(d) && d >= 0) {
            return d;
        }
    }
    return std::nullopt;
}

// JSON text carried in a string attribute, parsed with bounded nesting;
// nullopt when it is not JSON.
std::optional<json> parse_embedded(std::string_view s) {
    const std::string_view t = trim(s);
    if (t.empty() || (t.front() != '[' && t.front() != '{')) {
        return std::nullopt;
    }
    size_t depth = 0;
    const JsonScanEnd end = scan_outside_strings(t, 0, [&](size_t, char c) {
        if (c == '[' || c == '{') {
            return ++depth <= k_max_embedded_depth;
        }
        if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    if (end.stopped) {
        return std::nullopt;
    }
    try {
        // The fast reader (core/fast_json_sax.h) gives nlohmann's events for
        // the text it accepts; anything else is parsed by nlohmann itself.
        json value;
        nlohmann::detail::json_sax_dom_parser<json> dom(value, false);
        if (fast_json_sax(t, dom) == FastJsonResult::accepted) {
            return value;
        }
        return json::parse(t.begin(), t.end());
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

// The text of a message "content" or of GenAI "parts": a string as it is;
// for a list of parts, the text parts ("text" or "content") and tool results
// joined by newlines.
std::string content_text(const json& c) {
    if (c.is_string()) {
        return c.get<std::string>();
    }
    if (!c.is_array()) {
        return c.is_null() ? std::string() : json_text(c);
    }
    std::string out;
    for (const json& part : c) {
        std::string piece;
        if (part.is_string()) {
            piece = part.get<std::string>();
        } else if (part.is_object()) {
            auto type_it = part.find("type");
            const std::string type = type_it != part.end() && type_it->is_string()
                                         ? type_it->get<std::string>()
                                         : std::string("text");
            if (type == "text" || type == "input_text" || type == "output_text") {
                for (const char* k : {"content", "text"}) {
                    auto it = part.find(k);
                    if (it != part.end() && it->is_string()) {
                        piece = it->get<std::string>();
                        break;
                    }
                }
            } else if (type == "tool_call_response") {
                auto it = part.find("response");
                if (it != part.end()) {
                    piece = content_text(*it);
                }
            }
        }
        if (piece.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += "\n";
        }
        out += piece;
    }
    return out;
}

// A list of messages in any of the shapes instrumentations send (GenAI
// {role, parts}, OpenAI {role, content}) as Assay messages [{role, content}];
// nullopt when `v` is not a non-empty list of message objects.
std::optional<json> to_messages(const json& v) {
    if (!v.is_array() || v.empty()) {
        return std::nullopt;
    }
    json out = json::array();
    for (const json& m : v) {
        if (!m.is_object()) {
            return std::nullopt;
        }
        json msg = json::object();
        auto role = m.find("role");
        msg["role"] =
            role != m.end() && role->is_string() ? role->get<std::string>() : std::string("user");
        if (auto parts = m.find("parts"); parts != m.end()) {
            msg["content"] = content_text(*parts);
        } else if (auto content = m.find("content"); content != m.end()) {
            msg["content"] = content_text(*content);
        } else if (auto message = m.find("message"); message != m.end() && message->is_object()) {
            // OpenAI choices: [{"message": {"role", "content"}}]
            auto inner = to_messages(json::array({*message}));
            if (!inner) {
                return std::nullopt;
            }
            msg = (*inner)[0];
        } else {
            msg["content"] = "";
        }
        out.push_back(std::move(msg));
    }
    return out;
}

// A message-list attribute: a JSON string, or an array of kvlists.
std::optional<json> messages_attr(const AttributeMap& m, std::string_view key) {
    const json* v = attr(m, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_string()) {
        if (auto parsed = parse_embedded(v->get_ref<const std::string&>())) {
            return to_messages(*parsed);
        }
        return std::nullopt;
    }
    return to_messages(*v);
}

// Flattened indexed attributes: for prefix "llm.input_messages.", the keys
// "llm.input_messages.<N>.<rest>" grouped by N (ascending) as {rest: value}.
std::vector<AttributeMap> indexed(const AttributeMap& m, std::string_view prefix) {
    std::map<size_t, AttributeMap> groups;
    for (auto it = m.lower_bound(prefix); it != m.end() && starts_with(it->first, prefix); ++it) {
        std::string_view rest = std::string_view(it->first).substr(prefix.size());
        const size_t dot = rest.find('.');
        if (dot == 0 || dot == std::string_view::npos || dot > 5 ||
            rest.substr(0, dot).find_first_not_of("0123456789") != std::string_view::npos) {
            continue;
        }
        const size_t n = std::stoul(std::string(rest.substr(0, dot)));
        if (n > k_max_message_index) {
            continue;
        }
        groups[n][std::string(rest.substr(dot + 1))] = it->second;
    }
    std::vector<AttributeMap> out;
    out.reserve(groups.size());
    for (auto& [n, g] : groups) {
        out.push_back(std::move(g));
    }
    return out;
}

// OpenInference "llm.input_messages.N.message.{role,content,contents.M...}"
// or Traceloop "gen_ai.prompt.N.{role,content}" as Assay messages.
std::optional<json> flattened_messages(const AttributeMap& m, std::string_view prefix,
                                       std::string_view inner) {
    json out = json::array();
    for (const AttributeMap& g : indexed(m, prefix)) {
        const std::string role_key = std::string(inner) + "role";
        const std::string content_key = std::string(inner) + "content";
        json msg = json::object();
        msg["role"] = text_attr(g, role_key).value_or("user");
        if (const json* c = attr(g, content_key)) {
            msg["content"] = content_text(*c);
        } else {
            std::string text;
            for (const AttributeMap& part : indexed(g, std::string(inner) + "contents.")) {
                if (auto t = text_attr(part, "message_content.text")) {
                    text += text.empty() ? *t : "\n" + *t;
                }
            }
            msg["content"] = text;
        }
        out.push_back(std::move(msg));
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

// How far a text attribute's JSON is unwrapped into input/output.

// A text attribute as input/output: messages, unwrapped text, or the text.
json text_or_messages(const std::string& s, Unwrap unwrap) {
    if (const std::string_view t = trim(s);
        unwrap == Unwrap::json_value && t.size() >= 2 && t.front() == '"' && t.back() == '"') {
        // A JSON-encoded string (Traceloop's json.dumps of a str result).
        try {
            if (json v = json::parse(t.begin(), t.end()); v.is_string()) {
                return v;
            }
        } catch (const json::exception&) {
        }
    }
    std::optional<json> parsed = unwrap == Unwrap::none ? std::nullopt : parse_embedded(s);
    if (!parsed) {
        return s;
    }
    if (auto msgs = to_messages(*parsed)) {
        return *msgs;
    }
    if (unwrap == Unwrap::json_value && parsed->is_object()) {
        if (auto it = parsed->find("messages"); it != parsed->end()) {
            if (auto msgs = to_messages(*it)) {
                return *msgs;
            }
        }
        if (auto it = parsed->find("choices"); it != parsed->end()) {
            if (auto msgs = to_messages(*it)) {
                return *msgs;
            }
        }
        static const char* const k_text_keys[] = {"input",  "query", "question", "prompt", "output",
                                                  "answer", "text",  "content",  "result"};
        for (const char* k : k_text_keys) {
            auto it = parsed->find(k);
            if (it != parsed->end() && it->is_string() && parsed->size() <= 3) {
                return it->get<std::string>();
            }
        }
        // Traceloop's entity input, {"args": [...], "kwargs": {...}}: the one
        // string argument, else a well-known keyword argument.
        auto args = parsed->find("args");
        auto kwargs = parsed->find("kwargs");
        if (parsed->size() == 2 && args != parsed->end() && args->is_array() &&
            kwargs != parsed->end() && kwargs->is_object()) {
            std::vector<const json*> strings;
            for (const json& v : *args) {
                if (v.is_string()) {
                    strings.push_back(&v);
                }
            }
            for (const auto& [k, v] : kwargs->items()) {
                if (v.is_string()) {
                    strings.push_back(&v);
                }
            }
            if (strings.size() == 1 && args->size() + kwargs->size() == 1) {
                return strings[0]->get<std::string>();
            }
            for (const char* k : k_text_keys) {
                auto it = kwargs->find(k);
                if (it != kwargs->end() && it->is_string()) {
                    return it->get<std::string>();
                }
            }
        }
    }
    return s;
}

Unwrap value_unwrap(const AttributeMap& a, std::string_view mime_key) {
    const std::string mime = ascii_lower(text_attr(a, mime_key).value_or(""));
    if (mime.rfind("application/json", 0) == 0) {
        return Unwrap::json_value;
    }
    return mime.rfind("text/plain", 0) == 0 ? Unwrap::none : Unwrap::messages;
}

std::optional<json> event_attr_value(const OtlpSpan& s, std::string_view event,
                                     std::string_view key) {
    for (const OtlpEvent& e : s.events) {
        if (e.name == event) {
            if (auto t = text_attr(e.attributes, key)) {
                return text_or_messages(*t, Unwrap::messages);
            }
        }
    }
    return std::nullopt;
}

bool empty_value(const json& v) {
    return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty());
}

}  // namespace assay::otlp
