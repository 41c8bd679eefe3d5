#include "ingest/otlp/trace_assembler.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "core/clock.h"
#include "core/json_scan.h"
#include "core/text.h"
#include "core/time_format.h"

namespace assay {

namespace {

using nlohmann::json;

constexpr size_t k_max_embedded_depth = 32;    // nesting of JSON carried inside a string attribute
constexpr size_t k_max_message_index = 10000;  // highest N in flattened "...messages.N..." keys

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
        return c.is_null() ? std::string() : c.dump(-1, ' ', false, json::error_handler_t::replace);
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
enum class Unwrap {
    none,        // keep the text as it is (mime type text/plain)
    messages,    // a JSON message list becomes messages; any other text is kept
    json_value,  // also unwrap {"messages": [...]}, OpenAI {"choices": [...]}, and a
                 // small object with one well-known text field (mime application/json)
};

// A text attribute as input/output: messages, unwrapped text, or the text.
json text_or_messages(const std::string& s, Unwrap unwrap) {
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
        for (const char* k : {"input", "query", "question", "prompt", "output", "answer", "text",
                              "content", "result"}) {
            auto it = parsed->find(k);
            if (it != parsed->end() && it->is_string() && parsed->size() <= 3) {
                return it->get<std::string>();
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

// The input of one span, in order of preference (see README "OTLP attribute mapping").
std::optional<json> span_input(const OtlpSpan& s) {
    const AttributeMap& a = s.attributes;
    if (auto msgs = messages_attr(a, "gen_ai.input.messages")) {
        if (auto sys = text_attr(a, "gen_ai.system_instructions")) {
            json content = text_or_messages(*sys, Unwrap::messages);
            json m = {{"role", "system"},
                      {"content",
                       content.is_string() ? content.get<std::string>() : content_text(content)}};
            msgs->insert(msgs->begin(), std::move(m));
        }
        return msgs;
    }
    if (auto msgs = flattened_messages(a, "llm.input_messages.", "message.")) {
        return msgs;
    }
    if (auto msgs = flattened_messages(a, "gen_ai.prompt.", "")) {
        return msgs;
    }
    if (auto p = text_attr(a, "gen_ai.prompt")) {
        return text_or_messages(*p, Unwrap::messages);
    }
    if (auto ev = event_attr_value(s, "gen_ai.content.prompt", "gen_ai.prompt")) {
        return ev;
    }
    if (auto v = text_attr(a, "input.value")) {
        return text_or_messages(*v, value_unwrap(a, "input.mime_type"));
    }
    return std::nullopt;
}

std::optional<json> span_output(const OtlpSpan& s) {
    const AttributeMap& a = s.attributes;
    if (auto msgs = messages_attr(a, "gen_ai.output.messages")) {
        return msgs;
    }
    if (auto msgs = flattened_messages(a, "llm.output_messages.", "message.")) {
        return msgs;
    }
    if (auto msgs = flattened_messages(a, "gen_ai.completion.", "")) {
        return msgs;
    }
    if (auto p = text_attr(a, "gen_ai.completion")) {
        return text_or_messages(*p, Unwrap::messages);
    }
    if (auto ev = event_attr_value(s, "gen_ai.content.completion", "gen_ai.completion")) {
        return ev;
    }
    if (auto v = text_attr(a, "output.value")) {
        return text_or_messages(*v, value_unwrap(a, "output.mime_type"));
    }
    return std::nullopt;
}

enum class SpanClass { other, llm, tool, retriever };

const char* class_name(SpanClass c) {
    switch (c) {
        case SpanClass::llm:
            return "llm";
        case SpanClass::tool:
            return "tool";
        case SpanClass::retriever:
            return "retriever";
        case SpanClass::other:
            break;
    }
    return "other";
}

SpanClass classify(const OtlpSpan& s) {
    const AttributeMap& a = s.attributes;
    const std::string oi = ascii_lower(text_attr(a, "openinference.span.kind").value_or(""));
    const std::string op = text_attr(a, "gen_ai.operation.name").value_or("");
    if (oi == "tool" || op == "execute_tool" || attr(a, "gen_ai.tool.name") != nullptr) {
        return SpanClass::tool;
    }
    auto docs = a.lower_bound(std::string_view("retrieval.documents."));
    if (oi == "retriever" ||
        (docs != a.end() && starts_with(docs->first, "retrieval.documents."))) {
        return SpanClass::retriever;
    }
    if (oi == "llm" || op == "chat" || op == "text_completion" || op == "generate_content" ||
        (oi.empty() && op.empty() &&
         (attr(a, "gen_ai.request.model") != nullptr || attr(a, "gen_ai.system") != nullptr ||
          attr(a, "gen_ai.provider.name") != nullptr || attr(a, "llm.model_name") != nullptr))) {
        return SpanClass::llm;
    }
    return SpanClass::other;
}

std::optional<std::string> span_model(const OtlpSpan& s) {
    for (const char* k : {"gen_ai.response.model", "gen_ai.request.model", "llm.model_name"}) {
        if (auto m = text_attr(s.attributes, k)) {
            return m;
        }
    }
    return std::nullopt;
}

std::optional<std::string> span_provider(const OtlpSpan& s) {
    for (const char* k : {"gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"}) {
        if (auto m = text_attr(s.attributes, k)) {
            return m;
        }
    }
    return std::nullopt;
}

std::optional<std::string> span_finish_reason(const OtlpSpan& s) {
    const json* v = attr(s.attributes, "gen_ai.response.finish_reasons");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_array()) {
        for (const json& r : *v) {
            if (r.is_string() && !r.get_ref<const std::string&>().empty()) {
                return r.get<std::string>();
            }
        }
        return std::nullopt;
    }
    if (v->is_string()) {
        if (auto parsed = parse_embedded(v->get_ref<const std::string&>());
            parsed && parsed->is_array()) {
            for (const json& r : *parsed) {
                if (r.is_string()) {
                    return r.get<std::string>();
                }
            }
        }
        return as_text(v);
    }
    return std::nullopt;
}

struct UsageCounts {
    std::optional<int64_t> input;
    std::optional<int64_t> output;
    std::optional<int64_t> cached;
    std::optional<double> cost;
    bool any() const { return input || output || cached || cost; }
};

UsageCounts span_usage(const OtlpSpan& s) {
    const AttributeMap& a = s.attributes;
    auto first = [&](std::initializer_list<const char*> keys) -> std::optional<int64_t> {
        for (const char* k : keys) {
            if (auto v = count_attr(a, k)) {
                return v;
            }
        }
        return std::nullopt;
    };
    UsageCounts u;
    u.input = first(
        {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"});
    u.output = first({"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.token_count.completion"});
    u.cached =
        first({"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
               "llm.token_count.prompt_details.cache_read"});
    u.cost = number_attr(a, "assay.cost_usd");
    if (!u.cost) {
        u.cost = number_attr(a, "llm.cost.total");
    }
    return u;
}

void add_usage(UsageCounts& total, const UsageCounts& u) {
    auto sum = [](auto& t, const auto& v) {
        if (v) {
            t = t.value_or(0) + *v;
        }
    };
    sum(total.input, u.input);
    sum(total.output, u.output);
    sum(total.cached, u.cached);
    sum(total.cost, u.cost);
}

std::string error_message(const OtlpSpan& s) {
    if (!s.status_message.empty()) {
        return s.status_message;
    }
    for (const OtlpEvent& e : s.events) {
        if (e.name == "exception") {
            auto type = text_attr(e.attributes, "exception.type");
            auto msg = text_attr(e.attributes, "exception.message");
            if (type || msg) {
                return type && msg ? *type + ": " + *msg : type ? *type : *msg;
            }
        }
    }
    return "span '" + s.name + "' ended with status ERROR";
}

// Attribute keys whose content becomes input/output/context (not metadata).
bool is_content_key(std::string_view k) {
    static const std::string_view k_exact[] = {
        "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
        "gen_ai.prompt",         "gen_ai.completion",      "input.value",
        "output.value"};
    for (std::string_view e : k_exact) {
        if (k == e) {
            return true;
        }
    }
    static const std::string_view k_prefixes[] = {"llm.input_messages.",  "llm.output_messages.",
                                                  "gen_ai.prompt.",       "gen_ai.completion.",
                                                  "retrieval.documents.", "assay."};
    for (std::string_view p : k_prefixes) {
        if (starts_with(k, p)) {
            return true;
        }
    }
    return false;
}

// A metadata value, bounded: long strings are cut on a UTF-8 boundary, large
// arrays/objects become their (cut) JSON text.
json bounded(const json& v, size_t max_bytes) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        return s.size() > max_bytes ? json(excerpt(s, max_bytes)) : v;
    }
    if (v.is_array() || v.is_object()) {
        std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
        return text.size() > max_bytes ? json(excerpt(text, max_bytes)) : v;
    }
    return v;
}

double round3(double x) { return std::round(x * 1000.0) / 1000.0; }

}  // namespace

json build_trace_value(const std::vector<OtlpSpan>& spans, size_t root_index,
                       const AssemblerOptions& options, const std::string& incomplete_reason,
                       size_t dropped_spans) {
    const OtlpSpan& root = spans.at(root_index);

    // Children in start order, classified once.
    std::vector<size_t> order(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return spans[a].start_unix_nano < spans[b].start_unix_nano;
    });
    std::vector<SpanClass> classes(spans.size());
    std::vector<size_t> llm;  // LLM spans other than the root, in start order
    for (size_t i : order) {
        classes[i] = classify(spans[i]);
        if (i != root_index && classes[i] == SpanClass::llm) {
            llm.push_back(i);
        }
    }
    // The LLM span that ended last (it produced the final answer).
    std::optional<size_t> last_llm;
    for (size_t i : llm) {
        if (!last_llm || spans[i].end_unix_nano >= spans[*last_llm].end_unix_nano) {
            last_llm = i;
        }
    }

    json t = json::object();
    t["trace_id"] = root.trace_id;
    t["timestamp"] = format_rfc3339_ms(root.start_unix_ms);

    // input / output: the root's, else the first / last LLM child's.
    std::optional<json> input = span_input(root);
    for (size_t k = 0; (!input || empty_value(*input)) && k < llm.size(); ++k) {
        input = span_input(spans[llm[k]]);
    }
    std::optional<json> output = span_output(root);
    if (!output || empty_value(*output)) {
        std::vector<size_t> by_end = llm;
        std::stable_sort(by_end.begin(), by_end.end(), [&](size_t a, size_t b) {
            return spans[a].end_unix_nano > spans[b].end_unix_nano;
        });
        for (size_t i : by_end) {
            output = span_output(spans[i]);
            if (output && !empty_value(*output)) {
                break;
            }
        }
    }
    if (input) {
        t["input"] = *input;
    }
    t["output"] = output ? *output : json(nullptr);

    if (auto ref = as_text(span_or_resource(root, "assay.reference"))) {
        t["reference"] = *ref;
    }

    // context: retrieved documents of every span, in start order.
    json context = json::array();
    for (size_t i : order) {
        for (const AttributeMap& doc : indexed(spans[i].attributes, "retrieval.documents.")) {
            if (context.size() >= options.max_context_docs) {
                break;
            }
            if (auto c = text_attr(doc, "document.content")) {
                context.push_back(*c);
            }
        }
    }
    if (!context.empty()) {
        t["context"] = std::move(context);
    }

    // metadata: well-known fields, then the root's and its resource's other attributes.
    json md = json::object();
    auto known = [&](const char* field, std::initializer_list<const char*> keys) {
        for (const char* k : keys) {
            if (auto v = as_text(span_or_resource(root, k))) {
                md[field] = bounded(*v, options.max_value_bytes);
                return;
            }
        }
    };
    known("feature", {"assay.feature", "service.name"});
    known("tenant", {"assay.tenant", "tenant.id"});
    known("user_id", {"assay.user_id", "user.id", "enduser.id"});
    known("session_id", {"assay.session_id", "session.id", "gen_ai.conversation.id"});
    known("prompt_name", {"assay.prompt_name"});
    known("prompt_version", {"assay.prompt_version", "llm.prompt_template.version"});
    known("environment",
          {"assay.environment", "deployment.environment.name", "deployment.environment"});
    known("expected_format", {"assay.expected_format"});
    std::optional<std::string> model = as_text(span_or_resource(root, "assay.model"));
    if (!model) {
        model = span_model(root);
    }
    if (!model && last_llm) {
        model = span_model(spans[*last_llm]);
    }
    if (model) {
        md["model"] = bounded(*model, options.max_value_bytes);
    }
    std::optional<std::string> provider = span_provider(root);
    if (!provider && last_llm) {
        provider = span_provider(spans[*last_llm]);
    }
    if (provider) {
        md["provider"] = bounded(*provider, options.max_value_bytes);
    }
    for (const char* k : {"assay.tags", "tag.tags"}) {
        const json* v = span_or_resource(root, k);
        if (v == nullptr) {
            continue;
        }
        json tags = json::array();
        if (v->is_array()) {
            for (const json& x : *v) {
                if (auto s = as_text(&x)) {
                    tags.push_back(*s);
                }
            }
        } else if (auto s = as_text(v)) {
            std::string_view rest = *s;
            while (!rest.empty()) {
                const size_t comma = rest.find(',');
                const std::string_view tag = trim(rest.substr(0, comma));
                if (!tag.empty()) {
                    tags.push_back(std::string(tag));
                }
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
        }
        if (!tags.empty()) {
            md["tags"] = std::move(tags);
            break;
        }
    }
    // Other assay.<key> attributes become metadata <key>.
    size_t extra_keys = 0;
    size_t omitted = 0;
    static const std::string_view k_mapped[] = {
        "feature",     "tenant",          "user_id", "session_id", "prompt_name", "prompt_version",
        "environment", "expected_format", "model",   "tags",       "reference",   "cost_usd"};
    auto add_extra = [&](const std::string& key, const json& value) {
        if (value.is_null() || md.contains(key)) {
            return;
        }
        if (extra_keys >= options.max_metadata_keys) {
            ++omitted;
            return;
        }
        md[key] = bounded(value, options.max_value_bytes);
        ++extra_keys;
    };
    const AttributeMap k_empty;
    const AttributeMap& resource = root.resource_attributes ? *root.resource_attributes : k_empty;
    for (const AttributeMap* m : {&root.attributes, &resource}) {
        for (auto it = m->lower_bound(std::string_view("assay."));
             it != m->end() && starts_with(it->first, "assay."); ++it) {
            const std::string key = it->first.substr(6);
            if (std::find(std::begin(k_mapped), std::end(k_mapped), key) == std::end(k_mapped) &&
                !key.empty()) {
                add_extra(key, it->second);
            }
        }
    }
    for (const AttributeMap* m : {&root.attributes, &resource}) {
        for (const auto& [k, v] : *m) {
            if (!is_content_key(k)) {
                add_extra(k, v);
            }
        }
    }
    md["otel.root_span"] = root.name;
    md["otel.span_count"] = spans.size();
    if (dropped_spans > 0) {
        md["otel.dropped_spans"] = dropped_spans;
    }
    if (omitted > 0) {
        md["otel.attributes_omitted"] = omitted;
    }
    if (!incomplete_reason.empty()) {
        md["otel.incomplete"] = true;
    }
    // The tool, retriever and LLM spans below the root, bounded.
    json summary = json::array();
    size_t summary_omitted = 0;
    for (size_t i : order) {
        if (i == root_index || classes[i] == SpanClass::other) {
            continue;
        }
        if (summary.size() >= options.max_summary_spans) {
            ++summary_omitted;
            continue;
        }
        const OtlpSpan& s = spans[i];
        json e = {{"name", excerpt(s.name, 256)}, {"kind", class_name(classes[i])}};
        if (s.ended) {
            e["duration_ms"] = round3(s.duration_ms());
        }
        if (classes[i] == SpanClass::llm) {
            if (auto m = span_model(s)) {
                e["model"] = excerpt(*m, 256);
            }
            const UsageCounts u = span_usage(s);
            if (u.input) {
                e["input_tokens"] = *u.input;
            }
            if (u.output) {
                e["output_tokens"] = *u.output;
            }
        }
        if (classes[i] == SpanClass::tool) {
            for (const char* k : {"gen_ai.tool.name", "tool.name"}) {
                if (auto n = text_attr(s.attributes, k)) {
                    e["tool"] = excerpt(*n, 256);
                    break;
                }
            }
        }
        if (s.status_code == OtlpStatusCode::error) {
            e["error"] = excerpt(error_message(s), 512);
        }
        summary.push_back(std::move(e));
    }
    if (!summary.empty()) {
        md["spans"] = std::move(summary);
    }
    if (summary_omitted > 0) {
        md["spans_omitted"] = summary_omitted;
    }
    t["metadata"] = std::move(md);

    // usage: the root's when it has any, else the sum over the LLM children.
    UsageCounts usage = span_usage(root);
    if (!usage.any()) {
        for (size_t i : llm) {
            add_usage(usage, span_usage(spans[i]));
        }
    }
    if (usage.any()) {
        json u = json::object();
        if (usage.input) {
            u["input_tokens"] = *usage.input;
        }
        if (usage.output) {
            u["output_tokens"] = *usage.output;
        }
        if (usage.cached) {
            u["cached_tokens"] = *usage.cached;
        }
        if (usage.cost) {
            u["cost_usd"] = *usage.cost;
        }
        t["usage"] = std::move(u);
    }
    if (root.ended) {
        t["latency_ms"] = round3(root.duration_ms());
    }
    std::optional<std::string> finish = span_finish_reason(root);
    if (!finish && last_llm) {
        finish = span_finish_reason(spans[*last_llm]);
    }
    if (finish) {
        t["finish_reason"] = *finish;
    }

    if (!incomplete_reason.empty()) {
        t["error"] = {{"type", "incomplete_trace"}, {"message", incomplete_reason}};
    } else if (root.status_code == OtlpStatusCode::error) {
        t["error"] = {{"type", "span_error"}, {"message", error_message(root)}};
    } else if (!output || empty_value(*output)) {
        t["error"] = {{"type", "missing_output"},
                      {"message",
                       "no span carries an output (gen_ai.output.messages, gen_ai.completion, "
                       "llm.output_messages, output.value)"}};
    } else {
        t["error"] = nullptr;
    }
    return t;
}

std::string build_trace_json(const std::vector<OtlpSpan>& spans, size_t root,
                             const AssemblerOptions& options, const std::string& incomplete_reason,
                             size_t dropped_spans) {
    return build_trace_value(spans, root, options, incomplete_reason, dropped_spans)
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

struct RootPick {
    std::optional<size_t> root;  // a true root (see the header)
    size_t candidate = 0;        // best guess when there is none
};

RootPick pick_root(const std::vector<OtlpSpan>& spans,
                   const std::unordered_map<std::string, size_t>& index) {
    RootPick pick;
    std::optional<size_t> orphan;
    auto earlier = [&](std::optional<size_t> cur, size_t i) {
        return !cur || spans[i].start_unix_nano < spans[*cur].start_unix_nano;
    };
    std::optional<size_t> parentless;
    for (size_t i = 0; i < spans.size(); ++i) {
        const OtlpSpan& s = spans[i];
        if (s.parent_span_id.empty()) {
            if (earlier(parentless, i)) {
                parentless = i;
            }
            continue;
        }
        if (index.count(s.parent_span_id) != 0) {
            continue;
        }
        if (s.parent_is_remote || s.kind == OtlpSpanKind::server ||
            s.kind == OtlpSpanKind::consumer) {
            if (earlier(pick.root, i)) {
                pick.root = i;
            }
        } else if (earlier(orphan, i)) {
            orphan = i;
        }
    }
    if (parentless) {
        pick.root = parentless;
    }
    pick.candidate = pick.root ? *pick.root : orphan.value_or(0);
    return pick;
}

}  // namespace

TraceAssembler::TraceAssembler(AssemblerOptions options) : m_options(options) {
    m_options.max_spans_per_trace = std::max<size_t>(m_options.max_spans_per_trace, 1);
}

Status TraceAssembler::add(std::vector<OtlpSpan> spans, int64_t now_ms) {
    std::unordered_set<std::string> new_traces;
    size_t incoming = 0;
    for (const OtlpSpan& s : spans) {
        if (m_recent.count(s.trace_id) != 0) {
            continue;
        }
        ++incoming;
        if (m_traces.count(s.trace_id) == 0) {
            new_traces.insert(s.trace_id);
        }
    }
    if (new_traces.size() > m_options.max_open_traces || incoming > m_options.max_open_spans) {
        ++m_stats.refused_batches;
        return Status::limit_exceeded("one request holds " + std::to_string(new_traces.size()) +
                                      " new traces and " + std::to_string(incoming) +
                                      " spans; the limits are " +
                                      std::to_string(m_options.max_open_traces) + " traces and " +
                                      std::to_string(m_options.max_open_spans) + " spans");
    }
    if (m_traces.size() + new_traces.size() > m_options.max_open_traces) {
        ++m_stats.refused_batches;
        return Status::unavailable("too many open traces: " + std::to_string(m_traces.size()) +
                                   " held, " + std::to_string(new_traces.size()) +
                                   " new, the limit is " +
                                   std::to_string(m_options.max_open_traces));
    }
    if (m_open_spans + incoming > m_options.max_open_spans) {
        ++m_stats.refused_batches;
        return Status::unavailable("too many open spans: " + std::to_string(m_open_spans) +
                                   " held, " + std::to_string(incoming) + " new, the limit is " +
                                   std::to_string(m_options.max_open_spans));
    }
    for (OtlpSpan& s : spans) {
        if (m_recent.count(s.trace_id) != 0) {
            ++m_stats.late_spans;
            continue;
        }
        auto [it, inserted] = m_traces.try_emplace(s.trace_id);
        OpenTrace& t = it->second;
        if (inserted) {
            t.first_arrival_ms = now_ms;
            t.sequence = m_sequence++;
        }
        auto known = t.index.find(s.span_id);
        if (known != t.index.end()) {
            t.spans[known->second] = std::move(s);
            t.last_arrival_ms = std::max(t.last_arrival_ms, now_ms);
            continue;
        }
        if (t.spans.size() >= m_options.max_spans_per_trace) {
            ++t.dropped;
            ++m_stats.overflow_spans;
            continue;
        }
        t.index.emplace(s.span_id, t.spans.size());
        t.spans.push_back(std::move(s));
        t.last_arrival_ms = std::max(t.last_arrival_ms, now_ms);
        ++m_open_spans;
    }
    return {};
}

std::vector<AssembledTrace> TraceAssembler::take_complete(int64_t now_ms) {
    struct Ready {
        uint64_t sequence;
        std::string trace_id;
        size_t root;
        std::string reason;
    };
    std::vector<Ready> ready;
    for (const auto& [id, t] : m_traces) {
        const bool idle = now_ms - t.last_arrival_ms >= m_options.idle_ms;
        const bool old = now_ms - t.first_arrival_ms >= m_options.max_trace_age_ms;
        if (!idle && !old) {
            continue;  // cannot be complete yet: skip the root search
        }
        const RootPick pick = pick_root(t.spans, t.index);
        const bool root_ended = pick.root && t.spans[*pick.root].ended;
        if (root_ended && idle) {
            ready.push_back({t.sequence, id, *pick.root, {}});
            continue;
        }
        if (!old) {
            continue;
        }
        std::string reason;
        const std::string age = std::to_string(m_options.max_trace_age_ms);
        if (!pick.root) {
            reason = "no root span arrived within " + age + " ms (max_trace_age_ms); " +
                     std::to_string(t.spans.size()) + " span(s) whose parent never arrived";
        } else if (!root_ended) {
            reason = "root span '" + excerpt(t.spans[*pick.root].name, 128) +
                     "' had not ended after " + age + " ms (max_trace_age_ms)";
        } else {
            reason = "spans were still arriving " + age + " ms (max_trace_age_ms) after the first";
        }
        ready.push_back({t.sequence, id, pick.candidate, std::move(reason)});
    }
    std::sort(ready.begin(), ready.end(),
              [](const Ready& a, const Ready& b) { return a.sequence < b.sequence; });

    std::vector<AssembledTrace> out;
    out.reserve(ready.size());
    for (Ready& r : ready) {
        auto it = m_traces.find(r.trace_id);
        OpenTrace& t = it->second;
        AssembledTrace a;
        a.trace_id = r.trace_id;
        a.value = build_trace_value(t.spans, r.root, m_options, r.reason, t.dropped);
        a.complete = r.reason.empty();
        a.reason = std::move(r.reason);
        a.span_count = t.spans.size();
        a.dropped_spans = t.dropped;
        if (a.complete) {
            ++m_stats.completed;
        } else {
            ++m_stats.expired;
        }
        m_open_spans -= t.spans.size();
        m_traces.erase(it);
        remember(a.trace_id);
        out.push_back(std::move(a));
    }
    return out;
}

void TraceAssembler::remember(const std::string& trace_id) {
    if (m_options.remember_completed == 0) {
        return;
    }
    if (m_recent.insert(trace_id).second) {
        m_recent_order.push_back(trace_id);
    }
    while (m_recent_order.size() > m_options.remember_completed) {
        m_recent.erase(m_recent_order.front());
        m_recent_order.pop_front();
    }
}

std::vector<OtlpSpan> TraceAssembler::pending_spans() const {
    std::vector<OtlpSpan> out;
    out.reserve(m_open_spans);
    for (const auto& [id, t] : m_traces) {
        out.insert(out.end(), t.spans.begin(), t.spans.end());
    }
    return out;
}

AssemblerStats TraceAssembler::stats() const {
    AssemblerStats s = m_stats;
    s.open_traces = m_traces.size();
    s.open_spans = m_open_spans;
    return s;
}

}  // namespace assay
