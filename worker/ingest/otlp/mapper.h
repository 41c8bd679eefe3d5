#pragma once
// OTLP/HTTP JSON → spans: decodes the JSON encoding of an OpenTelemetry
// ExportTraceServiceRequest (the body of `POST /v1/traces` with
// Content-Type: application/json) into flat OtlpSpan values. It does not group
// spans into traces (ingest/trace_assembler.h does) and does no I/O.
//
// Accepted encoding (OTLP spec, "JSON Protobuf Encoding"):
//   - traceId / spanId / parentSpanId as hex strings (case-insensitive; the
//     spec's form and what the OpenTelemetry JS exporter sends) or base64 of
//     the raw bytes (standard or URL alphabet, padding optional), as generic
//     protobuf-JSON encoders send them. Ids are stored as lowercase hex.
//   - 64-bit integers (times, intValue) as decimal strings or JSON numbers;
//     enums (kind, status.code) as integers or their proto names
//     ("SPAN_KIND_CLIENT", "STATUS_CODE_ERROR").
//   - lowerCamelCase keys, and also the proto field names (snake_case);
//     "instrumentationLibrarySpans" as an old alias of "scopeSpans". Unknown
//     keys are ignored, as the spec requires.
// Pure functions: thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace assay {

// Attribute key → value. AnyValue maps to JSON: stringValue → string,
// intValue → integer, doubleValue → number (NaN/Infinity → null), boolValue →
// bool, arrayValue → array, kvlistValue → object, bytesValue → its base64
// string, an empty AnyValue → null.
using AttributeMap = std::map<std::string, nlohmann::json, std::less<>>;

// OTLP span kinds (the proto enum values).
enum class OtlpSpanKind {
    unspecified = 0,
    internal = 1,
    server = 2,
    client = 3,
    producer = 4,
    consumer = 5
};
// OTLP status codes (the proto enum values).
enum class OtlpStatusCode { unset = 0, ok = 1, error = 2 };

const char* to_string(OtlpSpanKind kind);  // "internal", "client", ...

struct OtlpEvent {
    std::string name;
    int64_t time_unix_ms = 0;
    AttributeMap attributes;
};

struct OtlpSpan {
    std::string trace_id;        // 32 lowercase hex digits, never all zero
    std::string span_id;         // 16 lowercase hex digits, never all zero
    std::string parent_span_id;  // 16 lowercase hex digits, or empty for a root
    // True when the span's flags say its parent lives in another process
    // (SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK): such a span is the local root.
    bool parent_is_remote = false;
    std::string name;
    OtlpSpanKind kind = OtlpSpanKind::unspecified;
    uint64_t start_unix_nano = 0;
    uint64_t end_unix_nano = 0;  // 0 when the span has not ended
    int64_t start_unix_ms = 0;   // start_unix_nano / 1e6, rounded down
    int64_t end_unix_ms = 0;     // end_unix_nano / 1e6, rounded down; 0 when not ended
    bool ended = false;          // endTimeUnixNano present and non-zero
    OtlpStatusCode status_code = OtlpStatusCode::unset;
    std::string status_message;
    AttributeMap attributes;  // span attributes
    // Attributes of the span's resource (service.name, ...). Shared by every
    // span of one resourceSpans entry, so a large resource is stored once,
    // whatever the number of spans; never null.
    std::shared_ptr<const AttributeMap> resource_attributes;
    std::string scope_name;  // instrumentation scope name
    std::vector<OtlpEvent> events;

    // Duration in milliseconds (fractional); 0 when not ended.
    double duration_ms() const;
};

