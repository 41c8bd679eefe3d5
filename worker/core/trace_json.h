#pragma once
// The trace model's JSON codec: turns one JSON text into a Trace, enforcing the contract in
// README.md
// ("Trace format") and the hostile-input limits. Pure function: thread-safe.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/trace.h"

namespace assay {

struct ParseLimits {
    size_t max_trace_bytes = 4 * 1024 * 1024;  // ingest.max_trace_bytes
    size_t max_depth = 64;                     // ingest.max_depth: nesting of [ and {
};

// Parses `text` into a Trace. `received_ms` is used when no timestamp is
// given. On failure returns:
//   - limit_exceeded when the text is larger than max_trace_bytes or nests
//     deeper than max_depth (checked before any JSON parsing);
//   - invalid_argument for invalid UTF-8 (with the byte offset), invalid
//     JSON (what was found and where), a missing required field, or a field
//     of the wrong type; the message names the field and the value, e.g.
//     "field 'usage.input_tokens': expected a non-negative integer, got the
//     string \"many\"".
// Never throws.
Result<Trace> parse_trace(std::string_view text, const ParseLimits& limits, int64_t received_ms);
// Same; on success the trace takes `text` as its raw form (no copy), on
// failure `text` is left untouched (for the dead-letter table).
Result<Trace> parse_trace(std::string&& text, const ParseLimits& limits, int64_t received_ms);

// Builds a Trace from a JSON value the caller already holds (assembled from
// OTLP spans, or made by the gate), without printing and re-parsing it: the
// same contract and messages as parse_trace. On success `raw` is the value's
// compact JSON text (what the store keeps). The size and depth limits do not
// apply: the caller built the value.
Result<Trace> trace_from_json(const nlohmann::json& value, int64_t received_ms);

// Parses the raw text of a trace the store already accepted (review pages,
// the judge stage, backfill): no size limit and a nesting limit of 10,000
// (both were checked on the way in, perhaps under other settings).
Result<Trace> parse_stored_trace(std::string_view raw, int64_t received_ms);

}  // namespace assay
