#pragma once
// Walking JSON text without parsing it: visits every byte that lies outside
// string literals (escapes handled), so callers can track brackets and
// commas cheaply, e.g. to bound nesting depth before parsing or to split a
// top-level array without re-encoding its elements. Header-only; pure.

#include <cstddef>
#include <string_view>

namespace assay {

struct JsonScanEnd {
    bool stopped = false;    // the visitor returned false
    size_t pos = 0;          // where it stopped, or s.size()
    bool in_string = false;  // the text ended inside a string literal
};

// Calls visit(i, c) for each byte s[i] (i >= from) outside string literals,
// including structural characters and whitespace; stops when visit returns
// false. String literals (quotes included) are skipped.
template <typename Visit>
JsonScanEnd scan_outside_strings(std::string_view s, size_t from, Visit&& visit) {
    bool in_string = false;
    for (size_t i = from; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (!visit(i, c)) {
            return {true, i, false};
        }
    }
    return {false, s.size(), in_string};
}

}  // namespace assay
