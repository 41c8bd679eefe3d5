#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ingest/otlp/mapper.h"

using namespace assay;

namespace {

std::string read_otlp(const std::string& name) {
    std::ifstream in(std::string(ASSAY_SOURCE_DIR) + "/tests/data/otlp/" + name, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string msg(const Result<std::vector<OtlpSpan>>& r) {
    return r.ok() ? "" : r.status().message();
}

// One span with the given JSON members after the ids.
std::string one_span(const std::string& members) {
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
           R"("spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1795341600000000000")" +
           (members.empty() ? "" : "," + members) + "}]}]}]}";
}

}  // namespace

TEST_CASE("otlp mapper: a GenAI chat export (hex ids, nano timestamps as strings)") {
    auto r = parse_otlp_json(read_otlp("genai_chat.json"));
    REQUIRE_MESSAGE(r.ok(), msg(r));
    REQUIRE(r->size() == 1);
    const OtlpSpan& s = (*r)[0];
    CHECK(s.trace_id == "5b8efff798038103d269b633813fc60c");
    CHECK(s.span_id == "eee19b7ec3c1b174");
    CHECK(s.parent_span_id.empty());
    CHECK(s.name == "chat gpt-4o-mini");
    CHECK(s.kind == OtlpSpanKind::client);
    CHECK(s.start_unix_nano == 1795341600000000000ULL);
    CHECK(s.start_unix_ms == 1795341600000LL);
    CHECK(s.end_unix_ms == 1795341600812LL);
    CHECK(s.ended);
    CHECK(s.duration_ms() == doctest::Approx(812.0));
    CHECK(s.status_code == OtlpStatusCode::ok);
    CHECK(s.scope_name == "@opentelemetry/instrumentation-openai");
    CHECK(s.attributes.at("gen_ai.usage.input_tokens") == 42);  // intValue given as a string
    CHECK(s.attributes.at("assay.prompt_version") == 7);        // intValue given as a number
    CHECK(s.attributes.at("gen_ai.request.temperature") == doctest::Approx(0.2));
    CHECK(s.attributes.at("stream") == false);
    CHECK(s.attributes.at("gen_ai.response.finish_reasons") == nlohmann::json::array({"stop"}));
    REQUIRE(s.resource_attributes != nullptr);
    CHECK(s.resource_attributes->at("service.name") == "support-bot");
}

TEST_CASE("otlp mapper: attribute value types, kvlist and bytes") {
    auto r = parse_otlp_json(one_span(
        R"("attributes":[{"key":"s","value":{"stringValue":"x"}},{"key":"i","value":{"intValue":-9007199254740993}},)"
        R"({"key":"is","value":{"intValue":"-42"}},{"key":"d","value":{"doubleValue":"1.5"}},)"
        R"({"key":"nan","value":{"doubleValue":"NaN"}},{"key":"b","value":{"boolValue":true}},)"
        R"({"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"}]}}},)"
        R"({"key":"kv","value":{"kvlistValue":{"values":[{"key":"inner","value":{"boolValue":false}}]}}},)"
        R"({"key":"bytes","value":{"bytesValue":"AAEC"}},{"key":"empty","value":{}},{"key":"novalue"}])"));
    REQUIRE_MESSAGE(r.ok(), msg(r));
    const AttributeMap& a = (*r)[0].attributes;
    CHECK(a.at("s") == "x");
    CHECK(a.at("i") == -9007199254740993LL);
    CHECK(a.at("is") == -42);
    CHECK(a.at("d") == 1.5);
    CHECK(a.at("nan").is_null());
    CHECK(a.at("b") == true);
    CHECK(a.at("a") == nlohmann::json::parse(R"([1,"two"])"));
    CHECK(a.at("kv") == nlohmann::json::parse(R"({"inner":false})"));
    CHECK(a.at("bytes") == "AAEC");
    CHECK(a.at("empty").is_null());
    CHECK(a.at("novalue").is_null());
    CHECK_FALSE((*r)[0].ended);
}

TEST_CASE("otlp mapper: base64 ids, numeric times, enum names, snake_case keys") {
    // 16 bytes 0x5b8e... in base64, 8 bytes 0xeee1... in base64 (URL alphabet, no padding)
    auto r = parse_otlp_json(
        R"({"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"W47/95gDgQPSabYzgT/GDA==",)"
        R"("span_id":"7uGbfsPBsXQ","parent_span_id":"AAAAAAAAAAA=","kind":"SPAN_KIND_SERVER",)"
        R"("start_time_unix_nano":1795341600000000000,"end_time_unix_nano":1795341600500000000,)"
        R"("flags":768,"status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]}]})");
    REQUIRE_MESSAGE(r.ok(), msg(r));
    const OtlpSpan& s = (*r)[0];
    CHECK(s.trace_id == "5b8efff798038103d269b633813fc60c");
    CHECK(s.span_id == "eee19b7ec3c1b174");
    CHECK(s.parent_span_id.empty());  // all-zero parent means none
    CHECK_FALSE(s.parent_is_remote);
    CHECK(s.kind == OtlpSpanKind::server);
    CHECK(s.end_unix_ms - s.start_unix_ms == 500);
    CHECK(s.status_code == OtlpStatusCode::error);
    CHECK(s.status_message == "boom");
    CHECK(normalize_otlp_id("5B8EFFF798038103D269B633813FC60C", 16).value() ==
          "5b8efff798038103d269b633813fc60c");
    CHECK_FALSE(normalize_otlp_id("00000000000000000000000000000000", 16).ok());
}

