#include <doctest/doctest.h>

#include <string>

#include "core/text.h"
#include "core/time_format.h"
#include "core/trace_json.h"

using namespace assay;

namespace {
Result<Trace> parse(const std::string& s, ParseLimits limits = {}) {
    return parse_trace(s, limits, 1000);
}
std::string msg(const Result<Trace>& r) { return r.ok() ? "" : r.status().message(); }
}  // namespace

TEST_CASE("trace parser: a full trace") {
    auto r = parse(R"({"trace_id":"t1","timestamp":"2026-11-22T10:00:00.250Z",
      "input":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}],
      "output":[{"role":"assistant","content":"hello"}],
      "reference":"hello","context":["doc a",{"content":"doc b"}],
      "metadata":{"feature":"chat","tenant":"acme","prompt_version":4,"tags":["vip"],"custom":{"x":1}},
      "usage":{"prompt_tokens":10,"completion_tokens":2,"cost_usd":0.001},
      "latency_ms":812.5,"ttft_ms":90,"finish_reason":"stop","error":null})");
    REQUIRE(r.ok());
    const Trace& t = *r;
    CHECK(t.trace_id == "t1");
    CHECK(t.timestamp_ms == 1795341600250LL);
    CHECK(t.timestamp_given);
    CHECK(t.input == "be brief\n\nhi");
    CHECK(t.input_messages.size() == 2);
    CHECK(t.output == "hello");
    CHECK(t.context.size() == 2);
    CHECK(t.context[1] == "doc b");
    CHECK(t.metadata.feature == "chat");
    CHECK(t.metadata.prompt_version == "4");
    CHECK(t.metadata.has_tag("vip"));
    CHECK(t.metadata.get("tenant") == std::optional<std::string>("acme"));
    CHECK_FALSE(t.metadata.get("custom").has_value());
    CHECK(t.usage.input_tokens == 10);
    CHECK(t.usage.output_tokens == 2);
    CHECK(t.latency_ms == 812.5);
    CHECK(t.finish_reason == "stop");
    CHECK_FALSE(t.error.has_value());
}

TEST_CASE("trace parser: default timestamp is the time received") {
    auto r = parse(R"({"trace_id":"t","output":"x"})");
    REQUIRE(r.ok());
    CHECK(r->timestamp_ms == 1000);
    CHECK_FALSE(r->timestamp_given);
}

TEST_CASE("trace parser: errors name the field") {
    CHECK(msg(parse(R"({"output":"x"})")) == "field 'trace_id' is required");
    CHECK(msg(parse(R"({"trace_id":7,"output":"x"})")) ==
          "field 'trace_id': expected a string, got 7");
    CHECK(msg(parse(R"({"trace_id":"","output":"x"})")).find("1-256 bytes") != std::string::npos);
    CHECK(msg(parse("{\"trace_id\":\"" + std::string(257, 'a') + "\",\"output\":\"x\"}"))
              .find("got 257") != std::string::npos);
    CHECK(msg(parse(R"({"trace_id":"t"})")) == "field 'output' is required");
    CHECK(msg(parse(R"({"trace_id":"t","output":42})")) ==
          "field 'output': expected a string or an array of messages, got 42");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","metadata":"prod"})")) ==
          "field 'metadata': expected an object, got the string \"prod\"");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","usage":{"input_tokens":"many"}})")) ==
          "field 'usage.input_tokens': expected a non-negative integer, got the string \"many\"");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","metadata":{"tags":["a",3]}})")) ==
          "field 'metadata.tags[1]': expected a string, got 3");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","timestamp":"yesterday"})"))
              .find("field 'timestamp'") == 0);
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","latency_ms":-1})")) ==
          "field 'latency_ms': expected a non-negative number, got -1");
    CHECK(msg(parse(R"([1,2])")) == "a trace must be a JSON object, got an array");
    CHECK(msg(parse(R"({"trace_id":"t","output":null})")) ==
          "field 'output' is null and no 'error' is given");
    CHECK(parse(R"({"trace_id":"t","output":null,"error":{"type":"timeout","message":"x"}})").ok());
}

