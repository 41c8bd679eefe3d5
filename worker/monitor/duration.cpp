#include "monitor/duration.h"

namespace assay {

Result<int64_t> parse_duration_ms(const std::string& s) {
    auto bad = [&] {
        return Status::invalid_argument("'" + s +
                                        "' is not a duration: expected a positive number with a "
                                        "unit s, m, h, d or w (e.g. 7d)");
    };
    if (s.size() < 2 || s.size() > 12) {
        return bad();
    }
    const std::string num = s.substr(0, s.size() - 1);
    if (num.find_first_not_of("0123456789") != std::string::npos) {
        return bad();
    }
    int64_t n = std::stoll(num);
    int64_t unit = 0;
    switch (s.back()) {
        case 's':
            unit = 1000;
            break;
        case 'm':
            unit = 60000;
            break;
        case 'h':
            unit = 3600000;
            break;
        case 'd':
            unit = 86400000;
            break;
        case 'w':
            unit = 7 * 86400000LL;
            break;
        default:
            return bad();
    }
    if (n <= 0 || n > 3650LL * 86400000 / unit) {
        return bad();
    }
    return n * unit;
}

std::string format_duration(int64_t ms) {
    struct U {
        int64_t ms;
        const char* s;
    };
    const U units[] = {
        {7 * 86400000LL, "w"}, {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (const auto& u : units) {
        if (ms >= u.ms && ms % u.ms == 0) {
            return std::to_string(ms / u.ms) + u.s;
        }
    }
    return std::to_string(ms) + "ms";
}

}  // namespace assay
