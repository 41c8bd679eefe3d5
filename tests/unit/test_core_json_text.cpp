// core/json_text.h against nlohmann's serializer: for every value, the same
// bytes as value.dump(-1, ' ', false, error_handler_t::replace), including
// control characters, quotes, backslashes, DEL, well-formed multi-byte UTF-8,
// ill-formed UTF-8 (replaced) and numbers of every kind.
#include <doctest/doctest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "core/json_text.h"

using namespace assay;
using nlohmann::json;

namespace {

std::string reference(const json& v) {
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string string_text(std::string_view s) {
    std::string out = "x";  // appends after what is there
    append_json_string(out, s);
    return out.substr(1);
}

}  // namespace

TEST_CASE("json_text: strings are escaped exactly as nlohmann escapes them") {
    const std::vector<std::string> cases = {
        "",
        "plain text",
        "quote \" backslash \\ slash /",
        std::string("nul \0 inside", 12),
        "\b\f\n\r\t\x01\x1f\x0b",
        "DEL \x7f stays",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // 2, 3 and 4 byte sequences
        "bad \xff byte",
        "truncated \xe2\x82",
        "overlong \xc0\xaf",
        "surrogate \xed\xa0\x80",
        "lead at end \xf0",
        "\xc3\xa9\xff\"\n",
    };
    for (const std::string& s : cases) {
        CAPTURE(s);
        CHECK(string_text(s) == reference(json(s)));
    }
}

TEST_CASE("json_text: random byte strings give nlohmann's bytes") {
    std::mt19937 rng(14);
    const std::string alphabet =
        std::string("ab\"\\\n\x01\x7f", 7) + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xc0\xed\xa0";
    for (int i = 0; i < 5000; ++i) {
        std::string s;
        const int n = static_cast<int>(rng() % 12);
        for (int k = 0; k < n; ++k) {
            s += alphabet[rng() % alphabet.size()];
        }
        CAPTURE(s);
        REQUIRE(string_text(s) == reference(json(s)));
    }
}

TEST_CASE("json_text: values of every type give nlohmann's bytes") {
    const json v = json::parse(R"({
        "null": null, "t": true, "f": false, "int": -42, "big": 18446744073709551615,
        "min": -9223372036854775808, "float": 0.1, "exp": 1e300, "neg": -2.5, "whole": 3.0,
        "nested": {"b": [1, "two", {"x\n": [null, []]}, {}], "a": "caf\u00e9"},
        "esc\u0001key": "v"
    })");
    CHECK(json_text(v) == reference(v));
    json odd = json::array({std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(), std::string("x\xff")});
    CHECK(json_text(odd) == reference(odd));
    CHECK(json_text(json()) == "null");
    CHECK(json_text(json::object()) == "{}");
    CHECK(json_text(json::array()) == "[]");
    std::string out = "prefix:";
    append_json(out, json{{"k", 1}});
    CHECK(out == "prefix:{\"k\":1}");
}
