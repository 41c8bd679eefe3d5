// Over 400 lines on purpose: the whole mapping (every convention's keys and
// their order of preference) stays in this one file, as trace_mapping.h says.
#include "ingest/otlp/trace_mapping.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "core/json_text.h"
#include "core/text.h"
#include "core/time_format.h"
#include "ingest/otlp/attribute_values.h"

namespace assay {

namespace {

using nlohmann::json;
using namespace otlp;

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
    for (const char* k : {"traceloop.entity.input", "langfuse.observation.input"}) {
        if (auto v = text_attr(a, k)) {
            return text_or_messages(*v, Unwrap::json_value);
        }
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
    for (const char* k : {"traceloop.entity.output", "langfuse.observation.output"}) {
        if (auto v = text_attr(a, k)) {
            return text_or_messages(*v, Unwrap::json_value);
        }
    }
    return std::nullopt;
}

enum class SpanClass { other, llm, tool, retriever, agent };

const char* class_name(SpanClass c) {
    switch (c) {
        case SpanClass::llm:
            return "llm";
        case SpanClass::tool:
            return "tool";
        case SpanClass::retriever:
            return "retriever";
        case SpanClass::agent:
            return "agent";
        case SpanClass::other:
            break;
    }
    return "other";
}

SpanClass classify(const OtlpSpan& s) {
    const AttributeMap& a = s.attributes;
    const std::string oi = ascii_lower(text_attr(a, "openinference.span.kind").value_or(""));
    const std::string op = text_attr(a, "gen_ai.operation.name").value_or("");
    const std::string lf = ascii_lower(text_attr(a, "langfuse.observation.type").value_or(""));
    const std::string tl = text_attr(a, "traceloop.span.kind").value_or("");  // OpenLLMetry
    if (oi == "tool" || op == "execute_tool" || lf == "tool" || tl == "tool" ||
        attr(a, "gen_ai.tool.name") != nullptr) {
        return SpanClass::tool;
    }
    auto docs = a.lower_bound(std::string_view("retrieval.documents."));
    if (oi == "retriever" || lf == "retriever" ||
        (docs != a.end() && starts_with(docs->first, "retrieval.documents."))) {
        return SpanClass::retriever;
    }
    // An agent's span wraps its LLM and tool calls: its output is the
    // agent's answer, but its usage sums its children's (never added again).
    if (oi == "agent" || op == "invoke_agent" || op == "create_agent" || lf == "agent" ||
        tl == "agent") {
        return SpanClass::agent;
    }
    if (oi == "llm" || op == "chat" || op == "text_completion" || op == "generate_content" ||
        lf == "generation" ||
        (oi.empty() && op.empty() && lf.empty() &&
         (attr(a, "gen_ai.request.model") != nullptr || attr(a, "gen_ai.system") != nullptr ||
          attr(a, "gen_ai.provider.name") != nullptr || attr(a, "llm.model_name") != nullptr))) {
        return SpanClass::llm;
    }
    return SpanClass::other;
}

std::optional<std::string> span_model(const OtlpSpan& s) {
    for (const char* k : {"gen_ai.response.model", "gen_ai.request.model", "llm.model_name",
                          "langfuse.observation.model.name"}) {
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
        // OpenLLMetry: gen_ai.completion.N.finish_reason, the first N that has one.
        for (const AttributeMap& c : indexed(s.attributes, "gen_ai.completion.")) {
            if (auto r = text_attr(c, "finish_reason"); r && !r->empty()) {
                return r;
            }
        }
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
    std::optional<int64_t> reasoning;  // part of output (the conventions say so)
    std::optional<double> cost;
    bool any() const { return input || output || cached || reasoning || cost; }
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
    u.reasoning = first({"gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
                         "gen_ai.usage.output_tokens.reasoning",
                         "llm.token_count.completion_details.reasoning"});
    if (!u.input && !u.output) {
        // Langfuse: langfuse.observation.usage_details, a JSON object
        // {"input", "output", "input_cached_tokens", "output_reasoning_tokens", ...}.
        if (const json* d = attr(a, "langfuse.observation.usage_details")) {
            std::optional<json> obj = d->is_string()
                                          ? parse_embedded(d->get_ref<const std::string&>())
                                          : std::optional<json>(*d);
            if (obj && obj->is_object()) {
                AttributeMap details;
                for (const auto& [k, v] : obj->items()) {
                    details.emplace(k, v);
                }
                u.input = count_attr(details, "input");
                u.output = count_attr(details, "output");
                u.cached = u.cached ? u.cached : count_attr(details, "input_cached_tokens");
                u.reasoning =
                    u.reasoning ? u.reasoning : count_attr(details, "output_reasoning_tokens");
            }
        }
    }
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
    sum(total.reasoning, u.reasoning);
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
    static const std::string_view k_exact[] = {"gen_ai.input.messages",
                                               "gen_ai.output.messages",
                                               "gen_ai.system_instructions",
                                               "gen_ai.prompt",
                                               "gen_ai.completion",
                                               "input.value",
                                               "output.value",
                                               "traceloop.entity.input",
                                               "traceloop.entity.output",
                                               "langfuse.observation.input",
                                               "langfuse.observation.output",
                                               "langfuse.trace.input",
                                               "langfuse.trace.output",
                                               "langfuse.trace.metadata"};
    for (std::string_view e : k_exact) {
        if (k == e) {
            return true;
        }
    }
    static const std::string_view k_prefixes[] = {"llm.input_messages.",     "llm.output_messages.",
                                                  "gen_ai.prompt.",          "gen_ai.completion.",
                                                  "retrieval.documents.",    "assay.",
                                                  "langfuse.trace.metadata."};
    for (std::string_view p : k_prefixes) {
        if (starts_with(k, p)) {
            return true;
        }
    }
    return false;
}

// A metadata value, bounded: long strings are cut on a UTF-8 boundary, large
// arrays/objects become their (cut) JSON text.
json bounded(json v, size_t max_bytes) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        return s.size() > max_bytes ? json(excerpt(s, max_bytes)) : std::move(v);
    }
    if (v.is_array() || v.is_object()) {
        std::string text = json_text(v);
        return text.size() > max_bytes ? json(excerpt(text, max_bytes)) : std::move(v);
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
    std::vector<size_t> llm;     // LLM spans other than the root, in start order
    std::vector<size_t> agents;  // agent spans other than the root, in start order
    for (size_t i : order) {
        classes[i] = classify(spans[i]);
        if (i != root_index && classes[i] == SpanClass::llm) {
            llm.push_back(i);
        }
        if (i != root_index && classes[i] == SpanClass::agent) {
            agents.push_back(i);
        }
    }
    // A Langfuse trace-level attribute (langfuse.trace.*, langfuse.user.id,
    // ...): the SDK sets it on whichever span is current, so the root's (span,
    // else resource), else the first span in start order that has it.
    auto trace_attr = [&](std::string_view key) -> const json* {
        if (const json* v = span_or_resource(root, key)) {
            return v;
        }
        for (size_t i : order) {
            if (const json* v = attr(spans[i].attributes, key)) {
                return v;
            }
        }
        return nullptr;
    };
    auto trace_content = [&](std::string_view key) -> std::optional<json> {
        if (auto v = as_text(trace_attr(key))) {
            return text_or_messages(*v, Unwrap::json_value);
        }
        return std::nullopt;
    };
    auto missing = [](const std::optional<json>& v) { return !v || empty_value(*v); };
    // Each span's own input and output, read once: the trace's input/output
    // and its metadata.spans entry can both need them, and reading a message
    // list means parsing its JSON text.
    std::vector<std::optional<std::optional<json>>> inputs(spans.size()), outputs(spans.size());
    auto input_of = [&](size_t i) -> std::optional<json>& {
        if (!inputs[i]) {
            inputs[i] = span_input(spans[i]);
        }
        return *inputs[i];
    };
    auto output_of = [&](size_t i) -> std::optional<json>& {
        if (!outputs[i]) {
            outputs[i] = span_output(spans[i]);
        }
        return *outputs[i];
    };
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

    // input / output: Langfuse's trace-level value, else the root's, else the
    // outermost agent's (first started), else the first / last LLM child's.
    // Pointers to the chosen values (the spans' are read once and cached):
    // copied once, into the trace. `choose` walks `spans_in_order` after the
    // trace-level value, the root and the agents, until one is not missing.
    auto choose = [&](const std::optional<json>& trace_level, auto& of,
                      const std::vector<size_t>& spans_in_order) {
        const std::optional<json>* v = &trace_level;
        if (missing(*v)) {
            v = &of(root_index);
        }
        for (size_t k = 0; missing(*v) && k < agents.size(); ++k) {
            v = &of(agents[k]);
        }
        for (size_t k = 0; missing(*v) && k < spans_in_order.size(); ++k) {
            v = &of(spans_in_order[k]);
        }
        return v;
    };
    const std::optional<json> trace_input = trace_content("langfuse.trace.input");
    const std::optional<json>* input = choose(trace_input, input_of, llm);
    const std::optional<json> trace_output = trace_content("langfuse.trace.output");
    std::vector<size_t> llm_by_end = llm;  // the last to end first
    std::stable_sort(llm_by_end.begin(), llm_by_end.end(), [&](size_t a, size_t b) {
        return spans[a].end_unix_nano > spans[b].end_unix_nano;
    });
    const std::optional<json>* output = choose(trace_output, output_of, llm_by_end);
    if (*input) {
        t["input"] = **input;
    }
    t["output"] = *output ? **output : json(nullptr);
    // Decided now: the spans' summary below moves their values out.
    const bool output_missing = missing(*output);

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
    // Each key in turn: the root's (span, else resource); for langfuse.* keys,
    // and all keys when `any_span` (who the trace is for: the SDKs set it on
    // the span current at the time), else the first span that has it.
    auto known = [&](const char* field, std::initializer_list<const char*> keys,
                     bool any_span = false) {
        for (const char* k : keys) {
            const bool trace_level = any_span || starts_with(k, "langfuse.");
            if (auto v = as_text(trace_level ? trace_attr(k) : span_or_resource(root, k))) {
                md[field] = bounded(*v, options.max_value_bytes);
                return;
            }
        }
    };
    known("feature", {"assay.feature", "langfuse.trace.name", "service.name"});
    known("tenant", {"assay.tenant", "tenant.id"});
    known("user_id", {"assay.user_id", "user.id", "enduser.id", "langfuse.user.id"}, true);
    known("session_id",
          {"assay.session_id", "gen_ai.conversation.id", "session.id", "langfuse.session.id"},
          true);
    known("prompt_name", {"assay.prompt_name"});
    known("prompt_version", {"assay.prompt_version", "llm.prompt_template.version"});
    known("environment", {"assay.environment", "deployment.environment.name",
                          "deployment.environment", "langfuse.environment"});
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
    for (const char* k : {"assay.tags", "tag.tags", "langfuse.trace.tags"}) {
        const json* v = starts_with(k, "langfuse.") ? trace_attr(k) : span_or_resource(root, k);
        if (v == nullptr) {
            continue;
        }
        std::optional<json> embedded;  // a JSON array sent as a string
        if (v->is_string() && starts_with(v->get_ref<const std::string&>(), "[")) {
            embedded = parse_embedded(v->get_ref<const std::string&>());
            if (embedded && embedded->is_array()) {
                v = &*embedded;
            }
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
    // A key named by its sender (assay.<key>, Langfuse metadata): never one of
    // the well-known keys, whose type the trace format fixes.
    auto add_named_extra = [&](const std::string& key, const json& value) {
        if (!key.empty() &&
            std::find(std::begin(k_mapped), std::end(k_mapped), key) == std::end(k_mapped)) {
            add_extra(key, value);
        }
    };
    const AttributeMap k_empty;
    const AttributeMap& resource = root.resource_attributes ? *root.resource_attributes : k_empty;
    for (const AttributeMap* m : {&root.attributes, &resource}) {
        for (auto it = m->lower_bound(std::string_view("assay."));
             it != m->end() && starts_with(it->first, "assay."); ++it) {
            add_named_extra(it->first.substr(6), it->second);
        }
    }
    // Langfuse trace metadata: langfuse.trace.metadata.<key> → <key>, and a
    // langfuse.trace.metadata JSON object's keys, from any span (root first).
    std::vector<const AttributeMap*> all_maps = {&root.attributes, &resource};
    for (size_t i : order) {
        if (i != root_index) {
            all_maps.push_back(&spans[i].attributes);
        }
    }
    constexpr std::string_view k_lf_metadata = "langfuse.trace.metadata";
    for (const AttributeMap* m : all_maps) {
        for (auto it = m->lower_bound(k_lf_metadata);
             it != m->end() && starts_with(it->first, k_lf_metadata); ++it) {
            if (it->first.size() > k_lf_metadata.size() + 1 &&
                it->first[k_lf_metadata.size()] == '.') {
                add_named_extra(it->first.substr(k_lf_metadata.size() + 1), it->second);
            } else if (it->first.size() == k_lf_metadata.size() && it->second.is_string()) {
                auto obj = parse_embedded(it->second.get_ref<const std::string&>());
                if (obj && obj->is_object()) {
                    for (const auto& [k, v] : obj->items()) {
                        add_named_extra(k, v);
                    }
                }
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
        // Start relative to the root's (negative when the clocks disagree).
        e["start_ms"] = round3(
            (static_cast<double>(s.start_unix_nano) - static_cast<double>(root.start_unix_nano)) /
            1e6);
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
            if (u.reasoning) {
                e["reasoning_tokens"] = *u.reasoning;
            }
        }
        if (classes[i] == SpanClass::agent) {
            if (auto n = text_attr(s.attributes, "gen_ai.agent.name")) {
                e["agent"] = excerpt(*n, 256);
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
        // The span's own input and output (a tool's call arguments and
        // result), cut like metadata values: the review timeline shows them.
        // Their last use: moved, not copied.
        std::optional<json>& in = input_of(i);
        std::optional<json>& out = output_of(i);
        if (in) {
            e["input"] = bounded(std::move(*in), options.max_value_bytes);
        } else if (auto v = text_attr(s.attributes, "gen_ai.tool.call.arguments")) {
            e["input"] = bounded(json(*v), options.max_value_bytes);
        }
        if (out) {
            e["output"] = bounded(std::move(*out), options.max_value_bytes);
        } else if (auto v = text_attr(s.attributes, "gen_ai.tool.call.result")) {
            e["output"] = bounded(json(*v), options.max_value_bytes);
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
        if (usage.reasoning) {
            u["reasoning_tokens"] = *usage.reasoning;
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
    } else if (output_missing) {
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
    return json_text(build_trace_value(spans, root, options, incomplete_reason, dropped_spans));
}

}  // namespace assay