TEST_CASE("otlp mapper: empty requests give no spans") {
    CHECK(parse_otlp_json("{}").value().empty());
    CHECK(parse_otlp_json(R"({"resourceSpans":[]})").value().empty());
    CHECK(parse_otlp_json(R"({"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]})").value().empty());
}

TEST_CASE("otlp mapper: errors name the path") {
    auto r = parse_otlp_json(read_otlp("bad_trace_id.json"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::invalid_argument);
    CHECK(msg(r).rfind("resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits",
                       0) == 0);

    r = parse_otlp_json(read_otlp("attributes_not_array.json"));
    CHECK(msg(r) ==
          "resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array of {key, value}, "
          "got object");

    r = parse_otlp_json(read_otlp("negative_time.json"));
    CHECK(msg(r).rfind(
              "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected unsigned", 0) ==
          0);

    r = parse_otlp_json(read_otlp("truncated.json"));
    CHECK(r.status().code() == StatusCode::invalid_argument);
    CHECK(msg(r).rfind("invalid JSON at byte", 0) == 0);

    r = parse_otlp_json(one_span(R"("attributes":[{"key":"x","value":{"intValue":"12a"}}])"));
    CHECK(msg(r).find("spans[0].attributes[0].value.intValue: expected a 64-bit integer") !=
          std::string::npos);

    r = parse_otlp_json(one_span(R"("endTimeUnixNano":"1")"));
    CHECK(msg(r) ==
          "resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: before startTimeUnixNano");

    r = parse_otlp_json(one_span(R"("kind":9)"));
    CHECK(msg(r).find("spans[0].kind: expected a span kind") != std::string::npos);

    r = parse_otlp_json(
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b174"}]}]}]})");
    CHECK(msg(r) == "resourceSpans[0].scopeSpans[0].spans[0].traceId: missing");

    r = parse_otlp_json(R"({"resourceSpans":{}})");
    CHECK(msg(r) == "resourceSpans: expected an array, got object");
    CHECK(msg(parse_otlp_json("[1]")) ==
          "request: expected an ExportTraceServiceRequest object, got array");
}

TEST_CASE("otlp mapper: hostile input is bounded") {
    // Deep nesting is refused before parsing...
    auto deep = read_otlp("deep_kvlist.json");
    auto r = parse_otlp_json(deep);
    CHECK(r.status().code() == StatusCode::limit_exceeded);
    CHECK(msg(r).find("nests deeper than 64") != std::string::npos);
    // ...and attribute values nest at most max_value_depth even when the caller allows deep JSON.
    OtlpLimits loose;
    loose.max_depth = 1000;
    r = parse_otlp_json(deep, loose);
    CHECK(r.status().code() == StatusCode::limit_exceeded);
    CHECK(msg(r).find("spans[0].attributes[0].value.kvlistValue.values[0].value") !=
          std::string::npos);
    CHECK(msg(r).find("nests deeper than 16 levels") != std::string::npos);

    CHECK(parse_otlp_json(std::string(100000, '['), loose).status().code() ==
          StatusCode::limit_exceeded);

    OtlpLimits small;
    small.max_body_bytes = 10;
    CHECK(parse_otlp_json(read_otlp("genai_chat.json"), small).status().code() ==
          StatusCode::limit_exceeded);
    small = {};
    small.max_attributes = 3;
    r = parse_otlp_json(read_otlp("genai_chat.json"), small);
    CHECK(msg(r).rfind("resourceSpans[0].resource.attributes: 4 attributes; the limit is 3", 0) ==
          0);
    small = {};
    small.max_spans = 2;
    CHECK(parse_otlp_json(read_otlp("openinference_rag.json"), small).status().code() ==
          StatusCode::limit_exceeded);

    // Invalid UTF-8 and binary garbage are answered, never thrown.
    CHECK(parse_otlp_json("{\"resourceSpans\":[\"\xff\xfe\"]}").status().code() ==
          StatusCode::invalid_argument);
    CHECK(parse_otlp_json(std::string("\0\x01\x02garbage", 10)).status().code() ==
          StatusCode::invalid_argument);
    CHECK(parse_otlp_json("").status().code() == StatusCode::invalid_argument);
}

TEST_CASE("otlp mapper: resource attributes are shared, not copied per span") {
    auto r = parse_otlp_json(read_otlp("openinference_rag.json"));
    REQUIRE_MESSAGE(r.ok(), msg(r));
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].resource_attributes.get() == (*r)[2].resource_attributes.get());
    CHECK((*r)[1].parent_span_id == "b7ad6b7169203331");
}

