#include "ingest/otlp/mapper.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/fast_json_sax.h"
#include "core/json_scan.h"
#include "core/text.h"
#include "ingest/otlp/decode_path.h"
#include "ingest/otlp/json_scalars.h"
#include "ingest/otlp/json_stream_decoder.h"

namespace assay {

namespace {

using nlohmann::json;

constexpr size_t k_max_shown_bytes = 40;

std::string shown(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > k_max_shown_bytes) {
        s.resize(k_max_shown_bytes);
        s += "...";
    }
    return s;
}

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::string:
            return "string";
        case json::value_t::array:
            return "array";
        case json::value_t::object:
            return "object";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return "number";
        default:
            return "value";
    }
}

Status bad(const std::string& path, const std::string& what) {
    return Status::invalid_argument(path + ": " + what);
}

Status wrong_type(const std::string& path, const char* expected, const json& got) {
    return bad(path, std::string("expected ") + expected + ", got " + type_name(got));
}

// The member `camel` (or its proto spelling `snake`) of object `o`, or nullptr.
// A JSON null counts as absent (proto3 JSON: null means the default value).
const json* member(const json& o, const char* camel, const char* snake = nullptr) {
    auto it = o.find(camel);
    if (it == o.end() && snake != nullptr) {
        it = o.find(snake);
    }
    if (it == o.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

// Decodes base64 (either alphabet, padding optional) into exactly `bytes`
// bytes, as lowercase hex; empty on failure.
std::string base64_to_hex(std::string_view s, size_t bytes) {
    while (!s.empty() && s.back() == '=') {
        s.remove_suffix(1);
    }
    if (s.size() != (bytes * 8 + 5) / 6) {
        return {};
    }
    static const char* const k_hex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        const int v = base64_value(c);
        if (v < 0) {
            return {};
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            const uint32_t byte = (acc >> bits) & 0xFF;
            if (out.size() < bytes * 2) {
                out.push_back(k_hex[byte >> 4]);
                out.push_back(k_hex[byte & 0xF]);
            }
        }
    }
    // Leftover bits must be zero (canonical encoding).
    if ((acc & ((1u << bits) - 1)) != 0 || out.size() != bytes * 2) {
        return {};
    }
    return out;
}

// Parses a uint64 given as a decimal string or a JSON number
// (json_scalars.h: the streaming decoder reads the same).
bool to_uint64(const json& v, uint64_t& out) {
    if (v.is_number_unsigned()) {
        out = v.get<uint64_t>();
        return true;
    }
    if (v.is_number_integer()) {
        const int64_t i = v.get<int64_t>();
        if (i < 0) {
            return false;
        }
        out = static_cast<uint64_t>(i);
        return true;
    }
    if (v.is_number_float()) {
        return otlp_whole_double_u64(v.get<double>(), out);
    }
    if (v.is_string()) {
        return otlp_decimal_u64(v.get_ref<const std::string&>(), out);
    }
    return false;
}

// Parses an int64 given as a decimal string (optional '-') or a JSON number.
bool to_int64(const json& v, int64_t& out) {
    if (v.is_number_integer() && !v.is_number_unsigned()) {
        out = v.get<int64_t>();
        return true;
    }
    if (v.is_string()) {
        return otlp_decimal_i64(v.get_ref<const std::string&>(), out);
    }
    uint64_t u = 0;
    if (!to_uint64(v, u) || u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return false;
    }
    out = static_cast<int64_t>(u);
    return true;
}

// An enum as an integer or one of its proto names.
template <size_t N>
bool to_enum(const json& v, const std::array<const char*, N>& names, int& out) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        for (size_t i = 0; i < N; ++i) {
            if (s == names[i]) {
                out = static_cast<int>(i);
                return true;
            }
        }
    }
    int64_t i = 0;
    if (v.is_number() && to_int64(v, i) && i >= 0 && i < static_cast<int64_t>(N)) {
        out = static_cast<int>(i);
        return true;
    }
    return false;
}

