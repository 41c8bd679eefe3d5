#include <doctest/doctest.h>

#include <string>

#include "ingest/trace_parser.h"

using namespace assay;

namespace {
Result<Trace> parse(const std::string& s, ParseLimits limits = {}) { return parse_trace(s, limits, 1000); }
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
    CHECK(msg(parse(R"({"trace_id":7,"output":"x"})")) == "field 'trace_id': expected a string, got number");
    CHECK(msg(parse(R"({"trace_id":"","output":"x"})")).find("1-256 bytes") != std::string::npos);
    CHECK(msg(parse("{\"trace_id\":\"" + std::string(257, 'a') + "\",\"output\":\"x\"}")).find("got 257") !=
          std::string::npos);
    CHECK(msg(parse(R"({"trace_id":"t"})")) == "field 'output' is required");
    CHECK(msg(parse(R"({"trace_id":"t","output":42})")) ==
          "field 'output': expected a string or an array of messages, got number");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","metadata":"prod"})")) ==
          "field 'metadata': expected an object, got string");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","usage":{"input_tokens":"many"}})")) ==
          "field 'usage.input_tokens': expected a non-negative integer, got string");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","metadata":{"tags":["a",3]}})")) ==
          "field 'metadata.tags[1]': expected a string, got number");
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","timestamp":"yesterday"})")).find("field 'timestamp'") == 0);
    CHECK(msg(parse(R"({"trace_id":"t","output":"x","latency_ms":-1})")) ==
          "field 'latency_ms': expected a non-negative number, got number");
    CHECK(msg(parse(R"([1,2])")) == "a trace must be a JSON object, got array");
    CHECK(msg(parse(R"({"trace_id":"t","output":null})")) == "field 'output' is null and no 'error' is given");
    CHECK(parse(R"({"trace_id":"t","output":null,"error":{"type":"timeout","message":"x"}})").ok());
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
    std::string deep = "{\"trace_id\":\"t\",\"output\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
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
    CHECK(*parse_rfc3339_ms("2026-11-22T12:00:00+02:00") == *parse_rfc3339_ms("2026-11-22T10:00:00Z"));
    CHECK(format_rfc3339_ms(*parse_rfc3339_ms("2024-02-29T23:59:59.999Z")) == "2024-02-29T23:59:59.999Z");
    CHECK_FALSE(parse_rfc3339_ms("2026-02-30T00:00:00Z").ok());
    CHECK_FALSE(parse_rfc3339_ms("2026-11-22 10:00").ok());
    CHECK_FALSE(parse_rfc3339_ms("2026-11-22T10:00:00").ok());
}
