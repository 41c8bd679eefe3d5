#pragma once
// Turns one JSON text into a Trace, enforcing the contract in README.md
// ("Trace format") and the hostile-input limits. Pure function: thread-safe.

#include <cstddef>
#include <cstdint>
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
//     JSON (with position), a missing required field, or a field of the
//     wrong type; the message names the field, e.g.
//     "field 'usage.input_tokens': expected a non-negative integer, got string".
// Never throws.
Result<Trace> parse_trace(std::string_view text, const ParseLimits& limits, int64_t received_ms);
// Same; on success the trace takes `text` as its raw form (no copy), on
// failure `text` is left untouched (for the dead-letter table).
Result<Trace> parse_trace(std::string&& text, const ParseLimits& limits, int64_t received_ms);

// Parses RFC 3339 ("2026-11-22T10:00:00Z", "...T10:00:00.123+02:00") into
// Unix epoch milliseconds; nullopt-like failure as invalid_argument.
Result<int64_t> parse_rfc3339_ms(std::string_view s);
// Formats epoch milliseconds as "2026-11-22T10:00:00.000Z".
std::string format_rfc3339_ms(int64_t ms);

// Milliseconds since the Unix epoch, now.
int64_t now_ms();

}  // namespace assay