using Path = DecodePath;

class Decoder {
public:
    explicit Decoder(const OtlpLimits& limits) : m_limits(limits) {}

    Status any_value(const json& v, const Path& path, size_t depth, json& out) {
        if (!v.is_object()) {
            return wrong_type(path.str(), "an AnyValue object", v);
        }
        if (depth > m_limits.max_value_depth) {
            return Status::limit_exceeded(path.str() + ": attribute value nests deeper than " +
                                          std::to_string(m_limits.max_value_depth) + " levels");
        }
        if (const json* s = member(v, "stringValue", "string_value")) {
            if (!s->is_string()) {
                return wrong_type(path.str() + ".stringValue", "a string", *s);
            }
            out = *s;
            return {};
        }
        if (const json* b = member(v, "boolValue", "bool_value")) {
            if (!b->is_boolean()) {
                return wrong_type(path.str() + ".boolValue", "a boolean", *b);
            }
            out = *b;
            return {};
        }
        if (const json* i = member(v, "intValue", "int_value")) {
            int64_t n = 0;
            if (!to_int64(*i, n)) {
                return bad(
                    path.str() + ".intValue",
                    "expected a 64-bit integer (number or decimal string), got " + shown(*i));
            }
            out = n;
            return {};
        }
        if (const json* d = member(v, "doubleValue", "double_value")) {
            if (d->is_number()) {
                out = d->get<double>();
                return {};
            }
            if (d->is_string()) {
                const auto& s = d->get_ref<const std::string&>();
                if (s == "NaN" || s == "Infinity" || s == "-Infinity") {
                    out = nullptr;
                    return {};
                }
                try {
                    size_t used = 0;
                    const double x = std::stod(s, &used);
                    if (used == s.size() && std::isfinite(x)) {
                        out = x;
                        return {};
                    }
                } catch (const std::exception&) {
                    // fall through to the error below
                }
            }
            return bad(path.str() + ".doubleValue", "expected a number, got " + shown(*d));
        }
        if (const json* a = member(v, "arrayValue", "array_value")) {
            if (!a->is_object()) {
                return wrong_type(path.str() + ".arrayValue", "an object", *a);
            }
            out = json::array();
            if (const json* values = member(*a, "values")) {
                if (!values->is_array()) {
                    return wrong_type(path.str() + ".arrayValue.values", "an array", *values);
                }
                for (size_t i = 0; i < values->size(); ++i) {
                    json item;
                    ASSAY_RETURN_IF_ERROR(any_value(
                        (*values)[i], Path{&path, ".arrayValue.values", i}, depth + 1, item));
                    out.push_back(std::move(item));
                }
            }
            return {};
        }
        if (const json* kv = member(v, "kvlistValue", "kvlist_value")) {
            if (!kv->is_object()) {
                return wrong_type(path.str() + ".kvlistValue", "an object", *kv);
            }
            out = json::object();
            if (const json* values = member(*kv, "values")) {
                AttributeMap inner;
                ASSAY_RETURN_IF_ERROR(
                    key_values(*values, Path{&path, ".kvlistValue.values"}, depth + 1, inner));
                for (auto& [k, x] : inner) {
                    out[k] = std::move(x);
                }
            }
            return {};
        }
        if (const json* b = member(v, "bytesValue", "bytes_value")) {
            if (!b->is_string()) {
                return wrong_type(path.str() + ".bytesValue", "a base64 string", *b);
            }
            out = *b;
            return {};
        }
        out = nullptr;  // an empty AnyValue
        return {};
    }

