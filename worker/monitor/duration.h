#pragma once
// Durations in config and flags: "90s", "30m", "12h", "7d", "2w". Pure.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace assay {

// Milliseconds; invalid_argument (naming the text) when malformed or <= 0.
Result<int64_t> parse_duration_ms(const std::string& text);
// The shortest exact spelling, e.g. 604800000 -> "7d".
std::string format_duration(int64_t ms);

}  // namespace assay
