#include "format/json_text.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace assay::format {

namespace {

using json = nlohmann::json;

// A SAX handler that builds nothing: it records the top-level type, the
// nesting depth and the first parse error. nlohmann's SAX parser keeps its
// own state on the heap, so nothing here recurses.
class ScanSax {
public:
    bool null() { return scalar("null"); }
    bool boolean(bool /*v*/) { return scalar("boolean"); }
    bool number_integer(json::number_integer_t /*v*/) { return scalar("number"); }
    bool number_unsigned(json::number_unsigned_t /*v*/) { return scalar("number"); }
    bool number_float(json::number_float_t /*v*/, const json::string_t& /*s*/) {
        return scalar("number");
    }
    bool string(json::string_t& /*v*/) { return scalar("string"); }
    bool binary(json::binary_t& /*v*/) { return scalar("binary"); }
    bool start_object(std::size_t /*n*/) { return open("object"); }
    bool key(json::string_t& /*k*/) { return true; }
    bool end_object() { return close(); }
    bool start_array(std::size_t /*n*/) { return open("array"); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t position, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& ex) {
        m_error_offset = position;
        m_error = ex.what();
        // Drop "[json.exception.parse_error.101] " - callers want the reason.
        if (!m_error.empty() && m_error.front() == '[') {
            const size_t end = m_error.find("] ");
            if (end != std::string::npos) {
                m_error.erase(0, end + 2);
            }
        }
        return false;
    }

    const char* m_top_type = "";
    size_t m_depth = 0;
    size_t m_max_depth = 0;
    std::string m_error;
    size_t m_error_offset = 0;

private:
    bool scalar(const char* type) {
        if (m_depth == 0 && *m_top_type == '\0') {
            m_top_type = type;
        }
        return true;
    }
    bool open(const char* type) {
        scalar(type);
        ++m_depth;
        if (m_depth > m_max_depth) {
            m_max_depth = m_depth;
        }
        return true;
    }
    bool close() {
        --m_depth;
        return true;
    }
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

JsonScan scan_json(std::string_view text) {
    ScanSax sax;
    JsonScan out;
    // nlohmann's lexer treats a NUL byte as end of input, so "[1]\0junk"
    // would pass. JSON never allows a raw NUL (strings must escape it).
    const size_t nul = text.find('\0');
    if (nul != std::string_view::npos) {
        out.error = "raw NUL byte at offset " + std::to_string(nul) + " (never allowed in JSON)";
        out.error_offset = nul;
        return out;
    }
    try {
        out.valid = json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json,
                                    /*strict=*/true, /*ignore_comments=*/false);
    } catch (const std::exception& e) {
        // The SAX parser reports errors through parse_error(); this is only
        // reached on allocation failure or a library bug.
        out.valid = false;
        sax.m_error = e.what();
    }
    out.max_depth = sax.m_max_depth;
    if (out.valid) {
        out.top_type = sax.m_top_type;
    } else {
        out.error = sax.m_error.empty() ? "not valid JSON" : sax.m_error;
        out.error_offset = sax.m_error_offset;
    }
    return out;
}

std::optional<FencedBlock> find_json_fence(std::string_view text) {
    std::optional<FencedBlock> first;
    size_t candidates = 0;
    size_t pos = 0;
    size_t line_no = 0;
    // State while inside a block.
    bool inside = false;
    size_t fence_len = 0;
    bool wanted = false;
    size_t content_begin = 0;
    FencedBlock current;

    while (pos <= text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = text.size();
        }
        ++line_no;
        std::string_view line = text.substr(pos, eol - pos);
        size_t i = 0;
        while (i < line.size() && is_blank(line[i])) {
            ++i;
        }
        size_t ticks = 0;
        while (i + ticks < line.size() && line[i + ticks] == '`') {
            ++ticks;
        }
        if (!inside) {
            if (ticks >= 3) {
                std::string_view info = line.substr(i + ticks);
                while (!info.empty() && is_blank(info.front())) {
                    info.remove_prefix(1);
                }
                while (!info.empty() && is_blank(info.back())) {
                    info.remove_suffix(1);
                }
                std::string lower;
                for (char c : info) {
                    lower.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
                }
                inside = true;
                fence_len = ticks;
                wanted = lower.empty() || lower == "json";
                content_begin = eol < text.size() ? eol + 1 : text.size();
                if (wanted) {
                    ++candidates;
                    current = FencedBlock{};
                    current.line = line_no;
                    current.open_offset = pos;
                    current.info = lower;
                }
            }
        } else {
            std::string_view rest = line.substr(i + ticks);
            bool only_blank = true;
            for (char c : rest) {
                only_blank = only_blank && is_blank(c);
            }
            if (ticks >= fence_len && only_blank) {
                inside = false;
                if (wanted && !first) {
                    current.content = text.substr(content_begin, pos - content_begin);
                    current.closed = true;
                    current.close_end = eol < text.size() ? eol + 1 : text.size();
                    first = current;
                }
            }
        }
        if (eol >= text.size()) {
            break;
        }
        pos = eol + 1;
    }
    if (inside && wanted && !first) {
        current.content = text.substr(content_begin);
        current.closed = false;
        current.close_end = text.size();
        first = current;
    }
    if (first) {
        first->candidates = candidates;
    }
    return first;
}

std::optional<EmbeddedJson> find_json_in_prose(std::string_view text, size_t max_candidates) {
    size_t tried = 0;
    for (size_t i = 0; i < text.size() && tried < max_candidates; ++i) {
        const char c = text[i];
        if (c != '{' && c != '[') {
            continue;
        }
        ++tried;
        ScanSax sax;
        bool ok = false;
        try {
            ok = json::sax_parse(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(), &sax,
                                 json::input_format_t::json, /*strict=*/false,
                                 /*ignore_comments=*/false);
        } catch (const std::exception&) {
            ok = false;
        }
        if (ok) {
            return EmbeddedJson{i, c == '{' ? "object" : "array"};
        }
    }
    return std::nullopt;
}

std::string safe_excerpt(std::string_view s, size_t max_bytes) {
    std::string cut = excerpt(s, max_bytes);
    std::string out;
    std::string_view rest = cut;
    for (size_t bad = find_invalid_utf8(rest); bad != std::string_view::npos;
         bad = find_invalid_utf8(rest)) {
        out.append(rest.substr(0, bad));
        out.append("\xEF\xBF\xBD");  // U+FFFD
        rest.remove_prefix(bad + 1);
    }
    out.append(rest);
    return out;
}

}  // namespace assay::format
