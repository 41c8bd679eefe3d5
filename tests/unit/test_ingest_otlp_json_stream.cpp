// The streaming OTLP JSON decoder (ingest/otlp/json_stream_decoder.h): on what
// it accepts it gives the tree decoder's spans; it declines every form it
// does not read, and parse_otlp_json's answer is then the tree decoder's.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "ingest/otlp/json_stream_decoder.h"
#include "ingest/otlp/mapper.h"
#include "otlp_sample.h"

using namespace assay;

namespace {

// Everything a span holds, as text (to_otlp_json has every field but the
// remote-parent flag, which comes first).
std::string described(const std::vector<OtlpSpan>& spans) {
    std::string s;
    for (const OtlpSpan& x : spans) {
        s += x.parent_is_remote ? "remote " : "local ";
    }
    return s + to_otlp_json(spans);
}

// Decodes `body` both ways: the streaming decoder must accept it (when
// `accepted`) and agree with the tree decoder, or decline it.
void both_ways(const std::string& body, bool accepted) {
    std::vector<OtlpSpan> fast;
    const bool took = decode_otlp_json_stream(body, OtlpLimits{}, fast);
    CHECK(took == accepted);
    const auto tree = parse_otlp_json_tree(body);
    const auto full = parse_otlp_json(body);
    REQUIRE(tree.ok() == full.ok());
    if (!tree.ok()) {
        CHECK(full.status().message() == tree.status().message());
        return;
    }
    CHECK(described(*full) == described(*tree));
    if (took) {
        CHECK(described(fast) == described(*tree));
    }
}

std::string one_span(const std::string& members) {
    return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":)"
           R"({"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"lib"},"spans":[)"
           R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
           R"("startTimeUnixNano":"1795341600000000000")" +
           (members.empty() ? "" : "," + members) + "}]}]}]}";
}

}  // namespace

TEST_CASE("otlp json stream: every fixture decodes as the tree decoder decodes it") {
    // The fixtures the streaming decoder declines: errors (the tree decoder
    // names them) and forms it leaves to the tree decoder.
    const std::set<std::string> declined = {"attributes_not_array.json", "bad_trace_id.json",
                                            "deep_kvlist.json", "negative_time.json",
                                            "truncated.json"};
    size_t n = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(std::string(ASSAY_SOURCE_DIR) + "/tests/data/otlp")) {
        const std::string name = e.path().filename().string();
        CAPTURE(name);
        both_ways(testing::otlp_sample(name), declined.count(name) == 0);
        ++n;
    }
    CHECK(n >= 13);
}

TEST_CASE("otlp json stream: attribute values of every type, nested, as the tree decoder") {
    both_ways(one_span(R"("kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_ERROR"})"), true);
    both_ways(
        one_span(R"("name":"n","kind":3,"endTimeUnixNano":1795341600500000000,"flags":768,)"
                 R"("parentSpanId":"0000000000000000","attributes":[)"
                 R"({"key":"s","value":{"stringValue":"text \"quoted\" é"}},)"
                 R"({"key":"b","value":{"boolValue":true}},)"
                 R"({"key":"i","value":{"intValue":"-9223372036854775808"}},)"
                 R"({"key":"j","value":{"intValue":42}},)"
                 R"({"key":"d","value":{"doubleValue":0.25}},)"
                 R"({"key":"e","value":{"doubleValue":3}},)"
                 R"({"key":"y","value":{"bytesValue":"AAEC"}},)"
                 R"({"key":"n","value":{}},{"key":"z"},)"
                 R"({"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},)"
                 R"({"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}},)"
                 R"({"key":"k","value":{"stringValue":"later wins"}}]}},{"arrayValue":{}}]}}},)"
                 R"({"key":"s","value":{"stringValue":"a later duplicate wins"}},)"
                 R"({"key":"unknown","value":{"stringValue":"x","future":{"a":[1,{"b":2}]}}}],)"
                 R"("events":[{"timeUnixNano":"1795341600100000000","name":"exception",)"
                 R"("attributes":[{"key":"exception.type","value":{"stringValue":"E"}}]}],)"
                 R"("status":{"code":2,"message":"failed"},"links":[{"traceId":"x"}],)"
                 R"("droppedAttributesCount":0,"traceState":null)"),
        true);
}

TEST_CASE("otlp json stream: declines the forms it leaves to the tree decoder") {
    // Each is still decoded (or refused) by parse_otlp_json as before.
    for (const std::string& members : {
             std::string(R"("kind":"SPAN_KIND_NOPE")"),     // no such name
             std::string(R"("status":{"code":3})"),         // out of range
             std::string(R"("start_time_unix_nano":"1")"),  // a snake_case alias
             std::string(R"("name":"a","name":"b")"),       // a key twice
             std::string(R"("attributes":[{"key":"d","value":{"doubleValue":"NaN"}}])"),
             std::string(R"("attributes":[{"key":"t","value":{"stringValue":"a","intValue":1}}])"),
             std::string(R"("kind":2.0)"),             // an integral float
             std::string(R"("endTimeUnixNano":"5")"),  // ends before it starts
             std::string(R"("attributes":[{"key":"k","value":"not an AnyValue"}])"),
             std::string(R"("events":{})"),
         }) {
        CAPTURE(members);
        both_ways(one_span(members), false);
    }
    // The old name of scopeSpans, and a request that is not an object.
    both_ways(R"({"resourceSpans":[{"instrumentationLibrarySpans":[{"spans":[]}]}]})", false);
    both_ways("[]", false);
    // Limits: one attribute over, with the tree decoder's message.
    OtlpLimits tight;
    tight.max_attributes = 1;
    const std::string two = one_span(
        R"("attributes":[{"key":"a","value":{"intValue":1}},{"key":"b","value":{"intValue":2}}])");
    std::vector<OtlpSpan> out;
    CHECK_FALSE(decode_otlp_json_stream(two, tight, out));
    CHECK(parse_otlp_json(two, tight).status().message() ==
          parse_otlp_json_tree(two, tight).status().message());
    CHECK(parse_otlp_json(two, tight).status().code() == StatusCode::limit_exceeded);
}

TEST_CASE("otlp json stream: spans share their resource, and take their scope's name") {
    const std::string body =
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
        R"("spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1"}],"scope":{"name":"late"}}],)"
        R"("resource":{"attributes":[{"key":"service.name","value":{"stringValue":"after"}}]}},)"
        R"({"scopeSpans":[{"scope":{"name":7},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
        R"("spanId":"eee19b7ec3c1b175","startTimeUnixNano":"1"},{"traceId":)"
        R"("5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","startTimeUnixNano":"1"}]}]}]})";
    std::vector<OtlpSpan> spans;
    REQUIRE(decode_otlp_json_stream(body, OtlpLimits{}, spans));
    REQUIRE(spans.size() == 3);
    // The resource and the scope's name come after the spans: still theirs.
    CHECK(spans[0].scope_name == "late");
    CHECK(spans[0].resource_attributes->at("service.name") == "after");
    CHECK(spans[1].resource_attributes == spans[2].resource_attributes);
    CHECK(spans[1].resource_attributes->empty());
    CHECK(spans[1].scope_name.empty());  // a name that is not a string: none, as the tree says
    both_ways(body, true);
}
