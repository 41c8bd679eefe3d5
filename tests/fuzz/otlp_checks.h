#pragma once
// The invariants of the OTLP fuzz targets (tests/fuzz/otlp_*.cpp) on the spans
// a decoder returned: they respect the limits, and they encode with to_otlp_json
// (how pending spans are persisted) into a request parse_otlp_json decodes
// again into the same spans (ids, names, kinds, times, status), and encoding
// those gives the same text (a fixpoint). Aborts through FUZZ_CHECK otherwise.
// Header-only.
//
// fuzz_otlp_limits(): small bounds, so that the fuzzer reaches them.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ingest/otlp/mapper.h"

namespace assay::fuzz {

inline OtlpLimits fuzz_otlp_limits() {
    OtlpLimits limits;
    limits.max_spans = 1000;
    limits.max_attributes = 64;
    limits.max_events = 64;
    limits.max_value_depth = 8;
    return limits;
}

// One line per span with the fields every encoding keeps exactly, sorted (the
// encoder groups spans by resource and scope, so their order may change).
inline std::vector<std::string> span_lines(const std::vector<OtlpSpan>& spans) {
    std::vector<std::string> lines;
    for (const auto& s : spans) {
        lines.push_back(s.trace_id + " " + s.span_id + " " + s.parent_span_id + " " +
                        (s.parent_is_remote ? "remote " : "") + std::to_string(int(s.kind)) + " " +
                        std::to_string(s.start_unix_nano) + " " + std::to_string(s.end_unix_nano) +
                        " " + std::to_string(int(s.status_code)) + " " + s.status_message + " " +
                        s.scope_name + " " + std::to_string(s.attributes.size()) + " " +
                        std::to_string(s.events.size()) + " " + s.name);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

inline std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) {
        s += l + "\n";
    }
    return s;
}

// `limits`: the ones `spans` were decoded under (the count bounds still hold;
// the body size and JSON nesting of the encoding may differ from the input's).
inline void check_otlp_spans(const std::vector<OtlpSpan>& spans, const OtlpLimits& limits) {
    FUZZ_CHECK(spans.size() <= limits.max_spans, "more spans than max_spans");
    for (const auto& s : spans) {
        FUZZ_CHECK(s.trace_id.size() == 32 && s.span_id.size() == 16, "bad ids: " + s.trace_id);
        FUZZ_CHECK(s.attributes.size() <= limits.max_attributes, "more attributes than the limit");
        FUZZ_CHECK(s.events.size() <= limits.max_events, "more events than the limit");
        FUZZ_CHECK(!s.ended || s.end_unix_nano >= s.start_unix_nano, "ends before it starts");
    }
    const std::string encoded = to_otlp_json(spans);
    OtlpLimits relaxed = limits;
    relaxed.max_body_bytes = encoded.size();
    relaxed.max_depth = 16 + 4 * limits.max_value_depth;
    const auto again = parse_otlp_json(encoded, relaxed);
    FUZZ_CHECK(again.ok(), "to_otlp_json's request does not decode: " + again.status().to_string() +
                               "\n" + encoded);
    const auto before = span_lines(spans);
    const auto after = span_lines(*again);
    FUZZ_CHECK(before == after, "spans changed:\n" + joined(before) + "after:\n" + joined(after));
    const std::string reencoded = to_otlp_json(*again);
    FUZZ_CHECK(reencoded == encoded, "encoding is not a fixpoint:\n" + encoded + "\n" + reencoded);
}

// The whole of an OTLP decoder's fuzz target: decodes the input with `decode`
// (parse_otlp_json or parse_otlp_protobuf) under fuzz_otlp_limits(); a failure
// must have a message, and decoded spans must pass check_otlp_spans.
template <typename Decode>
int fuzz_otlp_decoder(const uint8_t* data, size_t size, Decode decode) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const OtlpLimits limits = fuzz_otlp_limits();
    const auto spans = decode(body, limits);
    if (!spans.ok()) {
        FUZZ_CHECK(!spans.status().message().empty(), "a failure without a message");
        return 0;
    }
    check_otlp_spans(*spans, limits);
    return 0;
}

}  // namespace assay::fuzz
