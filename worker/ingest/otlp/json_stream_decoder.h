#pragma once
// decode_otlp_json_stream: the OTLP JSON encoding decoded straight from the
// JSON reader's events (core/fast_json_sax.h) into OtlpSpans, without a JSON
// tree: the fast path of parse_otlp_json (mapper.h) for requests in the form
// the OpenTelemetry SDKs send them (camelCase keys, each known key once per
// object, values of the types the specification gives).
//
// It declines anything else and returns false (`out` is then unspecified):
// a snake_case or old alias (instrumentationLibrarySpans), a known key twice
// in one object, a value of another type, an AnyValue with
// two typed members, a limit of OtlpLimits reached, an invalid id or time,
// text the fast reader does not take. parse_otlp_json then decodes the text
// with the tree decoder, which gives the spans or names the error exactly as
// it always has. What this accepts, it decodes as the tree decoder would:
// the same spans, attributes and values (tested on every fixture, and by the
// otlp_json fuzz target on every input it accepts).
//
// Pure; thread-safe. Call after parse_otlp_json's body and depth checks.

#include <string_view>
#include <vector>

#include "ingest/otlp/mapper.h"

namespace assay {

bool decode_otlp_json_stream(std::string_view body, const OtlpLimits& limits,
                             std::vector<OtlpSpan>& out);

}  // namespace assay
