#include <doctest/doctest.h>

#include "core/placeholder_template.h"
#include "core/text.h"
#include "core/text_table.h"

using namespace assay;

TEST_CASE("text: UTF-8 validation") {
    CHECK(find_invalid_utf8("plain ascii") == std::string_view::npos);
    CHECK(find_invalid_utf8("gr\xC3\xBC\xC3\x9F \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80") ==
          std::string_view::npos);
    CHECK(find_invalid_utf8("ab\xFF") == 2);
    CHECK(find_invalid_utf8("\xC0\x80") == 0);          // overlong NUL
    CHECK(find_invalid_utf8("x\xED\xA0\x80") == 1);     // UTF-16 surrogate
    CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0);  // above U+10FFFF
    CHECK(find_invalid_utf8("\xE6\x97") == 0);          // truncated sequence
}

TEST_CASE("text: invalid UTF-8 escaped as \\xNN, valid text unchanged") {
    CHECK(escape_invalid_utf8("plain \xC3\xBC") == "plain \xC3\xBC");
    CHECK(escape_invalid_utf8("last read: '\xC4'") == "last read: '\\xC4'");
    CHECK(escape_invalid_utf8("\xFF\xFE") == "\\xFF\\xFE");
    CHECK(escape_invalid_utf8("\xE6\x97") == "\\xE6\\x97");  // a cut sequence, byte by byte
    CHECK(escape_invalid_utf8("a\xC0\x80"
                              "b\xE6\x97\xA5") ==
          "a\\xC0\\x80"
          "b\xE6\x97\xA5");
    CHECK(find_invalid_utf8(escape_invalid_utf8("x\xED\xA0\x80\xF4\x90\x80\x80y")) ==
          std::string_view::npos);
}

TEST_CASE("text: counting and excerpts") {
    CHECK(count_code_points("gr\xC3\xBC\xC3\x9F") == 4);
    CHECK(count_words("  one two\tthree\nfour  ") == 4);
    CHECK(count_words("a\xC2\xA0"
                      "b") == 2);  // no-break space separates
    CHECK(count_words("") == 0);
    CHECK(excerpt("line1\nline2", 100) == "line1 line2");
    // Cut on a code point boundary, never inside one.
    CHECK(excerpt("\xE6\x97\xA5\xE6\x9C\xAC", 4) == "\xE6\x97\xA5\xE2\x80\xA6");
    CHECK(assay::utf8_prefix("\xE6\x97\xA5\xE6\x9C\xAC", 4) == "\xE6\x97\xA5");  // not inside
    CHECK(assay::utf8_prefix("a\nb", 2) == "a\n");                               // newlines kept
    CHECK(assay::utf8_prefix("abc", 3) == "abc");
}

TEST_CASE("text: aligned tables") {
    // Columns are as wide as their widest cell in code points, two spaces
    // apart; the last cell is not padded; ragged rows and an indent work.
    CHECK(
        format_table({{"name", "n"}, {"gr\xC3\xBC\xC3\x9F", "12"}, {"abcdefg", "3", "x"}}, "  ") ==
        "  name     n\n"
        "  gr\xC3\xBC\xC3\x9F     12\n"
        "  abcdefg  3   x\n");
    CHECK(format_table({}) == "");
}

TEST_CASE("placeholder templates: pieces, lines and errors") {
    auto known = [](std::string_view n) { return n == "input" || n == "metadata.lang"; };
    auto p = assay::scan_placeholders("Q:\n{{ input }} in {{\tmetadata.lang}}!", known, "help");
    REQUIRE(p.ok());
    REQUIRE(p->size() == 5);
    CHECK((*p)[0].text == "Q:\n");
    CHECK_FALSE((*p)[0].variable);
    CHECK((*p)[1].variable);
    CHECK((*p)[1].text == "input");
    CHECK((*p)[1].line == 2);
    CHECK((*p)[3].text == "metadata.lang");
    CHECK((*p)[4].text == "!");
    CHECK(assay::scan_placeholders("", known, "help")->empty());

    auto unknown = assay::scan_placeholders("a\n\nb {{other}}", known, "write {{input}}");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().message() == "line 3: unknown variable {{other}}; write {{input}}");
    for (const char* bad : {"{{input", "{{}}", "{{ in put }}", "{{input}\n}", "x {{input\n}}"}) {
        auto r = assay::scan_placeholders(bad, known, "h");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message().find("'{{' does not start a variable; h") != std::string::npos);
    }
}
