#pragma once
// Small text utilities shared by ingest, scorers and output. Pure functions,
// thread-safe, no allocation unless they return a string.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace assay {

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF), or npos when valid.
size_t find_invalid_utf8(std::string_view s);

// `s` with each byte that is not part of well-formed UTF-8 (as above) written
// as the four characters \xNN (upper-case hex): valid UTF-8, and the bad byte
// still named. For messages that quote input (a parser's "last read: '…'"),
// which go to stores, logs, HTML and JSON that all need valid UTF-8.
std::string escape_invalid_utf8(std::string_view s);

// Number of Unicode code points in well-formed UTF-8 text.
size_t count_code_points(std::string_view s);

// Number of words: maximal runs of non-whitespace (ASCII whitespace and the
// common Unicode spaces U+00A0, U+2000–U+200B, U+3000 count as separators).
size_t count_words(std::string_view s);

// The first `max_bytes` bytes of `s` or fewer: never cuts inside a UTF-8
// sequence. `s` itself when it fits. A view into `s`.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

// At most `max_bytes` of `s`, cut on a UTF-8 boundary, with "…" appended
// when cut; newlines and tabs become spaces.
std::string excerpt(std::string_view s, size_t max_bytes);

// ASCII lower-casing (other bytes unchanged).
std::string ascii_lower(std::string_view s);

// Leading and trailing ASCII whitespace removed.
std::string_view trim(std::string_view s);

}  // namespace assay
