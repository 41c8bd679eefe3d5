#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/scorer.h"
#include "core/scorer_registry.h"
#include "core/text.h"
#include "format/json_text.h"
#include "support/scorer_harness.h"

namespace assay {

namespace {

using testing::contains;
using testing::score_ok;

std::unique_ptr<Scorer> make(const std::string& yaml) {
    return testing::make_scorer("format", yaml);
}

Trace trace_of(const std::string& output, const std::string& expected_format = "json") {
    Trace t;
    t.trace_id = "t1";
    t.output = output;
    t.metadata.expected_format = expected_format;
    return t;
}

}  // namespace

TEST_CASE("format: plain JSON validity") {
    auto s = make("json: true");
    Score v = score_ok(*s, trace_of("  {\"a\": [1, 2, {\"b\": null}]}\n"));
    CHECK(v.value == 1.0);
    CHECK(v.passed == true);
    CHECK(v.label == "valid");
    CHECK(contains(v.explanation, "valid JSON object"));

    CHECK(score_ok(*s, trace_of("42")).passed == true);  // any JSON value, RFC 8259
    CHECK(score_ok(*s, trace_of("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"")).passed == true);

    Score bad = score_ok(*s, trace_of("{\"a\": 1,}"));
    CHECK(bad.value == 0.0);
    CHECK(bad.passed == false);
    CHECK(bad.label == "invalid_json");
    CHECK(contains(bad.explanation, "not valid JSON"));
    CHECK(contains(bad.explanation, "line 1"));

    // Trailing garbage, comments, single quotes, NaN are all invalid.
    CHECK(score_ok(*s, trace_of("{} x")).passed == false);
    CHECK(score_ok(*s, trace_of("{} // c")).passed == false);
    CHECK(score_ok(*s, trace_of("{'a': 1}")).passed == false);
    CHECK(score_ok(*s, trace_of("[NaN]")).passed == false);
    CHECK(score_ok(*s, trace_of(std::string("[1]\0", 4))).passed == false);
    // Invalid UTF-8 inside a string; the explanation stays valid UTF-8.
    Score utf = score_ok(*s, trace_of("[\"\xC3\x28\"]"));
    CHECK(utf.passed == false);
    CHECK(contains(utf.explanation, "ill-formed UTF-8"));
    CHECK(find_invalid_utf8(utf.explanation) == std::string_view::npos);
    CHECK(format::safe_excerpt("a\xFF"
                               "b",
                               10) ==
          "a\xEF\xBF\xBD"
          "b");
}

TEST_CASE("format: empty output is a format failure, not missing input") {
    auto s = make("json: true");
    Score v = score_ok(*s, trace_of(""));
    CHECK(v.passed == false);
    CHECK(v.label == "invalid_json");
    CHECK(v.explanation == "output is empty");
    CHECK(score_ok(*s, trace_of(" \n\t")).explanation == "output is empty (whitespace only)");
}

TEST_CASE("format: fenced JSON") {
    auto s = make("json: true");
    Score v =
        score_ok(*s, trace_of("Here you go:\n\n```json\n{\"ok\": true}\n```\nAnything else?"));
    CHECK(v.passed == true);
    CHECK(contains(v.explanation, "```json fenced block at line 3"));
    CHECK(contains(v.explanation, "surrounding prose"));

    Score plain = score_ok(*s, trace_of("```\n[1,2]\n```"));
    CHECK(plain.passed == true);
    CHECK(contains(plain.explanation, "``` fenced block at line 1"));
    CHECK(!contains(plain.explanation, "prose"));

    // ```python is skipped; the json block is found.
    Score second = score_ok(*s, trace_of("```python\nx = {}\n```\n```JSON\n{\"a\": 1}\n```"));
    CHECK(second.passed == true);
    CHECK(contains(second.explanation, "line 4"));

    Score broken = score_ok(*s, trace_of("```json\n{\"a\": }\n```"));
    CHECK(broken.passed == false);
    CHECK(broken.label == "invalid_json");
    CHECK(contains(broken.explanation, "fenced block at line 1 is not valid JSON"));

    auto strict = make("json: true\nallow_fenced: false");
    Score no = score_ok(*strict, trace_of("```json\n{\"ok\": true}\n```"));
    CHECK(no.passed == false);
    CHECK(contains(no.explanation, "allow_fenced is false"));
}

TEST_CASE("format: JSON inside prose without a fence is invalid") {
    auto s = make("json: true");
    Score v = score_ok(*s, trace_of("Sure! The answer is {\"a\": 1} as requested."));
    CHECK(v.passed == false);
    CHECK(v.label == "invalid_json");
    CHECK(contains(v.explanation, "JSON object found at offset 20 inside prose"));
    CHECK(contains(v.explanation, "expected the whole output to be JSON"));
}

TEST_CASE("format: hostile deep nesting does not overflow the stack") {
    const size_t depth = 100000;
    auto s = make("json: true");
    std::string deep(depth, '[');
    deep += std::string(depth, ']');
    Score v = score_ok(*s, trace_of(deep));
    CHECK(v.passed == true);

    std::string unclosed(depth, '[');
    CHECK(score_ok(*s, trace_of(unclosed)).passed == false);

    std::string objs;
    for (size_t i = 0; i < depth; ++i) {
        objs += "{\"a\":";
    }
    objs += "1" + std::string(depth, '}');
    CHECK(score_ok(*s, trace_of(objs)).passed == true);

    format::JsonScan scan = format::scan_json(deep);
    CHECK(scan.max_depth == depth);

    // Schema validation of a recursive schema is refused beyond a depth limit.
    auto rec = make("schema: {type: array, items: {$ref: '#'}}");
    auto r = rec->score(trace_of(deep));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::limit_exceeded);
    std::string ok_depth = std::string(200, '[') + std::string(200, ']');
    CHECK(score_ok(*rec, trace_of(ok_depth)).passed == true);
}

TEST_CASE("format: schema conformance and first failing path") {
    auto s = make(R"(
schema:
  type: object
  required: [items]
  properties:
    items:
      type: array
      items:
        type: object
        required: [price]
        properties:
          price: {type: number, minimum: 0}
)");
    CHECK(score_ok(*s, trace_of(R"({"items": [{"price": 1}, {"price": 2.5}]})")).passed == true);

    Score v = score_ok(*s, trace_of(R"({"items": [{"price": 1}, {"price": 2}, {"price": "12"}]})"));
    CHECK(v.passed == false);
    CHECK(v.value == 0.0);
    CHECK(v.label == "schema_mismatch");
    CHECK(contains(v.explanation, "schema mismatch at /items/2/price"));
    CHECK(contains(v.explanation, "type"));
    CHECK(contains(v.explanation, "\"12\""));

    Score missing = score_ok(*s, trace_of(R"({"other": 1})"));
    CHECK(missing.label == "schema_mismatch");
    CHECK(contains(missing.explanation, "the document root"));
    CHECK(contains(missing.explanation, "items"));

    // Invalid JSON is reported as invalid_json; the schema is not consulted.
    CHECK(score_ok(*s, trace_of("{items: []}")).label == "invalid_json");
    // Fenced JSON is validated against the schema too.
    CHECK(score_ok(*s, trace_of("```json\n{\"items\": []}\n```")).passed == true);
}

TEST_CASE("format: schema given as JSON text, boolean schema, pattern keyword") {
    auto s = make(R"(schema: '{"type": "string", "pattern": "^[a-z]+$"}')");
    CHECK(score_ok(*s, trace_of("\"abc\"")).passed == true);
    Score v = score_ok(*s, trace_of("\"ABC\""));
    CHECK(v.label == "schema_mismatch");
    CHECK(contains(v.explanation, "pattern"));

    // std::regex recursion per character would overflow the stack on a long
    // string: such documents are refused, not crashed on.
    auto r = s->score(trace_of("\"" + std::string(100000, 'a') + "\""));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::limit_exceeded);
    CHECK(contains(r.status().message(), "100000 bytes"));
    auto keys = make(R"(schema: {patternProperties: {'^x': {type: string}}})");
    auto rk = keys->score(trace_of("{\"" + std::string(5000, 'x') + "\": 1}"));
    CHECK(rk.status().code() == StatusCode::limit_exceeded);
    // At the limit the match still runs (and does not crash in Debug builds).
    CHECK(score_ok(*s, trace_of("\"" + std::string(4096, 'a') + "\"")).passed == true);
    // Without regex keywords long strings are fine.
    auto plain = make("schema: {type: string}");
    CHECK(score_ok(*plain, trace_of("\"" + std::string(100000, 'a') + "\"")).passed == true);

    auto never = make("schema: false");
    CHECK(score_ok(*never, trace_of("{}")).passed == false);
}

TEST_CASE("format: regex check") {
    auto full = make("regex: '[A-D]'");
    CHECK(score_ok(*full, trace_of("B\n", "text")).passed ==
          true);  // trimmed; when defaults to all
    Score v = score_ok(*full, trace_of("The answer is B", "text"));
    CHECK(v.label == "regex_mismatch");
    CHECK(contains(v.explanation, "does not fully match"));
    CHECK(contains(v.explanation, "partial match 'T'") == false);
    CHECK(contains(v.explanation, "offset 14"));

    auto part = make("regex: '\\d{3}-\\d{4}'\nregex_mode: contains");
    CHECK(score_ok(*part, trace_of("call 555-1234 now")).passed == true);
    Score no = score_ok(*part, trace_of("no number here"));
    CHECK(no.passed == false);
    CHECK(contains(no.explanation, "contains no match"));

    // Unicode: RE2 works on UTF-8 code points.
    auto uni = make("regex: '\\p{Greek}+'");
    CHECK(score_ok(*uni, trace_of("\xCE\xB1\xCE\xB2\xCE\xB3")).passed == true);
}

TEST_CASE("format: combined checks report the first failing label") {
    auto s = make("schema: {type: object}\nregex: '^\\{.*\\}$'\nwhen: all");
    CHECK(score_ok(*s, trace_of("{\"a\":1}")).passed == true);
    Score v = score_ok(*s, trace_of("[1]"));
    CHECK(v.label == "schema_mismatch");
    CHECK(contains(v.explanation, "regex"));  // both failures are listed
}

TEST_CASE("format: when") {
    auto s = make("json: true");
    auto r = s->score(trace_of("{}", "text"));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::not_applicable);
    CHECK(r.status().message() ==
          "metadata.expected_format is 'text'; this scorer applies to 'json'");
    auto unset = s->score(trace_of("{}", ""));
    CHECK(unset.status().code() == StatusCode::not_applicable);
    CHECK(contains(unset.status().message(), "not set"));
    CHECK(score_ok(*s, trace_of("{}", " JSON ")).passed == true);  // case-insensitive

    auto list = make("json: true\nwhen: {expected_format: [json, JSONL]}");
    CHECK(score_ok(*list, trace_of("{}", "jsonl")).passed == true);
    CHECK(contains(list->score(trace_of("{}", "yaml")).status().message(), "'json', 'jsonl'"));

    auto all = make("json: true\nwhen: all");
    CHECK(score_ok(*all, trace_of("{}", "")).passed == true);
}

TEST_CASE("format: config errors name the key") {
    auto check = [](const std::string& yaml, const std::string& key) {
        CHECK(testing::config_error_naming("format", yaml, key).code() ==
              StatusCode::invalid_argument);
    };
    check("regex: '(unclosed'", "regex");
    check("regex: 'a'\nregex_mode: sometimes", "regex_mode");
    check("regex_mode: full\njson: true", "regex_mode");
    check("{}", "json");
    check("json: maybe", "json");
    check("json: false\nschema: {type: object}", "json");
    check("schema: {type: object}\nschema_file: x.json", "schema_file");
    check("schema_file: /nonexistent/schema.json", "schema_file");
    check("schema: {type: 12}", "schema");
    check("schema: {$ref: 'http://localhost:1234/x.json'}", "schema");
    check("schema: {type: string, pattern: '(('}", "schema");
    check("schema: 'not json'", "schema");
    check("json: true\nwhen: sometimes", "when");
    check("json: true\nwhen: {feature: x}", "when");
    check("regex: a\nallow_fenced: true", "allow_fenced");
}

TEST_CASE("format: schema_file is read once and its bytes version the scorer") {
    const std::string dir = ASSAY_SOURCE_DIR "/scorers/format/testdata";
    ConfigBlock a(YAML::Load("schema_file: person.schema.json"), "a", dir);
    auto r = ScorerRegistry::instance().find("format")->make(a);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    Score ok = score_ok(**r, trace_of(R"({"name": "Ada", "age": 36})"));
    CHECK(ok.passed == true);
    Score bad = score_ok(**r, trace_of(R"({"name": "Ada", "age": -1})"));
    CHECK(contains(bad.explanation, "/age"));

    ConfigBlock b(YAML::Load("schema_file: person.schema.json"), "b", ".");
    auto missing = ScorerRegistry::instance().find("format")->make(b);
    CHECK(!missing.ok());
    // The file's bytes are part of the version fingerprint: a block that read
    // the file differs from one with the same keys that did not.
    ConfigBlock c(YAML::Load("schema_file: person.schema.json"), "c", dir);
    CHECK(a.version_fingerprint({}) != c.version_fingerprint({}));
}

TEST_CASE("format: score() is safe from several threads") {
    auto s = make(
        "schema: {type: object, properties: {id: {type: string, pattern: '^[a-z]+-[0-9]+$'}}}");
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 300; ++i) {
                auto good = s->score(trace_of("{\"id\": \"abc-" + std::to_string(i) + "\"}"));
                auto bad = s->score(trace_of("{\"id\": \"ABC-" + std::to_string(i) + "\"}"));
                if (!good.ok() || !bad.ok() || good->passed != true || bad->passed != false) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(wrong.load() == 0);
}

TEST_CASE("format: fence finder") {
    auto f = format::find_json_fence("a\n  ```json  \n{}\n  ```\nb\n```\n[]\n```");
    REQUIRE(f.has_value());
    CHECK(f->line == 2);
    CHECK(f->content == "{}\n");
    CHECK(f->closed);
    CHECK(f->candidates == 2);
    auto open = format::find_json_fence("```json\n{\"a\": 1}");
    REQUIRE(open.has_value());
    CHECK(!open->closed);
    CHECK(!format::find_json_fence("```yaml\na: 1\n```").has_value());
}

}  // namespace assay
