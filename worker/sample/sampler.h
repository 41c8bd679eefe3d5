#pragma once
// The deterministic sampler. u(trace_id) is the first 8 bytes of
// SHA-256(key), read as a big-endian unsigned 64-bit integer, divided by
// 2^64, where key = trace_id, or salt + ":" + trace_id when a salt is set.
// A trace is sampled at rate r iff u < r, so with one salt the sample at a
// lower rate is a subset of the sample at any higher rate. Python:
//   int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
// Pure functions; thread-safe.

#include <cstdint>
#include <string_view>

namespace assay {

// The 64-bit integer behind u (exact; useful for tests and tie-breaking).
uint64_t sample_hash(std::string_view trace_id, std::string_view salt);
// u in [0, 1).
double sample_u(std::string_view trace_id, std::string_view salt);
// u < rate. rate >= 1 always samples (without hashing); rate <= 0 never does.
bool is_sampled(std::string_view trace_id, std::string_view salt, double rate);

}  // namespace assay