TEST_CASE("trace parser: a wrong value is named in the message, not only its type") {
    // Regression: "latency_ms: -5" said "expected a non-negative number, got number".
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","latency_ms":-5})")) ==
          "field 'latency_ms': expected a non-negative number, got -5");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","ttft_ms":-0.25})")) ==
          "field 'ttft_ms': expected a non-negative number, got -0.25");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","usage":{"cost_usd":true}})")) ==
          "field 'usage.cost_usd': expected a non-negative number, got true");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","finish_reason":null,"reference":false})")) ==
          "field 'reference': expected a string, got false");
    // A long string value is cut, with the cut shown.
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","latency_ms":")" + std::string(100, 'a') +
                    R"("})")) ==
          "field 'latency_ms': expected a non-negative number, got the string \"" +
              std::string(40, 'a') + "…\"");
}

TEST_CASE("trace parser: the slow parser names the value as the fast one does") {
    // Well-formed text is read by the fast reader (core/fast_json_sax.h); a
    // byte order mark sends the same text to nlohmann's parser instead. Both
    // must name the wrong value the same way.
    const std::string k_bom = "\xEF\xBB\xBF";
    for (const std::string text : {
             R"({"trace_id":"t","output":"x","latency_ms":-5})",
             R"({"trace_id":"t","output":"x","ttft_ms":-0.25})",
             R"({"trace_id":"t","output":"x","usage":{"cost_usd":true}})",
             R"({"trace_id":"t","output":"x","metadata":"prod"})",
             R"({"trace_id":"t","output":"x","usage":{"input_tokens":{}}})",
             R"({"trace_id":"t","output":"x","latency_ms":-99999999999999999999})",
         }) {
        CAPTURE(text);
        const std::string fast = msg(parse(text));
        CHECK(fast.find(", got ") != std::string::npos);
        CHECK(fast.find("got a number") == std::string::npos);
        CHECK(msg(parse(k_bom + text)) == fast);
    }
    CHECK(msg(parse(k_bom + R"({"trace_id":"t","output":"x","latency_ms":-5})")) ==
          "field 'latency_ms': expected a non-negative number, got -5");
}

TEST_CASE("trace parser: invalid JSON says where and what was wrong") {
    // Regression: "invalid JSON: parse error at line 1, column 2" without what was there.
    CHECK(msg(parse("{}}")) ==
          "invalid JSON: unexpected '}' at column 3; expected end of input (while parsing value)");
    CHECK(msg(parse("{\"trace_id\": tru}")) ==
          "invalid JSON: invalid literal at column 17; last read: '\"trace_id\": tru}' (while "
          "parsing "
          "value)");
    CHECK(msg(parse("{\"a\":1,}")) ==
          "invalid JSON: unexpected '}' at column 8; expected string literal (while parsing object "
          "key)");
    CHECK(msg(parse("{\"a\":\n1,\n]")) ==
          "invalid JSON: unexpected ']' at line 3, column 1; expected string literal (while "
          "parsing object key)");
}

TEST_CASE("trace parser: a message that quotes invalid bytes is valid UTF-8 and names them") {
    // Valid UTF-8 input, but nlohmann quotes the bytes it last read, cut
    // inside a character ("last read: '\t\xC4'" of "\t\xC4\x96"); a UTF8
    // PostgreSQL database refused the dead letter that held that message (and
    // with it the whole batch). Found by e2e.worker.postgres's fuzz mix.
    for (const std::string& text : {std::string("\t\xC4\x96"), std::string(" \xE6\x97\xA5"),
                                    std::string("{\"a\": \xC3\xA9}")}) {
        const std::string m = msg(parse(text));
        CAPTURE(m);
        CHECK(m.rfind("invalid JSON", 0) == 0);
        CHECK(find_invalid_utf8(m) == std::string_view::npos);
        CHECK(m.find("\\x") != std::string::npos);
    }
}

TEST_CASE("trace parser: a NUL byte is invalid JSON, not the end of the text") {
    // Regression (found by tests/fuzz): nlohmann's parser took a NUL byte for the
    // end of the input, so a trace followed by a NUL and anything at all was
    // accepted, and the bytes after the NUL were silently dropped.
    const std::string ok = R"({"trace_id":"t","output":"o"})";
    CHECK(msg(parse(ok + std::string(1, '\0') + "garbage")) ==
          "invalid JSON: unexpected NUL byte at column 30; expected end of input");
    CHECK(msg(parse(ok + "\n\n" + std::string(1, '\0'))) ==
          "invalid JSON: unexpected NUL byte at line 3, column 1; expected end of input");
    // Inside a string it stays nlohmann's message about control characters.
    const std::string in_string = R"({"trace_id":"t)" + std::string(1, '\0') + R"(","output":"o"})";
    CHECK(msg(parse(in_string)).find("U+0000") != std::string::npos);
    CHECK(parse(ok).ok());
}