    // [{key, value}] → map. Later duplicates win.
    Status key_values(const json& arr, const Path& path, size_t depth, AttributeMap& out) {
        if (!arr.is_array()) {
            return wrong_type(path.str(), "an array of {key, value}", arr);
        }
        if (arr.size() > m_limits.max_attributes) {
            return Status::limit_exceeded(path.str() + ": " + std::to_string(arr.size()) +
                                          " attributes; the limit is " +
                                          std::to_string(m_limits.max_attributes));
        }
        for (size_t i = 0; i < arr.size(); ++i) {
            const json& kv = arr[i];
            const Path p{&path, "", i};
            if (!kv.is_object()) {
                return wrong_type(p.str(), "an object {key, value}", kv);
            }
            const json* key = member(kv, "key");
            if (key == nullptr || !key->is_string()) {
                return key == nullptr ? bad(p.str() + ".key", "missing")
                                      : wrong_type(p.str() + ".key", "a string", *key);
            }
            const auto& k = key->get_ref<const std::string&>();
            if (k.size() > m_limits.max_key_bytes) {
                return Status::limit_exceeded(p.str() + ".key: longer than " +
                                              std::to_string(m_limits.max_key_bytes) + " bytes");
            }
            json value;
            if (const json* v = member(kv, "value")) {
                ASSAY_RETURN_IF_ERROR(any_value(*v, Path{&p, ".value"}, depth, value));
            }
            out[k] = std::move(value);
        }
        return {};
    }

    // `p` names the field (".traceId" below the span's path).
    Status id(const json& o, const char* camel, const char* snake, size_t bytes, bool required,
              const Path& p, std::string& out) {
        const json* v = member(o, camel, snake);
        if (v == nullptr || (v->is_string() && v->get_ref<const std::string&>().empty())) {
            if (required) {
                return bad(p.str(), "missing");
            }
            out.clear();
            return {};
        }
        if (!v->is_string()) {
            return wrong_type(p.str(), "a hex string", *v);
        }
        auto r = normalize_otlp_id(v->get_ref<const std::string&>(), bytes);
        if (!r.ok()) {
            if (!required && r.status().message() == "all zero") {
                out.clear();  // an all-zero parent id means "no parent"
                return {};
            }
            return bad(p.str(), r.status().message() + ", got " + shown(*v));
        }
        out = std::move(r).value();
        return {};
    }

    // `field` is ".<camel>", as the error names it below `path`.
    Status time(const json& o, const char* camel, const char* snake, const char* field,
                const Path& path, uint64_t& out) {
        out = 0;
        const json* v = member(o, camel, snake);
        if (v == nullptr) {
            return {};
        }
        if (!to_uint64(*v, out)) {
            return bad(path.str() + field,
                       "expected unsigned nanoseconds since the Unix epoch (number or decimal "
                       "string), got " +
                           shown(*v));
        }
        return {};
    }

