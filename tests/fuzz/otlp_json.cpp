// Fuzz target: the OTLP JSON decoder (ingest/otlp/mapper.h
// parse_otlp_json). Invariants: it never throws or crashes; a failure has a message; the
// spans it returns pass check_otlp_spans (otlp_checks.h: limits, to_otlp_json round trip);
// its streaming fast path (json_stream_decoder.h) gives what the tree decoder alone gives.
// README "Fuzzing and sanitizers".

#include <cstdint>

#include "ingest/otlp/mapper.h"
#include "otlp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The streaming fast path changes nothing: parse_otlp_json (streaming
    // when the request has the SDKs' form) and the tree decoder alone give
    // the same spans, or the same error.
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const assay::OtlpLimits limits = assay::fuzz::fuzz_otlp_limits();
    const auto fast = assay::parse_otlp_json(body, limits);
    const auto tree = assay::parse_otlp_json_tree(body, limits);
    FUZZ_CHECK(fast.ok() == tree.ok(),
               "the decoders disagree on success: " + fast.status().to_string() + " / " +
                   tree.status().to_string());
    if (fast.ok()) {
        const auto a = assay::fuzz::span_lines(*fast);
        const auto b = assay::fuzz::span_lines(*tree);
        FUZZ_CHECK(a == b, "the decoders disagree:\n" + assay::fuzz::joined(a) + "tree:\n" +
                               assay::fuzz::joined(b));
        FUZZ_CHECK(assay::to_otlp_json(*fast) == assay::to_otlp_json(*tree),
                   "the decoders' spans encode differently");
    } else {
        FUZZ_CHECK(fast.status().message() == tree.status().message(),
                   "the decoders' errors differ: " + fast.status().message() + " / " +
                       tree.status().message());
    }
    return assay::fuzz::fuzz_otlp_decoder(data, size, assay::parse_otlp_json);
}
