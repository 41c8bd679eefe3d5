#include "store/postgres/array_param.h"

namespace assay::pg {

std::string integer_array(PgParams& p, const std::vector<int64_t>& values) {
    std::string lit = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            lit += ',';
        }
        lit += std::to_string(values[i]);
    }
    lit += '}';
    return p.text(lit) + "::bigint[]";
}

std::string text_array(PgParams& p, const std::vector<std::string>& values) {
    std::string lit = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            lit += ',';
        }
        lit += '"';
        for (char c : values[i]) {
            if (c == '"' || c == '\\') {
                lit += '\\';
            }
            lit += c;
        }
        lit += '"';
    }
    lit += '}';
    return p.text(lit) + "::text[]";
}

}  // namespace assay::pg
