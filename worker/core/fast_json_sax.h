#pragma once
// A fast reader for well-formed JSON text that sends the same SAX events as
// nlohmann::json::sax_parse (strict mode) would, in the same order, to any
// handler with nlohmann's json_sax interface (null, boolean, number_integer,
// number_unsigned, number_float, string, start_object, key, end_object,
// start_array, end_array). It reads the text in place (no per-byte input
// adapter, no token copy kept for error messages), which makes parsing a
// trace several times cheaper than nlohmann's lexer.
//
// It handles only text it can prove well-formed: on anything else (a syntax
// error, ill-formed UTF-8, a byte order mark, a number that overflows a
// double) it returns not_handled, and the caller parses the text again with
// nlohmann::json::sax_parse and a fresh handler, which then produces the
// exact error message (position, token) Assay has always reported. So a
// text this reader accepts yields exactly nlohmann's events, and a text it
// does not accept costs one failed fast attempt. Header-only; pure; the
// handler is called on the calling thread.

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace assay {

enum class FastJsonResult {
    accepted,     // the whole text was read; every event returned true
    stopped,      // a handler event returned false (its own status says why)
    not_handled,  // not read: parse it with nlohmann::json::sax_parse instead
};

namespace fast_json_detail {

// Length of the well-formed UTF-8 sequence at p (its first byte >= 0x80), or
// 0 when ill-formed (the ranges of RFC 3629, as nlohmann's lexer checks them).
inline size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
    auto in = [&](size_t i, unsigned lo, unsigned hi) {
        return p + i < end && p[i] >= lo && p[i] <= hi;
    };
    const unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return in(1, 0x80, 0xBF) ? 2 : 0;
    }
    if (c == 0xE0) {
        return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (c == 0xED) {
        return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (c == 0xF0) {
        return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    if (c >= 0xF1 && c <= 0xF3) {
        return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    if (c == 0xF4) {
        return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
}

// The value of 4 hex digits at p, or -1.
inline int hex4(const unsigned char* p, const unsigned char* end) {
    if (end - p < 4) {
        return -1;
    }
    int v = 0;
    for (int i = 0; i < 4; ++i) {
        const unsigned c = p[i];
        int d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<int>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<int>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = static_cast<int>(c - 'A' + 10);
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

inline void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp <= 0x7FF) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp <= 0xFFFF) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

template <typename Sax>
class Reader {
public:
    Reader(std::string_view text, Sax& sax)
        : m_p(reinterpret_cast<const unsigned char*>(text.data())),
          m_end(m_p + text.size()),
          m_sax(sax) {}

    FastJsonResult run() {
        skip_ws();
        if (m_p < m_end && *m_p == 0xEF) {
            return FastJsonResult::not_handled;  // a byte order mark: nlohmann's rules
        }
        // m_stack: '{' or '[' per open container.
        for (;;) {
            // A value is expected here.
            if (m_p >= m_end) {
                return FastJsonResult::not_handled;
            }
            bool closed_scalar = true;
            switch (*m_p) {
                case '{':
                    ++m_p;
                    if (!m_sax.start_object(static_cast<size_t>(-1))) {
                        return FastJsonResult::stopped;
                    }
                    skip_ws();
                    if (m_p < m_end && *m_p == '}') {
                        ++m_p;
                        if (!m_sax.end_object()) {
                            return FastJsonResult::stopped;
                        }
                        break;
                    }
                    m_stack.push_back('{');
                    if (FastJsonResult r = key(); r != FastJsonResult::accepted) {
                        return r;
                    }
                    closed_scalar = false;
                    break;
                case '[':
                    ++m_p;
                    if (!m_sax.start_array(static_cast<size_t>(-1))) {
                        return FastJsonResult::stopped;
                    }
                    skip_ws();
                    if (m_p < m_end && *m_p == ']') {
                        ++m_p;
                        if (!m_sax.end_array()) {
                            return FastJsonResult::stopped;
                        }
                        break;
                    }
                    m_stack.push_back('[');
                    closed_scalar = false;
                    break;
                case '"':
                    if (!string()) {
                        return FastJsonResult::not_handled;
                    }
                    if (!m_sax.string(m_buf)) {
                        return FastJsonResult::stopped;
                    }
                    break;
                case 't':
                    if (!literal("true")) {
                        return FastJsonResult::not_handled;
                    }
                    if (!m_sax.boolean(true)) {
                        return FastJsonResult::stopped;
                    }
                    break;
                case 'f':
                    if (!literal("false")) {
                        return FastJsonResult::not_handled;
                    }
                    if (!m_sax.boolean(false)) {
                        return FastJsonResult::stopped;
                    }
                    break;
                case 'n':
                    if (!literal("null")) {
                        return FastJsonResult::not_handled;
                    }
                    if (!m_sax.null()) {
                        return FastJsonResult::stopped;
                    }
                    break;
                default:
                    if (FastJsonResult r = number(); r != FastJsonResult::accepted) {
                        return r;
                    }
                    break;
            }
            if (!closed_scalar) {
                skip_ws();
                continue;  // the first value of the new container
            }
            // After a value: a separator, a closing bracket, or the end.
            for (;;) {
                skip_ws();
                if (m_stack.empty()) {
                    return m_p == m_end ? FastJsonResult::accepted : FastJsonResult::not_handled;
                }
                if (m_p >= m_end) {
                    return FastJsonResult::not_handled;
                }
                const char open = m_stack.back();
                const unsigned char c = *m_p;
                if (c == ',') {
                    ++m_p;
                    if (open == '{') {
                        skip_ws();
                        if (FastJsonResult r = key(); r != FastJsonResult::accepted) {
                            return r;
                        }
                    } else {
                        skip_ws();
                    }
                    break;  // the next value
                }
                if ((open == '{' && c == '}') || (open == '[' && c == ']')) {
                    ++m_p;
                    m_stack.pop_back();
                    if (!(open == '{' ? m_sax.end_object() : m_sax.end_array())) {
                        return FastJsonResult::stopped;
                    }
                    continue;
                }
                return FastJsonResult::not_handled;
            }
        }
    }

private:
    void skip_ws() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) {
            ++m_p;
        }
    }

    // At a key (whitespace skipped): reads it, sends key(), reads the colon.
    FastJsonResult key() {
        if (m_p >= m_end || *m_p != '"' || !string()) {
            return FastJsonResult::not_handled;
        }
        if (!m_sax.key(m_buf)) {
            return FastJsonResult::stopped;
        }
        skip_ws();
        if (m_p >= m_end || *m_p != ':') {
            return FastJsonResult::not_handled;
        }
        ++m_p;
        skip_ws();
        return FastJsonResult::accepted;
    }

    bool literal(std::string_view word) {
        if (static_cast<size_t>(m_end - m_p) < word.size() ||
            std::string_view(reinterpret_cast<const char*>(m_p), word.size()) != word) {
            return false;
        }
        m_p += word.size();
        return true;
    }

    // At the opening quote: decodes the string into m_buf. False when it is
    // not well-formed.
    bool string() {
        ++m_p;
        m_buf.clear();
        for (;;) {
            const unsigned char* start = m_p;
            while (m_p < m_end && *m_p >= 0x20 && *m_p < 0x80 && *m_p != '"' && *m_p != '\\') {
                ++m_p;
            }
            m_buf.append(reinterpret_cast<const char*>(start), static_cast<size_t>(m_p - start));
            if (m_p >= m_end) {
                return false;
            }
            const unsigned char c = *m_p;
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c >= 0x80) {
                const size_t n = utf8_sequence(m_p, m_end);
                if (n == 0) {
                    return false;
                }
                m_buf.append(reinterpret_cast<const char*>(m_p), n);
                m_p += n;
                continue;
            }
            // A backslash escape.
            if (m_end - m_p < 2) {
                return false;
            }
            const unsigned char e = m_p[1];
            m_p += 2;
            switch (e) {
                case '"':
                    m_buf += '"';
                    break;
                case '\\':
                    m_buf += '\\';
                    break;
                case '/':
                    m_buf += '/';
                    break;
                case 'b':
                    m_buf += '\b';
                    break;
                case 'f':
                    m_buf += '\f';
                    break;
                case 'n':
                    m_buf += '\n';
                    break;
                case 'r':
                    m_buf += '\r';
                    break;
                case 't':
                    m_buf += '\t';
                    break;
                case 'u': {
                    const int cp1 = hex4(m_p, m_end);
                    if (cp1 < 0) {
                        return false;
                    }
                    m_p += 4;
                    uint32_t cp = static_cast<uint32_t>(cp1);
                    if (cp1 >= 0xD800 && cp1 <= 0xDBFF) {
                        if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') {
                            return false;
                        }
                        const int cp2 = hex4(m_p + 2, m_end);
                        if (cp2 < 0xDC00 || cp2 > 0xDFFF) {
                            return false;
                        }
                        m_p += 6;
                        cp = (static_cast<uint32_t>(cp1) << 10) + static_cast<uint32_t>(cp2) -
                             0x35FDC00u;
                    } else if (cp1 >= 0xDC00 && cp1 <= 0xDFFF) {
                        return false;
                    }
                    append_utf8(m_buf, cp);
                    break;
                }
                default:
                    return false;
            }
        }
    }

    static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

    // At a number (or not: then not_handled). Converts it the way
    // nlohmann's lexer does: strtoull/strtoll for integer tokens that fit,
    // else strtod (a non-finite result is nlohmann's "number overflow").
    FastJsonResult number() {
        const unsigned char* start = m_p;
        bool integer = true;
        const bool negative = m_p < m_end && *m_p == '-';
        if (negative) {
            ++m_p;
        }
        if (m_p < m_end && *m_p == '0') {
            ++m_p;
        } else if (m_p < m_end && *m_p >= '1' && *m_p <= '9') {
            while (m_p < m_end && digit(*m_p)) {
                ++m_p;
            }
        } else {
            return FastJsonResult::not_handled;
        }
        if (m_p < m_end && *m_p == '.') {
            integer = false;
            ++m_p;
            if (m_p >= m_end || !digit(*m_p)) {
                return FastJsonResult::not_handled;
            }
            while (m_p < m_end && digit(*m_p)) {
                ++m_p;
            }
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            integer = false;
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-')) {
                ++m_p;
            }
            if (m_p >= m_end || !digit(*m_p)) {
                return FastJsonResult::not_handled;
            }
            while (m_p < m_end && digit(*m_p)) {
                ++m_p;
            }
        }
        m_num.assign(reinterpret_cast<const char*>(start), static_cast<size_t>(m_p - start));
        char* endptr = nullptr;
        if (integer) {
            errno = 0;
            if (negative) {
                const long long v = std::strtoll(m_num.c_str(), &endptr, 10);
                if (errno == 0) {
                    return m_sax.number_integer(static_cast<int64_t>(v)) ? FastJsonResult::accepted
                                                                         : FastJsonResult::stopped;
                }
            } else {
                const unsigned long long v = std::strtoull(m_num.c_str(), &endptr, 10);
                if (errno == 0) {
                    return m_sax.number_unsigned(static_cast<uint64_t>(v))
                               ? FastJsonResult::accepted
                               : FastJsonResult::stopped;
                }
            }
        }
        const double d = std::strtod(m_num.c_str(), &endptr);
        if (!std::isfinite(d)) {
            return FastJsonResult::not_handled;
        }
        return m_sax.number_float(d, m_num) ? FastJsonResult::accepted : FastJsonResult::stopped;
    }

    const unsigned char* m_p;
    const unsigned char* m_end;
    Sax& m_sax;
    std::string m_stack;  // '{' or '[' per open container
    std::string m_buf;    // the string or key being read
    std::string m_num;    // the number token being read
};

}  // namespace fast_json_detail

// Reads `text` into `sax` if it is well-formed JSON (see the top of this
// file). `sax` must take the events of nlohmann's json_sax interface.
template <typename Sax>
FastJsonResult fast_json_sax(std::string_view text, Sax& sax) {
    return fast_json_detail::Reader<Sax>(text, sax).run();
}

}  // namespace assay
