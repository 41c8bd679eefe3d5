#pragma once
// The scalar rules of the OTLP JSON encoding ("JSON Protobuf Encoding": 64-bit
// integers as decimal strings or numbers), shared by its two decoders: the
// tree decoder (mapper.cpp) and the streaming one (json_stream_decoder.h),
// so both accept and refuse exactly the same values. Pure functions.

#include <array>
#include <cstdint>
#include <string_view>

namespace assay {

// 1 to 20 decimal digits, no sign, within uint64: true and `out` set.
bool otlp_decimal_u64(std::string_view s, uint64_t& out);
// An optional '-', then as otlp_decimal_u64, within int64.
bool otlp_decimal_i64(std::string_view s, int64_t& out);
// A JSON number read as a double that is finite, not negative, integral and
// below 2^64 - 1: true and `out` set (nanosecond times sent as floats).
bool otlp_whole_double_u64(double d, uint64_t& out);

// The proto names of the enums, by value (span kind 0-5, status code 0-2):
// the JSON encoding may send either.
inline constexpr std::array<const char*, 6> k_otlp_span_kind_names = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
inline constexpr std::array<const char*, 3> k_otlp_status_code_names = {
    "STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};

}  // namespace assay
