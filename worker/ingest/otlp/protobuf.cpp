#include "ingest/otlp/protobuf.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "ingest/otlp/decode_path.h"
#include "ingest/otlp/otlp_trace.pb.h"

namespace assay {

namespace {

namespace pb = opentelemetry::proto::collector::trace::v1;
using nlohmann::json;

// Message nesting above the attribute values (request → resource spans →
// scope spans → span → event → key value) and per level of value nesting
// (AnyValue → ArrayValue/KeyValueList → KeyValue).
constexpr int k_fixed_nesting = 8;
constexpr int k_nesting_per_value = 3;

std::string to_hex(const std::string& bytes) {
    static const char* k_digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += k_digits[c >> 4];
        out += k_digits[c & 15];
    }
    return out;
}

std::string to_base64(const std::string& bytes) {
    static const char* k_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += k_alphabet[(n >> 6) & 63];
        out += k_alphabet[n & 63];
    }
    if (i < bytes.size()) {
        uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) {
            n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        }
        out += k_alphabet[(n >> 18) & 63];
        out += k_alphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? k_alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

Status bad(const std::string& path, const std::string& what) {
    return Status::invalid_argument(path + ": " + what);
}

using Path = DecodePath;

class Converter {
public:
    explicit Converter(const OtlpLimits& limits) : m_limits(limits) {}

    Status any_value(const pb::AnyValue& v, const Path& path, size_t depth, json& out) {
        if (depth > m_limits.max_value_depth) {
            return Status::limit_exceeded(path.str() + ": attribute value nests deeper than " +
                                          std::to_string(m_limits.max_value_depth) + " levels");
        }
        switch (v.value_case()) {
            case pb::AnyValue::kStringValue:
                out = v.string_value();
                return {};
            case pb::AnyValue::kBoolValue:
                out = v.bool_value();
                return {};
            case pb::AnyValue::kIntValue:
                out = v.int_value();
                return {};
            case pb::AnyValue::kDoubleValue:
                out = std::isfinite(v.double_value()) ? json(v.double_value()) : json(nullptr);
                return {};
            case pb::AnyValue::kArrayValue: {
                out = json::array();
                const auto& values = v.array_value().values();
                for (int i = 0; i < values.size(); ++i) {
                    json item;
                    ASSAY_RETURN_IF_ERROR(any_value(values[i], Path{&path, ".arrayValue.values", i},
                                                    depth + 1, item));
                    out.push_back(std::move(item));
                }
                return {};
            }
            case pb::AnyValue::kKvlistValue: {
                AttributeMap inner;
                ASSAY_RETURN_IF_ERROR(key_values(v.kvlist_value().values(),
                                                 Path{&path, ".kvlistValue.values"}, depth + 1,
                                                 inner));
                out = json::object();
                for (auto& [k, x] : inner) {
                    out[k] = std::move(x);
                }
                return {};
            }
            case pb::AnyValue::kBytesValue:
                out = to_base64(v.bytes_value());
                return {};
            case pb::AnyValue::VALUE_NOT_SET:
                break;
        }
        out = nullptr;
        return {};
    }

    // Later duplicates win, as in the JSON decoder.
    Status key_values(const google::protobuf::RepeatedPtrField<pb::KeyValue>& kvs, const Path& path,
                      size_t depth, AttributeMap& out) {
        if (static_cast<size_t>(kvs.size()) > m_limits.max_attributes) {
            return Status::limit_exceeded(path.str() + ": " + std::to_string(kvs.size()) +
                                          " attributes; the limit is " +
                                          std::to_string(m_limits.max_attributes));
        }
        for (int i = 0; i < kvs.size(); ++i) {
            const pb::KeyValue& kv = kvs[i];
            const Path p{&path, "", i};
            if (kv.key().size() > m_limits.max_key_bytes) {
                return Status::limit_exceeded(p.str() + ".key: longer than " +
                                              std::to_string(m_limits.max_key_bytes) + " bytes");
            }
            json value;
            if (kv.has_value()) {
                ASSAY_RETURN_IF_ERROR(any_value(kv.value(), Path{&p, ".value"}, depth, value));
            }
            out[kv.key()] = std::move(value);
        }
        return {};
    }

