// Fuzz target: the OTLP protobuf decoder (ingest/otlp/protobuf.h
// parse_otlp_protobuf). Invariants: it never throws or crashes; a failure has a message; the
// spans it returns pass check_otlp_spans (otlp_checks.h: limits, to_otlp_json round trip).
// README "Fuzzing and sanitizers".

#include <cstdint>

#include "ingest/otlp/protobuf.h"
#include "otlp_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return assay::fuzz::fuzz_otlp_decoder(data, size, assay::parse_otlp_protobuf);
}
