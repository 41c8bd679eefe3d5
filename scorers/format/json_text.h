#pragma once
// Text-level JSON helpers for the format scorer: a validity scan that never
// throws and never recurses (safe on hostile, deeply nested input), fenced
// code block extraction, and a search for JSON embedded in prose.
// Pure functions: thread-safe, no shared state.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace assay::format {

// The outcome of scanning one text as a single JSON value (RFC 8259, strict:
// no comments, no trailing commas, no trailing garbage; leading/trailing
// JSON whitespace allowed; a leading UTF-8 BOM is skipped).
struct JsonScan {
    bool valid = false;
    // "object", "array", "string", "number", "boolean" or "null" when valid.
    const char* top_type = "";
    // Deepest object/array nesting seen (0 for a scalar), also when invalid.
    size_t max_depth = 0;
    // When invalid: the parser's message (without nlohmann's prefix) and the
    // byte offset it stopped at.
    std::string error;
    size_t error_offset = 0;
};

// Scans `text` as one JSON value. Iterative: a 100000-deep array costs
// memory linear in depth, never stack. Never throws.
JsonScan scan_json(std::string_view text);

// A fenced Markdown code block (``` with an info string of "json" or none).
struct FencedBlock {
    std::string_view content;  // the lines between the fences
    size_t line = 0;           // 1-based line of the opening fence
    std::string info;          // lower-cased info string ("" or "json")
    bool closed = true;        // false when the text ends before the closing fence
    size_t open_offset = 0;    // byte offset where the opening fence line starts
    size_t close_end = 0;   // byte offset just past the closing fence line (text size if unclosed)
    size_t candidates = 0;  // how many json/plain fenced blocks the text has
};

// The first fenced block whose info string is empty or "json" (ASCII case-
// insensitive), or nullopt. Blocks with another info string (```python) are
// skipped. The opening fence is a line whose first non-blank characters are
// three or more backticks; the closing fence is a line of at least as many
// backticks and nothing else.
std::optional<FencedBlock> find_json_fence(std::string_view text);

// JSON embedded in prose: the byte offset and type ("object"/"array") of the
// first '{' or '[' at which a complete JSON object or array starts. Tries at
// most `max_candidates` start positions, so hostile text costs
// O(max_candidates * size). nullopt when none found.
struct EmbeddedJson {
    size_t offset = 0;
    const char* type = "";
};
std::optional<EmbeddedJson> find_json_in_prose(std::string_view text, size_t max_candidates = 16);

// excerpt() (core/text.h) of `s`, with every byte that is not well-formed
// UTF-8 replaced by U+FFFD, so explanations built from hostile output are
// always valid UTF-8 (JSON serialisation of scores would otherwise fail).
std::string safe_excerpt(std::string_view s, size_t max_bytes);

}  // namespace assay::format