    static Status id(const std::string& raw, size_t bytes, bool required, const Path& path,
                     std::string& out) {
        out.clear();
        if (raw.empty()) {
            return required ? bad(path.str(), "missing") : Status{};
        }
        if (raw.size() != bytes) {
            return bad(path.str(), "expected " + std::to_string(bytes) + " bytes, got " +
                                       std::to_string(raw.size()));
        }
        if (raw.find_first_not_of('\0') == std::string::npos) {
            // An all-zero parent id means "no parent"; a trace or span id
            // must not be all zero.
            return required ? bad(path.str(), "all zero") : Status{};
        }
        out = to_hex(raw);
        return {};
    }

    Status span(const pb::Span& s, const Path& path,
                const std::shared_ptr<const AttributeMap>& resource, const std::string& scope_name,
                OtlpSpan& out) {
        ASSAY_RETURN_IF_ERROR(id(s.trace_id(), 16, true, Path{&path, ".traceId"}, out.trace_id));
        ASSAY_RETURN_IF_ERROR(id(s.span_id(), 8, true, Path{&path, ".spanId"}, out.span_id));
        ASSAY_RETURN_IF_ERROR(
            id(s.parent_span_id(), 8, false, Path{&path, ".parentSpanId"}, out.parent_span_id));
        out.parent_is_remote = otlp_parent_is_remote(out, s.flags());
        out.name = s.name();
        if (s.kind() < 0 || s.kind() > 5) {
            return bad(path.str() + ".kind",
                       "expected a span kind 0-5, got " + std::to_string(s.kind()));
        }
        out.kind = static_cast<OtlpSpanKind>(s.kind());
        out.start_unix_nano = s.start_time_unix_nano();
        out.end_unix_nano = s.end_time_unix_nano();
        if (Status st = finish_otlp_span_times(out, {}); !st.ok()) {
            return finish_otlp_span_times(out, path.str());  // again, to name the path
        }
        ASSAY_RETURN_IF_ERROR(
            key_values(s.attributes(), Path{&path, ".attributes"}, 0, out.attributes));
        if (s.has_status()) {
            if (s.status().code() < 0 || s.status().code() > 2) {
                return bad(path.str() + ".status.code",
                           "expected 0, 1 or 2, got " + std::to_string(s.status().code()));
            }
            out.status_code = static_cast<OtlpStatusCode>(s.status().code());
            out.status_message = s.status().message();
        }
        if (static_cast<size_t>(s.events_size()) > m_limits.max_events) {
            return Status::limit_exceeded(
                path.str() + ".events: " + std::to_string(s.events_size()) +
                " events; the limit is " + std::to_string(m_limits.max_events));
        }
        out.events.reserve(static_cast<size_t>(s.events_size()));
        for (int i = 0; i < s.events_size(); ++i) {
            const pb::Span::Event& e = s.events(i);
            OtlpEvent ev;
            ev.time_unix_ms = static_cast<int64_t>(e.time_unix_nano() / 1000000);
            ev.name = e.name();
            const Path event{&path, ".events", i};
            ASSAY_RETURN_IF_ERROR(
                key_values(e.attributes(), Path{&event, ".attributes"}, 0, ev.attributes));
            out.events.push_back(std::move(ev));
        }
        out.resource_attributes = resource;
        out.scope_name = scope_name;
        return {};
    }

    Status scope_spans(const google::protobuf::RepeatedPtrField<pb::ScopeSpans>& sss,
                       const Path& path, const std::shared_ptr<const AttributeMap>& resource,
                       std::vector<OtlpSpan>& out) {
        for (int s = 0; s < sss.size(); ++s) {
            const pb::ScopeSpans& ss = sss[s];
            const Path spath{&path, "", s};
            if (out.size() + static_cast<size_t>(ss.spans_size()) > m_limits.max_spans) {
                return Status::limit_exceeded("request holds more than " +
                                              std::to_string(m_limits.max_spans) + " spans");
            }
            for (int i = 0; i < ss.spans_size(); ++i) {
                OtlpSpan span;
                ASSAY_RETURN_IF_ERROR(this->span(ss.spans(i), Path{&spath, ".spans", i}, resource,
                                                 ss.scope().name(), span));
                out.push_back(std::move(span));
            }
        }
        return {};
    }