TEST_CASE("otlp mapper: export response bodies") {
    CHECK(otlp_export_response_json(0, "") == "{}");
    auto j = nlohmann::json::parse(otlp_export_response_json(3, "span 2: \xff bad"));
    CHECK(j["partialSuccess"]["rejectedSpans"] == "3");
    CHECK(j["partialSuccess"]["errorMessage"].get<std::string>().rfind("span 2: ", 0) == 0);
}

TEST_CASE("otlp mapper: to_otlp_json writes the text a JSON tree gave (keys sorted, escapes)") {
    // Every AnyValue kind, escapes, non-ASCII text, remote parent flags and an
    // event: to_otlp_json writes without a tree; this is the text the tree-based
    // encoder gave for the same spans (byte for byte).
    const std::string in =
        R"({"resourceSpans":[{"resource":{"attributes":[{"key":"é\"k","value":{"doubleValue":1.5}}]},)"
        R"("scopeSpans":[{"scope":{"name":"s\n"},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",)"
        R"("spanId":"0102030405060708","parentSpanId":"0102030405060709","flags":768,"name":"x\u0001y",)"
        R"("kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":"2000000","status":{"code":2,)"
        R"("message":"bad \\ thing"},"events":[{"name":"e","timeUnixNano":"1500000","attributes":[{"key":"a",)"
        R"("value":{"arrayValue":{"values":[{"intValue":"-5"},{"boolValue":false},{},{"kvlistValue":)"
        R"({"values":[{"key":"z","value":{"stringValue":"日本"}}]}}]}}}]}],"attributes":[{"key":"big",)"
        R"("value":{"intValue":"9223372036854775807"}},{"key":"d","value":{"doubleValue":1e300}}]}]}]}]})";
    const std::string want =
        R"({"resourceSpans":[{"resource":{"attributes":[{"key":"é\"k","value":{"doubleValue":1.5}}]},)"
        R"("scopeSpans":[{"scope":{"name":"s\n"},"spans":[{"attributes":[{"key":"big","value":)"
        R"({"intValue":"9223372036854775807"}},{"key":"d","value":{"doubleValue":1e+300}}],)"
        R"("endTimeUnixNano":"2000000","events":[{"attributes":[{"key":"a","value":{"arrayValue":)"
        R"({"values":[{"intValue":"-5"},{"boolValue":false},{},{"kvlistValue":{"values":[{"key":"z",)"
        R"("value":{"stringValue":"日本"}}]}}]}}}],"name":"e","timeUnixNano":"1000000"}],"flags":768,)"
        R"("kind":2,"name":"x\u0001y","parentSpanId":"0102030405060709","spanId":"0102030405060708",)"
        R"("startTimeUnixNano":"1000000","status":{"code":2,"message":"bad \\ thing"},)"
        R"("traceId":"0102030405060708090a0b0c0d0e0f10"}]}]}]})";
    auto spans = parse_otlp_json(in);
    REQUIRE_MESSAGE(spans.ok(), msg(spans));
    CHECK(to_otlp_json(*spans) == want);
    REQUIRE(spans->size() == 1);
    CHECK(to_otlp_json(spans->front()) == want);  // one span: the intake's row
    auto back = parse_otlp_json(want);
    REQUIRE_MESSAGE(back.ok(), msg(back));
    CHECK(to_otlp_json(*back) == want);
}

