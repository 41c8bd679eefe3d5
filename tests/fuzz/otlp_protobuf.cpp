// Fuzz target: the OTLP protobuf decoder (ingest/otlp/protobuf.h
// parse_otlp_protobuf). Invariants: it never throws or crashes; a failure has a message; the
// spans it returns pass check_otlp_spans (limits, to_otlp_json round trip).
// README "Fuzzing and sanitizers".

#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "ingest/otlp/protobuf.h"
#include "otlp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const assay::OtlpLimits limits = assay::fuzz::fuzz_otlp_limits();
    const auto spans = assay::parse_otlp_protobuf(body, limits);
    if (!spans.ok()) {
        FUZZ_CHECK(!spans.status().message().empty(), "a failure without a message");
        return 0;
    }
    assay::fuzz::check_otlp_spans(*spans, limits);
    return 0;
}
