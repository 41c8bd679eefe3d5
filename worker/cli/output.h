#pragma once
// Terminal output helpers for the CLI: aligned tables, logging setup, and
// the --since parser. Not thread-safe (CLI main thread only).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace assay::cli {

// Prints rows as an aligned table (first row is the header) to stdout.
// Widths count code points, so UTF-8 content lines up.
void print_table(const std::vector<std::vector<std::string>>& rows);

// Creates the named loggers (ingest, store, pipeline, judge, cli, monitor, review) on stderr with
// the configured level and format (text, or one JSON object per line).
void setup_logging(const LogOptions& options);

// "7d", "12h", "30m", or an RFC 3339 time -> epoch ms lower bound.
Result<int64_t> parse_since(const std::string& s, int64_t now_ms);

// printf-style double formatting.
std::string fmt_double(double v, int precision);

}  // namespace assay::cli
