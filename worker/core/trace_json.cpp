#include "core/trace_json.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_scan.h"
#include "core/text.h"
#include "core/trace_sax.h"

namespace assay {

namespace {

// Depth of [ and { nesting outside strings; stops early past `limit`.
size_t nesting_depth(std::string_view s, size_t limit) {
    size_t depth = 0;
    size_t max_depth = 0;
    scan_outside_strings(s, 0, [&](size_t, char c) {
        if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
            return max_depth <= limit;
        }
        if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        return true;
    });
    return max_depth;
}

// How often `c` occurs in `s`, counted up to `limit` (memchr jumps over the
// long stretches of text between brackets).
size_t count_up_to(std::string_view s, char c, size_t limit) {
    size_t n = 0;
    const char* p = s.data();
    const char* end = p + s.size();
    while (n < limit && p < end) {
        const void* hit = std::memchr(p, c, static_cast<size_t>(end - p));
        if (hit == nullptr) {
            break;
        }
        ++n;
        p = static_cast<const char*>(hit) + 1;
    }
    return n;
}

Result<Trace> parse_impl(std::string_view text, const ParseLimits& limits, int64_t received_ms) {
    if (text.size() > limits.max_trace_bytes) {
        return Status::limit_exceeded("trace is " + std::to_string(text.size()) +
                                      " bytes; the limit (ingest.max_trace_bytes) is " +
                                      std::to_string(limits.max_trace_bytes));
    }
    // Fast path: a text with few brackets cannot nest deeply.
    const size_t brackets =
        count_up_to(text, '[', limits.max_depth + 1) + count_up_to(text, '{', limits.max_depth + 1);
    if (brackets > limits.max_depth && nesting_depth(text, limits.max_depth) > limits.max_depth) {
        return Status::limit_exceeded("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                      " levels (ingest.max_depth)");
    }
    Trace t;
    t.received_ms = received_ms;
    Status st = build_trace(text, received_ms, t);
    if (!st.ok()) {
        // The JSON parser rejects ill-formed UTF-8 too; name the byte.
        if (st.message().rfind("invalid JSON", 0) == 0) {
            size_t bad = find_invalid_utf8(text);
            if (bad != std::string_view::npos) {
                return Status::invalid_argument("invalid UTF-8 at byte " + std::to_string(bad));
            }
        }
        return st;
    }
    return t;
}

}  // namespace

Result<Trace> parse_trace(std::string_view text, const ParseLimits& limits, int64_t received_ms) {
    auto t = parse_impl(text, limits, received_ms);
    if (t.ok()) {
        t->raw.assign(text.data(), text.size());
    }
    return t;
}

Result<Trace> parse_trace(std::string&& text, const ParseLimits& limits, int64_t received_ms) {
    auto t = parse_impl(text, limits, received_ms);
    if (t.ok()) {
        t->raw = std::move(text);
    }
    return t;
}

Result<Trace> trace_from_json(const nlohmann::json& value, int64_t received_ms) {
    Trace t;
    t.received_ms = received_ms;
    ASSAY_RETURN_IF_ERROR(build_trace(value, received_ms, t));
    t.raw = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return t;
}

Result<Trace> parse_stored_trace(std::string_view raw, int64_t received_ms) {
    ParseLimits limits;
    limits.max_trace_bytes = std::numeric_limits<size_t>::max();
    limits.max_depth = 10000;
    return parse_trace(raw, limits, received_ms);
}

}  // namespace assay