    Status span(const json& s, const Path& path,
                const std::shared_ptr<const AttributeMap>& resource, const std::string& scope_name,
                OtlpSpan& out) {
        if (!s.is_object()) {
            return wrong_type(path.str(), "an object", s);
        }
        ASSAY_RETURN_IF_ERROR(
            id(s, "traceId", "trace_id", 16, true, Path{&path, ".traceId"}, out.trace_id));
        ASSAY_RETURN_IF_ERROR(
            id(s, "spanId", "span_id", 8, true, Path{&path, ".spanId"}, out.span_id));
        ASSAY_RETURN_IF_ERROR(id(s, "parentSpanId", "parent_span_id", 8, false,
                                 Path{&path, ".parentSpanId"}, out.parent_span_id));
        if (const json* flags = member(s, "flags")) {
            uint64_t f = 0;
            if (!to_uint64(*flags, f)) {
                return bad(path.str() + ".flags",
                           "expected an unsigned integer, got " + shown(*flags));
            }
            out.parent_is_remote = otlp_parent_is_remote(out, f);
        }
        if (const json* name = member(s, "name")) {
            if (!name->is_string()) {
                return wrong_type(path.str() + ".name", "a string", *name);
            }
            out.name = name->get<std::string>();
        }
        if (const json* kind = member(s, "kind")) {
            int k = 0;
            if (!to_enum(*kind, k_otlp_span_kind_names, k)) {
                return bad(path.str() + ".kind",
                           "expected a span kind 0-5 or SPAN_KIND_*, got " + shown(*kind));
            }
            out.kind = static_cast<OtlpSpanKind>(k);
        }
        ASSAY_RETURN_IF_ERROR(time(s, "startTimeUnixNano", "start_time_unix_nano",
                                   ".startTimeUnixNano", path, out.start_unix_nano));
        ASSAY_RETURN_IF_ERROR(time(s, "endTimeUnixNano", "end_time_unix_nano", ".endTimeUnixNano",
                                   path, out.end_unix_nano));
        if (Status st = finish_otlp_span_times(out, {}); !st.ok()) {
            return finish_otlp_span_times(out, path.str());  // again, to name the path
        }
        if (const json* attrs = member(s, "attributes")) {
            ASSAY_RETURN_IF_ERROR(
                key_values(*attrs, Path{&path, ".attributes"}, 0, out.attributes));
        }
        if (const json* st = member(s, "status")) {
            if (!st->is_object()) {
                return wrong_type(path.str() + ".status", "an object", *st);
            }
            if (const json* code = member(*st, "code")) {
                int c = 0;
                if (!to_enum(*code, k_otlp_status_code_names, c)) {
                    return bad(path.str() + ".status.code",
                               "expected 0, 1, 2 or STATUS_CODE_*, got " + shown(*code));
                }
                out.status_code = static_cast<OtlpStatusCode>(c);
            }
            if (const json* msg = member(*st, "message")) {
                if (!msg->is_string()) {
                    return wrong_type(path.str() + ".status.message", "a string", *msg);
                }
                out.status_message = msg->get<std::string>();
            }
        }
        if (const json* events = member(s, "events")) {
            if (!events->is_array()) {
                return wrong_type(path.str() + ".events", "an array", *events);
            }
            if (events->size() > m_limits.max_events) {
                return Status::limit_exceeded(
                    path.str() + ".events: " + std::to_string(events->size()) +
                    " events; the limit is " + std::to_string(m_limits.max_events));
            }
            out.events.reserve(events->size());
            for (size_t i = 0; i < events->size(); ++i) {
                const json& e = (*events)[i];
                const Path p{&path, ".events", i};
                if (!e.is_object()) {
                    return wrong_type(p.str(), "an object", e);
                }
                OtlpEvent ev;
                uint64_t t = 0;
                ASSAY_RETURN_IF_ERROR(
                    time(e, "timeUnixNano", "time_unix_nano", ".timeUnixNano", p, t));
                ev.time_unix_ms = static_cast<int64_t>(t / 1000000);
                if (const json* name = member(e, "name")) {
                    if (!name->is_string()) {
                        return wrong_type(p.str() + ".name", "a string", *name);
                    }
                    ev.name = name->get<std::string>();
                }
                if (const json* attrs = member(e, "attributes")) {
                    ASSAY_RETURN_IF_ERROR(
                        key_values(*attrs, Path{&p, ".attributes"}, 0, ev.attributes));
                }
                out.events.push_back(std::move(ev));
            }
        }
        out.resource_attributes = resource;
        out.scope_name = scope_name;
        return {};
    }

