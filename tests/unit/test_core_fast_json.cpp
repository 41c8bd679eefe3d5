// core/fast_json_sax.h against nlohmann::json::sax_parse: for every text the
// fast reader accepts, the same events in the same order; for every text
// nlohmann rejects, never "accepted"; and a handler that stops sees the same
// events before it stopped.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/fast_json_sax.h"

using namespace assay;
using nlohmann::json;

namespace {

// Records every event as text; returns false from the `stop_at`-th event on.
struct Recorder {
    std::vector<std::string> events;
    size_t stop_at = SIZE_MAX;

    bool add(std::string e) {
        events.push_back(std::move(e));
        return events.size() < stop_at;
    }
    bool null() { return add("null"); }
    bool boolean(bool b) { return add(b ? "true" : "false"); }
    bool number_integer(json::number_integer_t v) { return add("int " + std::to_string(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return add("uint " + std::to_string(v)); }
    bool number_float(json::number_float_t v, const std::string& token) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return add(std::string("float ") + buf + " " + token);
    }
    bool string(std::string& s) { return add("string " + s); }
    bool binary(json::binary_t&) { return add("binary"); }
    bool start_object(std::size_t n) { return add("{" + std::to_string(n)); }
    bool key(std::string& k) { return add("key " + k); }
    bool end_object() { return add("}"); }
    bool start_array(std::size_t n) { return add("[" + std::to_string(n)); }
    bool end_array() { return add("]"); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }
};

struct Outcome {
    bool ok = false;
    std::vector<std::string> events;
};

Outcome reference(const std::string& text, size_t stop_at = SIZE_MAX) {
    Recorder r;
    r.stop_at = stop_at;
    Outcome o;
    o.ok = json::sax_parse(text.begin(), text.end(), &r);
    o.events = std::move(r.events);
    return o;
}

// Checks the contract on one text; returns the fast reader's result.
FastJsonResult check_same(const std::string& text) {
    Recorder fast;
    const FastJsonResult got = fast_json_sax(text, fast);
    const Outcome want = reference(text);
    INFO("text: " << text);
    if (got == FastJsonResult::accepted) {
        CHECK(want.ok);
        CHECK(fast.events == want.events);
    } else {
        CHECK(got == FastJsonResult::not_handled);  // the recorder never stops here
    }
    if (!want.ok) {
        CHECK(got != FastJsonResult::accepted);
    }
    return got;
}

}  // namespace

TEST_CASE("fast JSON reader: the events of nlohmann's parser on well-formed text") {
    const std::vector<std::string> texts = {
        R"({"trace_id":"t1","output":"hi"})",
        " \t\r\n{ \"a\" : [ 1 , -2 , 3.5 , -0 , 0 , 1e3 , 1E-2 , 2.50e+10 ] , \"b\" : { } , "
        "\"c\" : [ ] }\n",
        R"({"n":[true,false,null,"",{"x":{"y":[[]]}}]})",
        R"({"big":18446744073709551615,"over":18446744073709551616,"neg":-9223372036854775808,)"
        R"("negover":-9223372036854775809,"tiny":1e-400,"dup":1,"dup":2})",
        R"({"esc":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20ac \ud83d\ude00 \u0000"})",
        "{\"utf8\":\"gr\xC3\xBC\xC3\x9F \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xED\x9F\xBF "
        "\xEE\x80\x80 \xF4\x8F\xBF\xBF\"}",
        R"([1,2])",
        R"("just a string")",
        R"(42)",
        R"(null)",
    };
    for (const auto& t : texts) {
        CHECK(check_same(t) == FastJsonResult::accepted);
    }
}

TEST_CASE("fast JSON reader: never accepts what nlohmann rejects") {
    const std::vector<std::string> texts = {
        "",
        "   ",
        R"({"a":1,})",
        R"({"a":1} x)",
        R"({"a":01})",
        R"({"a":-})",
        R"({"a":1.})",
        R"({"a":.5})",
        R"({"a":1e})",
        R"({"a":1e+})",
        R"({"a":+1})",
        R"({"a":1e400})",
        R"({"a":-1e400})",
        R"({"a":tru})",
        R"({"a":nul})",
        R"({"a":True})",
        R"({"a" 1})",
        R"({a:1})",
        R"({"a":1)",
        R"([1,])",
        R"([1 2])",
        R"({"a":"\x"})",
        R"({"a":"\u12"})",
        R"({"a":"\ud800"})",
        R"({"a":"\ud800\u0041"})",
        R"({"a":"\udc00"})",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"nul\0\"}",
        "{\"a\":\"\xC3\"}",
        "{\"a\":\"\xC0\x80\"}",
        "{\"a\":\"\xED\xA0\x80\"}",
        "{\"a\":\"\xF4\x90\x80\x80\"}",
        "{\"a\":\"\xFF\"}",
        "\xEF\xBB\xBF{\"a\":1}",  // a BOM: nlohmann's rules apply (not_handled)
        R"({"a":"unterminated)",
        R"({"a":1}})",
        R"(])",
    };
    for (const auto& t : texts) {
        CHECK(check_same(std::string(t)) == FastJsonResult::not_handled);
    }
    // Embedded NUL outside a string.
    CHECK(check_same(std::string("{\"a\":1}\0", 8)) == FastJsonResult::not_handled);
}

TEST_CASE("fast JSON reader: a handler that stops sees the events nlohmann sent before") {
    const std::string text =
        R"({"trace_id":"t","input":[{"role":"user","content":"q"}],"n":[1,-2,3.5,null,true]})";
    const size_t total = reference(text).events.size();
    REQUIRE(total > 10);
    for (size_t stop = 1; stop <= total; ++stop) {
        Recorder fast;
        fast.stop_at = stop;
        const FastJsonResult got = fast_json_sax(text, fast);
        const Outcome want = reference(text, stop);
        INFO("stop at event " << stop);
        CHECK(got == FastJsonResult::stopped);
        CHECK_FALSE(want.ok);
        CHECK(fast.events == want.events);
    }
}

TEST_CASE("fast JSON reader: the demo traces and byte-level mutations of them") {
    std::ifstream in(std::string(ASSAY_SOURCE_DIR) + "/datasets/demo/traces.jsonl");
    REQUIRE(in.good());
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line) && lines.size() < 300) {
        lines.push_back(line);
    }
    REQUIRE(lines.size() == 300);
    for (const auto& l : lines) {
        REQUIRE(check_same(l) == FastJsonResult::accepted);
    }
    // Mutations: one byte replaced by a JSON-significant or non-ASCII byte,
    // or the text cut short; both readers must agree whenever the fast one
    // accepts, and it must not accept what nlohmann rejects.
    const char k_bytes[] = {'"',    '\\',   '{',    '}',    '[',    ']',   ':',  ',',
                            '0',    '-',    'e',    '.',    'u',    ' ',   '\n', '\x01',
                            '\x7f', '\x80', '\xC3', '\xED', '\xF0', '\xFF'};
    std::mt19937 rng(12345);
    size_t accepted = 0;
    size_t rejected = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string t = lines[rng() % lines.size()];
        const size_t at = rng() % t.size();
        if (i % 10 == 0) {
            t.resize(at);
        } else {
            t[at] = k_bytes[rng() % sizeof k_bytes];
        }
        (check_same(t) == FastJsonResult::accepted ? accepted : rejected)++;
    }
    // The mutations exercise both outcomes.
    CHECK(accepted > 400);
    CHECK(rejected > 400);
}
