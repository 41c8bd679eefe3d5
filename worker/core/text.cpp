#include "core/text.h"

namespace assay {

size_t find_invalid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n) {
            return i;
        }
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

std::string escape_invalid_utf8(std::string_view s) {
    size_t bad = find_invalid_utf8(s);
    if (bad == std::string_view::npos) {
        return std::string(s);
    }
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out(s.substr(0, bad));
    while (bad != std::string_view::npos) {
        const auto c = static_cast<unsigned char>(s[bad]);
        out += "\\x";
        out += k_hex[c >> 4];
        out += k_hex[c & 0xF];
        s.remove_prefix(bad + 1);
        bad = find_invalid_utf8(s);
        out.append(s.substr(0, bad == std::string_view::npos ? s.size() : bad));
    }
    return out;
}

size_t count_code_points(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xC0) != 0x80;
    }
    return n;
}

namespace {

// Length in bytes of the whitespace sequence at s[i], or 0.
size_t space_at(std::string_view s, size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        return 1;
    }
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        return 2;  // U+00A0
    }
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
        auto c2 = static_cast<unsigned char>(s[i + 2]);
        if (c2 <= 0x8B || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF) {
            return 3;  // U+2000–U+200B, line/paragraph separators, U+202F
        }
    }
    if (c == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x80) {
        return 3;  // U+3000
    }
    return 0;
}

}  // namespace

size_t count_words(std::string_view s) {
    size_t words = 0;
    bool in_word = false;
    size_t i = 0;
    while (i < s.size()) {
        size_t sp = space_at(s, i);
        if (sp > 0) {
            in_word = false;
            i += sp;
        } else {
            if (!in_word) {
                ++words;
                in_word = true;
            }
            ++i;
        }
    }
    return words;
}

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
    if (s.size() <= max_bytes) {
        return s;
    }
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
        --end;
    }
    return s.substr(0, end);
}

std::string excerpt(std::string_view s, size_t max_bytes) {
    const bool cut = s.size() > max_bytes;
    s = utf8_prefix(s, max_bytes);
    std::string out(s);
    for (char& c : out) {
        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
    }
    if (cut) {
        out += "\xE2\x80\xA6";
    }
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) {
        ++b;
    }
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) {
        --e;
    }
    return s.substr(b, e - b);
}

}  // namespace assay