// Bounds applied to untrusted payloads. Exceeding one is limit_exceeded.
struct OtlpLimits {
    // Whole request body. The tree decoder (forms the streaming decoder
    // declines, and errors) holds the parsed JSON in memory: peak transient
    // memory about 8x the body (measured: 15 MB → 158 MB RSS); the streaming
    // decoder holds the spans it builds.
    size_t max_body_bytes = 8 * 1024 * 1024;
    size_t max_depth = 64;         // JSON nesting, checked before parsing
    size_t max_spans = 100000;     // spans in one request
    size_t max_attributes = 1024;  // attributes on one span, resource or event
    size_t max_events = 1024;      // events on one span
    size_t max_value_depth = 16;   // nesting of arrayValue/kvlistValue
    size_t max_key_bytes = 1024;   // one attribute key
};

// Span flags (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK).
inline constexpr uint64_t k_otlp_flag_has_is_remote = 0x100;
inline constexpr uint64_t k_otlp_flag_is_remote = 0x200;

// Decodes an ExportTraceServiceRequest in the OTLP JSON encoding. An empty
// request ({} or {"resourceSpans": []}) gives an empty vector. On failure
// returns (and no span is returned: the request is rejected as a whole):
//   - limit_exceeded when a bound in `limits` is exceeded (the message names
//     the limit and, past the body checks, the path);
//   - invalid_argument for invalid JSON (with the byte position) or a field
//     of the wrong shape, naming its path, e.g.
//     "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits
//      or base64 of 16 bytes, got \"abc\"".
// Never throws; recursion over nested attribute values is bounded by
// limits.max_value_depth.
// Requests in the form the SDKs send are decoded straight from the JSON
// reader's events (ingest/otlp/json_stream_decoder.h); any other form, and
// every error, by a decoder that reads the parsed JSON value.
Result<std::vector<OtlpSpan>> parse_otlp_json(std::string_view body, const OtlpLimits& limits = {});
// The same with the JSON value decoder alone, whatever the form (the tests
// and the otlp_json fuzz target compare the two on what the first accepts).
Result<std::vector<OtlpSpan>> parse_otlp_json_tree(std::string_view body,
                                                   const OtlpLimits& limits = {});

// Encodes spans back into an ExportTraceServiceRequest in the OTLP JSON
// encoding (hex ids, string nano times, one resourceSpans entry for each
// distinct resource, one scopeSpans entry for each scope name), so pending
// spans can be persisted and later re-read with parse_otlp_json, which gives
// equal spans back (attribute numbers that are integral doubles may come
// back as doubles; values are otherwise preserved). Written directly, without
// a JSON tree (ingest/otlp/json_writer.cpp): keys in sorted order. Never throws.
std::string to_otlp_json(const std::vector<OtlpSpan>& spans);
// The same for one span, and for the spans pointed to (what the intake
// stores per row: ingest/otlp/pending_rows.h), without copying them.
std::string to_otlp_json(const OtlpSpan& span);
std::string to_otlp_json(const std::vector<const OtlpSpan*>& spans);

// The JSON body of an ExportTraceServiceResponse: "{}" when nothing was
// rejected, else {"partialSuccess": {"rejectedSpans": "<n>", "errorMessage":
// "<message>"}} (int64 as a string, per the proto3 JSON mapping).
std::string otlp_export_response_json(int64_t rejected_spans, std::string_view error_message);

// The rules every OTLP encoding's decoder shares (ingest/otlp/protobuf.h too):
// true when a span with a parent has flags saying that parent is remote
// (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK and SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK).
bool otlp_parent_is_remote(const OtlpSpan& s, uint64_t flags);
// Checks s.start_unix_nano (present) and s.end_unix_nano (0, or not before the
// start) and derives the ms times and `ended`. invalid_argument naming
// `path`.startTimeUnixNano / .endTimeUnixNano otherwise.
Status finish_otlp_span_times(OtlpSpan& s, const std::string& path);

// Normalises an OTLP id (hex or base64, see above) of `bytes` raw bytes to
// lowercase hex; invalid_argument (without a path) when it is neither, or
// when it is all zero.
Result<std::string> normalize_otlp_id(std::string_view id, size_t bytes);

}  // namespace assay
