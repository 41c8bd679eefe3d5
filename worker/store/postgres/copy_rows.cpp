#include "store/postgres/copy_rows.h"

#include <charconv>
#include <cmath>

#include "core/text.h"

namespace assay::pg {

void CopyRows::separate() {
    if (m_row_open) {
        m_data += '\t';
    }
    m_row_open = true;
}

void CopyRows::text(std::string_view v) {
    separate();
    std::string escaped;  // not UTF-8: as PgParams::text
    if (find_invalid_utf8(v) != std::string_view::npos) {
        escaped = escape_invalid_utf8(v);
        v = escaped;
    }
    m_data.reserve(m_data.size() + v.size() + 8);
    for (char c : v) {
        switch (c) {
            case '\\':
                m_data += "\\\\";
                break;
            case '\t':
                m_data += "\\t";
                break;
            case '\n':
                m_data += "\\n";
                break;
            case '\r':
                m_data += "\\r";
                break;
            case '\0':
                m_data += "\xEF\xBF\xBD";
                break;
            default:
                m_data += c;
        }
    }
}

void CopyRows::text_or_null(std::string_view v) {
    if (v.empty()) {
        null();
    } else {
        text(v);
    }
}

void CopyRows::integer(int64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    m_data.append(buf, r.ptr);
}

void CopyRows::real(double v) {
    separate();
    if (std::isnan(v)) {
        m_data += "NaN";
    } else if (std::isinf(v)) {
        m_data += v > 0 ? "Infinity" : "-Infinity";
    } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
        m_data.append(buf, r.ptr);
    }
}

void CopyRows::null() {
    separate();
    m_data += "\\N";
}

void CopyRows::end_row() {
    m_data += '\n';
    m_row_open = false;
    ++m_rows;
}

}  // namespace assay::pg
