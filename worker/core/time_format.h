#pragma once
// RFC 3339 timestamps <-> Unix epoch milliseconds. Pure functions:
// thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace assay {

// Parses RFC 3339 ("2026-11-22T10:00:00Z", "...T10:00:00.123+02:00") into
// Unix epoch milliseconds; invalid_argument naming the text on failure.
Result<int64_t> parse_rfc3339_ms(std::string_view s);
// Formats epoch milliseconds as "2026-11-22T10:00:00.000Z".
std::string format_rfc3339_ms(int64_t ms);

}  // namespace assay
