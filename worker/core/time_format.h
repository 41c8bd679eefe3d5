#pragma once
// RFC 3339 timestamps <-> Unix epoch milliseconds. Pure functions:
// thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace assay {

// Parses RFC 3339 ("2026-11-22T10:00:00Z", "...T10:00:00.123+02:00") into
// Unix epoch milliseconds; invalid_argument naming the text on failure.
Result<int64_t> parse_rfc3339_ms(std::string_view s);
// Is Y-M-D a day of the proleptic Gregorian calendar (February 29 only in
// leap years)? The one date check every parser here uses.
bool is_valid_date(int64_t y, int m, int d);
// Days since 1970-01-01 of a valid Y-M-D (is_valid_date first).
int64_t days_from_civil(int64_t y, int m, int d);
// "2026-11-22" (exactly YYYY-MM-DD, a real day) -> days since 1970-01-01;
// nullopt otherwise (2026-02-29 and 2026-04-31 alike).
std::optional<int64_t> parse_day(std::string_view s);
// Formats epoch milliseconds as "2026-11-22T10:00:00.000Z".
std::string format_rfc3339_ms(int64_t ms);

}  // namespace assay