TEST_CASE("trace parser: invalid JSON and invalid UTF-8") {
    CHECK(msg(parse(R"({"trace_id":"t",)")).rfind("invalid JSON: ", 0) == 0);
    std::string bad = "{\"trace_id\":\"t\",\"output\":\"a\xff\"}";
    CHECK(msg(parse(bad)) == "invalid UTF-8 at byte 27");
    std::string overlong = "{\"trace_id\":\"t\",\"output\":\"\xC0\xAF\"}";
    CHECK(msg(parse(overlong)).rfind("invalid UTF-8", 0) == 0);
    std::string surrogate = "{\"trace_id\":\"t\",\"output\":\"\xED\xA0\x80\"}";
    CHECK(msg(parse(surrogate)).rfind("invalid UTF-8", 0) == 0);
}

TEST_CASE("trace parser: hostile nesting and size are rejected, not crashed on") {
    std::string deep = "{\"trace_id\":\"t\",\"output\":" + std::string(100000, '[') +
                       std::string(100000, ']') + "}";
    auto r = parse(deep);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::limit_exceeded);
    CHECK(msg(r) == "JSON nests deeper than 64 levels (ingest.max_depth)");
    // Brackets inside strings do not count.
    std::string in_string = "{\"trace_id\":\"t\",\"output\":\"" + std::string(500, '[') + "\"}";
    CHECK(parse(in_string).ok());
    ParseLimits small;
    small.max_trace_bytes = 1024;
    auto big = parse("{\"trace_id\":\"t\",\"output\":\"" + std::string(2000, 'x') + "\"}", small);
    CHECK(big.status().code() == StatusCode::limit_exceeded);
    CHECK(msg(big).find("the limit (ingest.max_trace_bytes) is 1024") != std::string::npos);
}

