#include "ingest/otlp/json_scalars.h"

#include <cmath>
#include <limits>

namespace assay {

bool otlp_decimal_u64(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 20) {
        return false;
    }
    uint64_t acc = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (acc > (std::numeric_limits<uint64_t>::max() - d) / 10) {
            return false;
        }
        acc = acc * 10 + d;
    }
    out = acc;
    return true;
}

bool otlp_decimal_i64(std::string_view s, int64_t& out) {
    const bool negative = !s.empty() && s[0] == '-';
    uint64_t mag = 0;
    if (!otlp_decimal_u64(negative ? s.substr(1) : s, mag)) {
        return false;
    }
    constexpr uint64_t k_min_mag = uint64_t{1} << 63;
    if (negative) {
        if (mag > k_min_mag) {
            return false;
        }
        out = mag == k_min_mag ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag);
        return true;
    }
    if (mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return false;
    }
    out = static_cast<int64_t>(mag);
    return true;
}

bool otlp_whole_double_u64(double d, uint64_t& out) {
    if (!std::isfinite(d) || d < 0 || d >= 18446744073709551615.0 || d != std::floor(d)) {
        return false;
    }
    out = static_cast<uint64_t>(d);
    return true;
}

}  // namespace assay