TEST_CASE("otlp mapper: pending spans round-trip through to_otlp_json") {
    for (const char* file :
         {"genai_chat.json", "openinference_rag.json", "agent_part1.json", "js_sdk_export.json"}) {
        auto a = parse_otlp_json(read_otlp(file));
        REQUIRE_MESSAGE(a.ok(), msg(a));
        const std::string text = to_otlp_json(*a);
        auto b = parse_otlp_json(text);
        REQUIRE_MESSAGE(b.ok(), msg(b));
        REQUIRE(b->size() == a->size());
        for (size_t i = 0; i < a->size(); ++i) {
            const OtlpSpan& x = (*a)[i];
            const OtlpSpan& y = (*b)[i];
            CHECK(x.trace_id == y.trace_id);
            CHECK(x.span_id == y.span_id);
            CHECK(x.parent_span_id == y.parent_span_id);
            CHECK(x.name == y.name);
            CHECK(x.kind == y.kind);
            CHECK(x.start_unix_nano == y.start_unix_nano);
            CHECK(x.end_unix_nano == y.end_unix_nano);
            CHECK(x.status_code == y.status_code);
            CHECK(x.status_message == y.status_message);
            CHECK(x.attributes == y.attributes);
            CHECK(*x.resource_attributes == *y.resource_attributes);
            CHECK(x.scope_name == y.scope_name);
            CHECK(x.events.size() == y.events.size());
        }
    }
}

TEST_CASE("otlp json: an error deep in a request names its whole path") {
    // A second resource, its second span: the paths count from every level.
    auto second_span = [](const std::string& span_fields, const char* scope_key = "scopeSpans") {
        return std::string(R"({"resourceSpans":[{"resource":{}},{")") + scope_key +
               R"(":[{"spans":[{"traceId":"11111111111111111111111111111111",)"
               R"("spanId":"00000000000000a1","startTimeUnixNano":"1"},)"
               R"({"traceId":"11111111111111111111111111111111","spanId":"00000000000000b2",)"
               R"("startTimeUnixNano":"1000","endTimeUnixNano":"2000",)" +
               span_fields + "}]}]}]}";
    };
    CHECK(msg(parse_otlp_json(second_span(
              R"("attributes":[{"key":"a","value":{"stringValue":"x"}},{"key":"b","value":)"
              R"({"kvlistValue":{"values":[{"key":"c","value":{"arrayValue":{"values":)"
              R"([{"intValue":"1"},{"intValue":"x"}]}}}]}}}])"))) ==
          "resourceSpans[1].scopeSpans[0].spans[1].attributes[1].value.kvlistValue.values[0]."
          "value.arrayValue.values[1].intValue: expected a 64-bit integer (number or decimal "
          "string), got \"x\"");
    CHECK(msg(parse_otlp_json(second_span(
              R"("events":[{"timeUnixNano":"1500"},{"timeUnixNano":"1500","attributes":)"
              R"([{"key":"k","value":{"boolValue":"no"}}]}])"))) ==
          "resourceSpans[1].scopeSpans[0].spans[1].events[1].attributes[0].value.boolValue: "
          "expected a boolean, got string");
    CHECK(msg(parse_otlp_json(
              second_span(R"("status":{"code":"BAD"})", "instrumentationLibrarySpans"))) ==
          "resourceSpans[1].instrumentationLibrarySpans[0].spans[1].status.code: expected 0, 1, "
          "2 or STATUS_CODE_*, got \"BAD\"");
    CHECK(msg(parse_otlp_json(second_span(R"("attributes":[{"value":{"stringValue":"x"}}])"))) ==
          "resourceSpans[1].scopeSpans[0].spans[1].attributes[0].key: missing");
    CHECK(msg(parse_otlp_json(second_span(R"("events":[{"timeUnixNano":"-5"}])"))) ==
          "resourceSpans[1].scopeSpans[0].spans[1].events[0].timeUnixNano: expected unsigned "
          "nanoseconds since the Unix epoch (number or decimal string), got \"-5\"");
}