TEST_CASE("rfc3339 round trip and offsets") {
    CHECK(*parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
    CHECK(*parse_rfc3339_ms("2026-11-22T12:00:00+02:00") ==
          *parse_rfc3339_ms("2026-11-22T10:00:00Z"));
    CHECK(format_rfc3339_ms(*parse_rfc3339_ms("2024-02-29T23:59:59.999Z")) ==
          "2024-02-29T23:59:59.999Z");
    CHECK_FALSE(parse_rfc3339_ms("2026-02-30T00:00:00Z").ok());
    CHECK_FALSE(parse_rfc3339_ms("2026-11-22 10:00").ok());
    CHECK_FALSE(parse_rfc3339_ms("2026-11-22T10:00:00").ok());
}

TEST_CASE("dates: one strict check everywhere (leap years, month lengths)") {
    // 2026 is not a leap year: February 29 was stored as March 1 before.
    CHECK_FALSE(parse_rfc3339_ms("2026-02-29T00:00:00Z").ok());
    CHECK_FALSE(parse_rfc3339_ms("2026-04-31T00:00:00Z").ok());
    CHECK_FALSE(parse_rfc3339_ms("1900-02-29T00:00:00Z").ok());  // century, not a leap year
    CHECK(parse_rfc3339_ms("2000-02-29T00:00:00Z").ok());        // 400-year leap day
    CHECK(parse_rfc3339_ms("2028-02-29T00:00:00Z").ok());
    CHECK_FALSE(parse_day("2026-02-29").has_value());
    CHECK_FALSE(parse_day("2026-02-30").has_value());
    CHECK_FALSE(parse_day("2026-04-31").has_value());
    CHECK_FALSE(parse_day("2026-13-01").has_value());
    CHECK_FALSE(parse_day("2026-1-011").has_value());
    CHECK_FALSE(parse_day("+026-01-01").has_value());
    CHECK(parse_day("1970-01-01") == 0);
    CHECK(*parse_day("2028-02-29") * 86400000 == *parse_rfc3339_ms("2028-02-29T00:00:00Z"));
}

TEST_CASE("trace parser: shapes seen in real traffic") {
    // A single message object as output; tool calls and unknown nested keys are skipped.
    auto r = parse(R"({"trace_id":"s1","output":{"role":"assistant","content":null,
        "tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{}"}}]},
        "unknown":{"deep":[1,[2,{"x":3}]]},"finish_reason":"tool_calls"})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    CHECK(r->output.empty());
    REQUIRE(r->output_messages.size() == 1);
    CHECK(r->output_messages[0].role == "assistant");
    CHECK(r->finish_reason == "tool_calls");

    // Content parts: strings concatenate, text parts join with a newline; images are ignored.
    r = parse(
        R"({"trace_id":"s2","input":[{"role":"user","content":["a","b",{"type":"text","text":"c"},
        {"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"d"}]}],"output":"ok"})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    CHECK(r->input == "ab\nc\nd");

    // Context documents as objects: "content" wins over "text".
    r = parse(
        R"({"trace_id":"s3","output":"o","context":[{"text":"t1","content":"c1"},{"text":"t2"},"s"]})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    REQUIRE(r->context.size() == 3);
    CHECK(r->context[0] == "c1");
    CHECK(r->context[1] == "t2");
    CHECK(msg(parse(R"({"trace_id":"s","output":"o","context":[{"url":"x"}]})")) ==
          "field 'context[0]': expected a string or an object with 'content', got an object");

    // Unknown metadata keys keep their JSON values, nested ones included.
    r = parse(R"({"trace_id":"s4","output":"o","metadata":{"feature":"f","prompt_version":2.5,
        "retry":-3,"flags":{"a":[1,{"b":true}],"c":null},"region":"eu","ok":false}})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    CHECK(r->metadata.prompt_version == "2.5");
    CHECK(r->metadata.get("retry") == std::optional<std::string>("-3"));
    CHECK(r->metadata.get("region") == std::optional<std::string>("eu"));
    CHECK(r->metadata.get("ok") == std::optional<std::string>("false"));
    CHECK(r->metadata.extra["flags"]["a"][1]["b"] == true);
    CHECK(r->metadata.extra["flags"]["c"].is_null());
    CHECK_FALSE(r->metadata.get("flags").has_value());

    // Duplicate keys: the last one wins, nothing is appended twice.
    r = parse(R"({"trace_id":"a","trace_id":"b","output":["x"],"output":[{"content":"y"}],
        "context":["1"],"context":["2"]})");
    CHECK(msg(r) ==
          "field 'output[0]': expected a message object {role, content}, got the string \"x\"");
    r = parse(
        R"({"trace_id":"a","trace_id":"b","output":[{"content":"x"}],"output":[{"content":"y"}],
        "context":["1"],"context":["2"]})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    CHECK(r->trace_id == "b");
    CHECK(r->output == "y");
    CHECK(r->output_messages.size() == 1);
    CHECK(r->context == std::vector<std::string>{"2"});

    // OpenAI usage spellings are aliases; the canonical keys win.
    r = parse(
        R"({"trace_id":"u","output":"o","usage":{"completion_tokens":5,"output_tokens":7,"prompt_tokens":3.0}})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    CHECK(r->usage.output_tokens == 7);
    CHECK(r->usage.input_tokens == 3);
    CHECK(msg(parse(R"({"trace_id":"u","output":"o","usage":{"cached_tokens":1.5}})")) ==
          "field 'usage.cached_tokens': expected a non-negative integer, got 1.5");
    CHECK(msg(parse(R"({"trace_id":"u","output":"o","usage":{"input_tokens":{}}})")) ==
          "field 'usage.input_tokens': expected a non-negative integer, got an object");

    // Errors inside messages name the path.
    CHECK(msg(parse(R"({"trace_id":"m","output":[{"role":1}]})")) ==
          "field 'output[0].role': expected a string, got 1");
    CHECK(msg(parse(R"({"trace_id":"m","input":[{"content":[1]}],"output":"o"})")) ==
          "field 'input[0].content[0]': expected a string or a content part, got 1");
    CHECK(msg(parse(R"({"trace_id":"m","output":"o","metadata":{"feature":["x"]}})")) ==
          "field 'metadata.feature': expected a string, got an array");
    CHECK(msg(parse(R"({"trace_id":"m","output":"o","error":5})")) ==
          "field 'error': expected null or an object {type, message}, got 5");
    r = parse(R"({"trace_id":"e","output":"","error":{"message":"boom"}})");
    REQUIRE(r.ok());
    CHECK(r->error->type == "error");
    CHECK(r->error->message == "boom");
    CHECK(msg(parse(R"("just a string")")) ==
          "a trace must be a JSON object, got the string \"just a string\"");
    CHECK(msg(parse(R"({"trace_id":"x","output":"o"} trailing)")).rfind("invalid JSON", 0) == 0);
}
