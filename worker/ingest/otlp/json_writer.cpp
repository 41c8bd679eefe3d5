// to_otlp_json (ingest/otlp/mapper.h): spans back into the OTLP JSON
// encoding, written straight into one string. The intake encodes every span
// it stores this way (the otlp_spans rows), so this is on the path of every
// export request: building a nlohmann::json tree per span and dumping it had
// been the largest single cost of an OTLP request (profile in README, "The
// OTLP receiver"). The text is the one the tree gave: keys in sorted order,
// strings escaped by nlohmann's serializer rules (invalid UTF-8 replaced).
#include <limits>

#include "core/json_text.h"
#include "ingest/otlp/mapper.h"

namespace assay {

namespace {

using nlohmann::json;

// A JSON string literal of `s`, escaped by nlohmann's rules (core/json_text.h).
void write_string(std::string& out, std::string_view s) { append_json_string(out, s); }

void write_key(std::string& out, const char* key) {
    out += '"';
    out += key;
    out += "\":";
}

void write_attributes(std::string& out, const AttributeMap& m);

// An AnyValue (mapper.h: the JSON form of attribute values).
void write_any_value(std::string& out, const json& v) {
    switch (v.type()) {
        case json::value_t::string:
            out += "{\"stringValue\":";
            write_string(out, v.get_ref<const std::string&>());
            out += '}';
            return;
        case json::value_t::boolean:
            out += v.get<bool>() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
            return;
        case json::value_t::number_integer:
            out += "{\"intValue\":\"" + std::to_string(v.get<int64_t>()) + "\"}";
            return;
        case json::value_t::number_unsigned: {
            const uint64_t u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                out += "{\"doubleValue\":" + json(static_cast<double>(u)).dump() + "}";
            } else {
                out += "{\"intValue\":\"" + std::to_string(u) + "\"}";
            }
            return;
        }
        case json::value_t::number_float:
            out += "{\"doubleValue\":" + v.dump() + "}";
            return;
        case json::value_t::array: {
            out += "{\"arrayValue\":{\"values\":[";
            bool first = true;
            for (const json& x : v) {
                out += first ? "" : ",";
                first = false;
                write_any_value(out, x);
            }
            out += "]}}";
            return;
        }
        case json::value_t::object: {
            out += "{\"kvlistValue\":{\"values\":[";
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                out += first ? "{\"key\":" : ",{\"key\":";
                first = false;
                write_string(out, it.key());
                out += ",\"value\":";
                write_any_value(out, it.value());
                out += '}';
            }
            out += "]}}";
            return;
        }
        default:
            out += "{}";
            return;
    }
}

void write_attributes(std::string& out, const AttributeMap& m) {
    out += '[';
    bool first = true;
    for (const auto& [k, v] : m) {
        out += first ? "{\"key\":" : ",{\"key\":";
        first = false;
        write_string(out, k);
        out += ",\"value\":";
        write_any_value(out, v);
        out += '}';
    }
    out += ']';
}

void write_span(std::string& out, const OtlpSpan& s) {
    out += '{';
    write_key(out, "attributes");
    write_attributes(out, s.attributes);
    if (s.ended) {
        out += ',';
        write_key(out, "endTimeUnixNano");
        out += '"' + std::to_string(s.end_unix_nano) + '"';
    }
    if (!s.events.empty()) {
        out += ',';
        write_key(out, "events");
        out += '[';
        bool first = true;
        for (const OtlpEvent& e : s.events) {
            out += first ? "{" : ",{";
            first = false;
            write_key(out, "attributes");
            write_attributes(out, e.attributes);
            out += ',';
            write_key(out, "name");
            write_string(out, e.name);
            out += ',';
            write_key(out, "timeUnixNano");
            out += '"' +
                   std::to_string(static_cast<uint64_t>(std::max<int64_t>(e.time_unix_ms, 0)) *
                                  1000000) +
                   "\"}";
        }
        out += ']';
    }
    if (s.parent_is_remote) {
        out += ',';
        write_key(out, "flags");
        out += std::to_string(k_otlp_flag_has_is_remote | k_otlp_flag_is_remote);
    }
    out += ',';
    write_key(out, "kind");
    out += std::to_string(static_cast<int>(s.kind));
    out += ',';
    write_key(out, "name");
    write_string(out, s.name);
    if (!s.parent_span_id.empty()) {
        out += ',';
        write_key(out, "parentSpanId");
        write_string(out, s.parent_span_id);
    }
    out += ',';
    write_key(out, "spanId");
    write_string(out, s.span_id);
    out += ',';
    write_key(out, "startTimeUnixNano");
    out += '"' + std::to_string(s.start_unix_nano) + '"';
    out += ',';
    write_key(out, "status");
    out += "{\"code\":" + std::to_string(static_cast<int>(s.status_code)) + ",\"message\":";
    write_string(out, s.status_message);
    out += "},";
    write_key(out, "traceId");
    write_string(out, s.trace_id);
    out += '}';
}

std::string write_request(const std::vector<const OtlpSpan*>& spans) {
    // resource (by identity) → scope name → spans, in first-seen order.
    static const AttributeMap k_empty;
    struct Scope {
        const std::string* name;
        std::vector<const OtlpSpan*> spans;
    };
    std::vector<const AttributeMap*> resources;
    std::vector<std::vector<Scope>> scopes;
    for (const OtlpSpan* span : spans) {
        const OtlpSpan& s = *span;
        const AttributeMap* r = s.resource_attributes ? s.resource_attributes.get() : &k_empty;
        const size_t ri = static_cast<size_t>(std::find(resources.begin(), resources.end(), r) -
                                              resources.begin());
        if (ri == resources.size()) {
            resources.push_back(r);
            scopes.emplace_back();
        }
        auto& list = scopes[ri];
        auto si = std::find_if(list.begin(), list.end(),
                               [&](const Scope& sc) { return *sc.name == s.scope_name; });
        if (si == list.end()) {
            list.push_back({&s.scope_name, {}});
            si = list.end() - 1;
        }
        si->spans.push_back(&s);
    }
    std::string out;
    out.reserve(512 * spans.size() + 64);
    out += "{\"resourceSpans\":[";
    for (size_t i = 0; i < resources.size(); ++i) {
        out += i == 0 ? "{" : ",{";
        write_key(out, "resource");
        out += '{';
        write_key(out, "attributes");
        write_attributes(out, *resources[i]);
        out += "},";
        write_key(out, "scopeSpans");
        out += '[';
        for (size_t j = 0; j < scopes[i].size(); ++j) {
            out += j == 0 ? "{" : ",{";
            write_key(out, "scope");
            out += "{\"name\":";
            write_string(out, *scopes[i][j].name);
            out += "},";
            write_key(out, "spans");
            out += '[';
            for (size_t k = 0; k < scopes[i][j].spans.size(); ++k) {
                out += k == 0 ? "" : ",";
                write_span(out, *scopes[i][j].spans[k]);
            }
            out += "]}";
        }
        out += "]}";
    }
    out += "]}";
    return out;
}

}  // namespace

std::string to_otlp_json(const std::vector<OtlpSpan>& spans) {
    std::vector<const OtlpSpan*> all;
    all.reserve(spans.size());
    for (const OtlpSpan& s : spans) {
        all.push_back(&s);
    }
    return write_request(all);
}

std::string to_otlp_json(const OtlpSpan& span) { return write_request({&span}); }

std::string to_otlp_json(const std::vector<const OtlpSpan*>& spans) { return write_request(spans); }

}  // namespace assay
