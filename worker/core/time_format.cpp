#include "core/time_format.h"

#include <algorithm>
#include <cstdio>

namespace assay {

bool is_valid_date(int64_t y, int m, int d) {
    static const int k_mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) {
        return false;
    }
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= k_mdays[m - 1] + (m == 2 && leap ? 1 : 0);
}

int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const auto mu = static_cast<unsigned>(m);
    const unsigned doy = (153 * (mu + (mu > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> parse_day(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return std::nullopt;
    }
    int v[3] = {0, 0, 0};
    const size_t at[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; ++k) {
        for (size_t i = at[k][0]; i < at[k][0] + at[k][1]; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return std::nullopt;
            }
            v[k] = v[k] * 10 + (s[i] - '0');
        }
    }
    if (!is_valid_date(v[0], v[1], v[2])) {
        return std::nullopt;
    }
    return days_from_civil(v[0], v[1], v[2]);
}

Result<int64_t> parse_rfc3339_ms(std::string_view s) {
    auto bad = [&]() {
        return Status::invalid_argument("'" + std::string(s.substr(0, 64)) +
                                        "' is not an RFC 3339 time like 2026-11-22T10:00:00Z");
    };
    auto digits = [&](size_t pos, size_t n, int& out) {
        if (pos + n > s.size()) {
            return false;
        }
        out = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
        !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, h) ||
        s[13] != ':' || !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, se)) {
        return bad();
    }
    if (!is_valid_date(y, mo, d) || h > 23 || mi > 59 || se > 60) {
        return bad();
    }
    size_t pos = 19;
    int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (scale > 0) {
                frac_ms += (s[pos] - '0') * scale;
                scale /= 10;
            }
            ++pos;
        }
        if (pos == start) {
            return bad();
        }
    }
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
            return bad();
        }
        offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return bad();
    }
    if (pos != s.size()) {
        return bad();
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + std::min(se, 59) - offset_min * 60;
    return secs * 1000 + frac_ms;
}

std::string format_rfc3339_ms(int64_t ms) {
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t rem_ms = ms - secs * 1000;
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t sod = secs - z * 86400;
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                  static_cast<long long>((sod / 60) % 60), static_cast<long long>(sod % 60),
                  static_cast<long long>(rem_ms));
    return buf;
}

}  // namespace assay