    Status request(const json& root, std::vector<OtlpSpan>& out) {
        if (!root.is_object()) {
            return wrong_type("request", "an ExportTraceServiceRequest object", root);
        }
        const json* rss = member(root, "resourceSpans", "resource_spans");
        if (rss == nullptr) {
            return {};
        }
        if (!rss->is_array()) {
            return wrong_type("resourceSpans", "an array", *rss);
        }
        for (size_t r = 0; r < rss->size(); ++r) {
            const json& rs = (*rss)[r];
            const Path rpath{nullptr, "resourceSpans", r};
            if (!rs.is_object()) {
                return wrong_type(rpath.str(), "an object", rs);
            }
            auto resource = std::make_shared<AttributeMap>();
            if (const json* res = member(rs, "resource")) {
                if (!res->is_object()) {
                    return wrong_type(rpath.str() + ".resource", "an object", *res);
                }
                if (const json* attrs = member(*res, "attributes")) {
                    ASSAY_RETURN_IF_ERROR(
                        key_values(*attrs, Path{&rpath, ".resource.attributes"}, 0, *resource));
                }
            }
            std::shared_ptr<const AttributeMap> shared = std::move(resource);
            const char* scope_key = ".scopeSpans";
            const json* sss = member(rs, "scopeSpans", "scope_spans");
            if (sss == nullptr) {
                scope_key = ".instrumentationLibrarySpans";
                sss = member(rs, "instrumentationLibrarySpans", "instrumentation_library_spans");
            }
            if (sss == nullptr) {
                continue;
            }
            if (!sss->is_array()) {
                return wrong_type(rpath.str() + scope_key, "an array", *sss);
            }
            for (size_t s = 0; s < sss->size(); ++s) {
                const json& ss = (*sss)[s];
                const Path spath{&rpath, scope_key, s};
                if (!ss.is_object()) {
                    return wrong_type(spath.str(), "an object", ss);
                }
                std::string scope_name;
                const json* scope = member(ss, "scope");
                if (scope == nullptr) {
                    scope = member(ss, "instrumentationLibrary", "instrumentation_library");
                }
                if (scope != nullptr && scope->is_object()) {
                    if (const json* n = member(*scope, "name"); n != nullptr && n->is_string()) {
                        scope_name = n->get<std::string>();
                    }
                }
                const json* spans = member(ss, "spans");
                if (spans == nullptr) {
                    continue;
                }
                if (!spans->is_array()) {
                    return wrong_type(spath.str() + ".spans", "an array", *spans);
                }
                if (out.size() + spans->size() > m_limits.max_spans) {
                    return Status::limit_exceeded("request holds more than " +
                                                  std::to_string(m_limits.max_spans) + " spans");
                }
                for (size_t i = 0; i < spans->size(); ++i) {
                    OtlpSpan span;
                    ASSAY_RETURN_IF_ERROR(this->span((*spans)[i], Path{&spath, ".spans", i}, shared,
                                                     scope_name, span));
                    out.push_back(std::move(span));
                }
            }
        }
        return {};
    }

private:
    const OtlpLimits& m_limits;
};

}  // namespace

const char* to_string(OtlpSpanKind kind) {
    switch (kind) {
        case OtlpSpanKind::internal:
            return "internal";
        case OtlpSpanKind::server:
            return "server";
        case OtlpSpanKind::client:
            return "client";
        case OtlpSpanKind::producer:
            return "producer";
        case OtlpSpanKind::consumer:
            return "consumer";
        case OtlpSpanKind::unspecified:
            break;
    }
    return "unspecified";
}

double OtlpSpan::duration_ms() const {
    if (!ended) {
        return 0.0;
    }
    return static_cast<double>(end_unix_nano - start_unix_nano) / 1e6;
}

bool otlp_parent_is_remote(const OtlpSpan& s, uint64_t flags) {
    return !s.parent_span_id.empty() && (flags & k_otlp_flag_has_is_remote) != 0 &&
           (flags & k_otlp_flag_is_remote) != 0;
}

Status finish_otlp_span_times(OtlpSpan& s, const std::string& path) {
    if (s.start_unix_nano == 0) {
        return bad(path + ".startTimeUnixNano", "missing or zero");
    }
    s.ended = s.end_unix_nano != 0;
    if (s.ended && s.end_unix_nano < s.start_unix_nano) {
        return bad(path + ".endTimeUnixNano", "before startTimeUnixNano");
    }
    s.start_unix_ms = static_cast<int64_t>(s.start_unix_nano / 1000000);
    s.end_unix_ms = static_cast<int64_t>(s.end_unix_nano / 1000000);
    return {};
}