    Status request(const pb::ExportTraceServiceRequest& req, std::vector<OtlpSpan>& out) {
        for (int r = 0; r < req.resource_spans_size(); ++r) {
            const pb::ResourceSpans& rs = req.resource_spans(r);
            const Path rpath{nullptr, "resourceSpans", r};
            auto resource = std::make_shared<AttributeMap>();
            ASSAY_RETURN_IF_ERROR(key_values(rs.resource().attributes(),
                                             Path{&rpath, ".resource.attributes"}, 0, *resource));
            std::shared_ptr<const AttributeMap> shared = std::move(resource);
            ASSAY_RETURN_IF_ERROR(
                scope_spans(rs.scope_spans(), Path{&rpath, ".scopeSpans"}, shared, out));
            ASSAY_RETURN_IF_ERROR(scope_spans(rs.instrumentation_library_spans(),
                                              Path{&rpath, ".instrumentationLibrarySpans"}, shared,
                                              out));
        }
        return {};
    }

private:
    const OtlpLimits& m_limits;
};

}  // namespace

Result<std::vector<OtlpSpan>> parse_otlp_protobuf(std::string_view body, const OtlpLimits& limits) {
    if (body.size() > limits.max_body_bytes) {
        return Status::limit_exceeded("request body is " + std::to_string(body.size()) +
                                      " bytes; the limit is " +
                                      std::to_string(limits.max_body_bytes));
    }
    if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return Status::limit_exceeded("request body over 2 GiB");
    }
    // The decoded request lives in an arena: its many small messages and
    // strings are carved from a few blocks and freed together, instead of
    // one allocation and one free each (they are copied into OtlpSpans).
    google::protobuf::ArenaOptions arena_options;
    // Block sizes in whole pages: the arena puts its cleanup nodes (8-byte
    // aligned) at the end of a block, so a block of any other size misaligns
    // them (UBSan: "misaligned address" in arena.h).
    arena_options.start_block_size =
        std::min<size_t>((body.size() * 2 + 8191) & ~size_t{4095}, 1u << 20);
    arena_options.max_block_size = 8u << 20;
    google::protobuf::Arena arena(arena_options);
    pb::ExportTraceServiceRequest& req =
        *google::protobuf::Arena::CreateMessage<pb::ExportTraceServiceRequest>(&arena);
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                              static_cast<int>(body.size()));
    const size_t nesting =
        k_fixed_nesting + k_nesting_per_value * (std::min<size_t>(limits.max_value_depth, 64) + 1);
    in.SetRecursionLimit(static_cast<int>(nesting));
    if (!req.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
        return Status::invalid_argument("not a valid protobuf ExportTraceServiceRequest (" +
                                        std::to_string(body.size()) +
                                        " bytes; truncated, not protobuf, nested deeper than " +
                                        std::to_string(limits.max_value_depth) +
                                        " attribute levels, or a string that is not UTF-8)");
    }
    std::vector<OtlpSpan> spans;
    Converter converter(limits);
    ASSAY_RETURN_IF_ERROR(converter.request(req, spans));
    return spans;
}

std::string otlp_export_response_protobuf(int64_t rejected_spans, std::string_view error_message) {
    pb::ExportTraceServiceResponse resp;
    if (rejected_spans > 0 || !error_message.empty()) {
        auto* partial = resp.mutable_partial_success();
        partial->set_rejected_spans(std::max<int64_t>(rejected_spans, 0));
        partial->set_error_message(std::string(error_message));
    }
    return resp.SerializeAsString();
}

std::string otlp_rpc_status_protobuf(int grpc_code, std::string_view message, int retry_delay_s) {
    pb::RpcStatus status;
    status.set_code(grpc_code);
    status.set_message(std::string(message));
    if (retry_delay_s > 0) {
        pb::RetryInfo retry;
        retry.mutable_retry_delay()->set_seconds(retry_delay_s);
        pb::RpcAny* any = status.add_details();
        any->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
        any->set_value(retry.SerializeAsString());
    }
    return status.SerializeAsString();
}

}  // namespace assay
