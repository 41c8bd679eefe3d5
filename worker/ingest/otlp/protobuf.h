#pragma once
// OTLP protobuf → spans: decodes the binary protobuf encoding of an
// ExportTraceServiceRequest (the body of `POST /v1/traces` with Content-Type
// application/x-protobuf, and the message of the gRPC method
// TraceService/Export) into the same OtlpSpan values as the JSON decoder
// (ingest/otlp/mapper.h), under the same OtlpLimits and the same span rules,
// so every door feeds one span pipeline. The messages come from the project's
// own otlp_trace.proto (field numbers from the OTLP specification); fields it
// does not declare are skipped. Also encodes the answers: an
// ExportTraceServiceResponse, and a google.rpc.Status (with RetryInfo when a
// retry delay is given) for errors.
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/otlp/mapper.h"

namespace assay {

// Decodes a protobuf ExportTraceServiceRequest. An empty body is an empty
// request (no spans). On failure no span is returned:
//   - limit_exceeded when the body or a bound of `limits` is exceeded (body
//     bytes, spans, attributes, events, key bytes, value nesting), naming it;
//   - invalid_argument when the bytes are not a valid message ("not a valid
//     protobuf ExportTraceServiceRequest (N bytes)") or a span breaks a rule
//     the JSON decoder also enforces (ids of the wrong length or all zero,
//     missing start time, end before start), naming the field's path, e.g.
//     "resourceSpans[0].scopeSpans[0].spans[2].traceId: expected 16 bytes, got 3".
// Ids become lowercase hex; bytesValue attributes become base64 strings.
// Never throws.
Result<std::vector<OtlpSpan>> parse_otlp_protobuf(std::string_view body,
                                                  const OtlpLimits& limits = {});

// An ExportTraceServiceResponse: empty (zero bytes) when nothing was
// rejected, else with partial_success {rejected_spans, error_message}.
std::string otlp_export_response_protobuf(int64_t rejected_spans, std::string_view error_message);

// A google.rpc.Status {code, message}; with retry_delay_s > 0 it carries a
// google.rpc.RetryInfo detail (the OTLP way to say when to retry).
std::string otlp_rpc_status_protobuf(int grpc_code, std::string_view message,
                                     int retry_delay_s = 0);

}  // namespace assay