Result<std::string> normalize_otlp_id(std::string_view id, size_t bytes) {
    std::string hex;
    if (id.size() == bytes * 2) {
        hex.reserve(id.size());
        for (char c : id) {
            const int v = hex_value(c);
            if (v < 0) {
                hex.clear();
                break;
            }
            hex.push_back("0123456789abcdef"[v]);
        }
    }
    if (hex.empty()) {
        hex = base64_to_hex(id, bytes);
    }
    if (hex.empty()) {
        return Status::invalid_argument("expected " + std::to_string(bytes * 2) +
                                        " hex digits or base64 of " + std::to_string(bytes) +
                                        " bytes");
    }
    if (hex.find_first_not_of('0') == std::string::npos) {
        return Status::invalid_argument("all zero");
    }
    return hex;
}

std::string otlp_export_response_json(int64_t rejected_spans, std::string_view error_message) {
    if (rejected_spans <= 0 && error_message.empty()) {
        return "{}";
    }
    nlohmann::json partial = {
        {"rejectedSpans", std::to_string(std::max<int64_t>(rejected_spans, 0))},
        {"errorMessage", std::string(error_message)}};
    return nlohmann::json{{"partialSuccess", std::move(partial)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// The checks before either decoder reads the text: body size and nesting.
Status check_otlp_json_bounds(std::string_view body, const OtlpLimits& limits) {
    if (body.size() > limits.max_body_bytes) {
        return Status::limit_exceeded("request body is " + std::to_string(body.size()) +
                                      " bytes; the limit is " +
                                      std::to_string(limits.max_body_bytes));
    }
    size_t depth = 0;
    const JsonScanEnd end = scan_outside_strings(body, 0, [&](size_t, char c) {
        if (c == '[' || c == '{') {
            return ++depth <= limits.max_depth;
        }
        if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    if (end.stopped) {
        return Status::limit_exceeded("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                      " levels");
    }
    return {};
}

// The tree decoder: the text parsed into a JSON value, then decoded.
Result<std::vector<OtlpSpan>> decode_tree(std::string_view body, const OtlpLimits& limits) {
    nlohmann::json root;
    try {
        // The fast reader (core/fast_json_sax.h) gives nlohmann's events for
        // the text it accepts; anything else is parsed again by nlohmann,
        // whose error names the byte.
        nlohmann::detail::json_sax_dom_parser<nlohmann::json> dom(root, false);
        if (fast_json_sax(body, dom) != FastJsonResult::accepted) {
            root = nlohmann::json::parse(body.begin(), body.end());
        }
    } catch (const nlohmann::json::parse_error& e) {
        return Status::invalid_argument("invalid JSON at byte " + std::to_string(e.byte) + ": " +
                                        escape_invalid_utf8(e.what()));
    } catch (const nlohmann::json::exception& e) {
        // A number out of a double's range (1e309, a 310-digit integer) is
        // out_of_range 406, not a parse_error: still the client's bad JSON.
        return Status::invalid_argument("invalid JSON: " + escape_invalid_utf8(e.what()));
    }
    std::vector<OtlpSpan> spans;
    Decoder decoder(limits);
    ASSAY_RETURN_IF_ERROR(decoder.request(root, spans));
    return spans;
}

}  // namespace

Result<std::vector<OtlpSpan>> parse_otlp_json(std::string_view body, const OtlpLimits& limits) {
    ASSAY_RETURN_IF_ERROR(check_otlp_json_bounds(body, limits));
    // Straight from the reader's events when the request has the SDKs' form
    // (json_stream_decoder.h); else, or on any error, the tree decoder, which
    // names the error.
    std::vector<OtlpSpan> spans;
    if (decode_otlp_json_stream(body, limits, spans)) {
        return spans;
    }
    return decode_tree(body, limits);
}

Result<std::vector<OtlpSpan>> parse_otlp_json_tree(std::string_view body,
                                                   const OtlpLimits& limits) {
    ASSAY_RETURN_IF_ERROR(check_otlp_json_bounds(body, limits));
    return decode_tree(body, limits);
}

}  // namespace assay
