#include "core/json_text.h"

#include <charconv>

#include "core/fast_json_sax.h"

namespace assay {

namespace {

using nlohmann::json;

// The escape nlohmann writes for a byte below 0x20, '"' or '\\'; nullptr
// for a byte copied as it is.
const char* escape_of(unsigned char c) {
    static const char* const k_control[0x20] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
    if (c < 0x20) {
        return k_control[c];
    }
    if (c == '"') {
        return "\\\"";
    }
    if (c == '\\') {
        return "\\\\";
    }
    return nullptr;
}

template <typename Int>
void append_integer(std::string& out, Int v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    const size_t start = out.size();
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    const auto* run = p;  // start of the bytes not yet copied
    while (p < end) {
        const unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++p;
            continue;
        }
        if (c >= 0x80) {
            const size_t n = fast_json_detail::utf8_sequence(p, end);
            if (n == 0) {
                // Ill-formed UTF-8: nlohmann's replacement rules, exactly.
                out.resize(start);
                out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
                return;
            }
            p += n;
            continue;
        }
        if (const char* esc = escape_of(c)) {
            out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
            out += esc;
            run = ++p;
            continue;
        }
        ++p;
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    out += '"';
}

void append_json(std::string& out, const json& v) {
    switch (v.type()) {
        case json::value_t::null:
        case json::value_t::discarded:
            out += "null";
            return;
        case json::value_t::boolean:
            out += v.get<bool>() ? "true" : "false";
            return;
        case json::value_t::string:
            append_json_string(out, v.get_ref<const std::string&>());
            return;
        case json::value_t::number_integer:
            append_integer(out, v.get<int64_t>());
            return;
        case json::value_t::number_unsigned:
            append_integer(out, v.get<uint64_t>());
            return;
        case json::value_t::array: {
            out += '[';
            bool first = true;
            for (const json& x : v) {
                if (!first) {
                    out += ',';
                }
                first = false;
                append_json(out, x);
            }
            out += ']';
            return;
        }
        case json::value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, x] : v.get_ref<const json::object_t&>()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                append_json_string(out, key);
                out += ':';
                append_json(out, x);
            }
            out += '}';
            return;
        }
        case json::value_t::number_float:
        case json::value_t::binary:
        default:
            out += v.dump(-1, ' ', false, json::error_handler_t::replace);
            return;
    }
}

std::string json_text(const json& v) {
    std::string out;
    out.reserve(1024);
    append_json(out, v);
    return out;
}

}  // namespace assay
