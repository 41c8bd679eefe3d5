// pending_rows (ingest/otlp/pending_rows.h): the rows an export request's
// spans are stored as while their traces are pending.
#include <doctest/doctest.h>

#include <string>

#include "ingest/otlp/mapper.h"
#include "ingest/otlp/pending_rows.h"

using namespace assay;

namespace {

constexpr char k_t1[] = "11111111111111111111111111111111";
constexpr char k_t2[] = "22222222222222222222222222222222";

std::string span(const char* trace, const char* id, const char* name) {
    return std::string(R"({"traceId":")") + trace + R"(","spanId":")" + id + R"(","name":")" +
           name + R"(","startTimeUnixNano":"1000000","endTimeUnixNano":"2000000"})";
}

std::string resource(const char* service, const std::string& spans) {
    return std::string(
               R"({"resource":{"attributes":[{"key":"service.name","value":{"stringValue":")") +
           service + R"("}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[)" + spans + "]}]}";
}

}  // namespace

TEST_CASE("otlp pending rows: the group key does not depend on order, and differs by set") {
    const std::string ab = pending_group_key({"00000000000000a1", "00000000000000b2"});
    CHECK(ab == pending_group_key({"00000000000000b2", "00000000000000a1"}));
    // Pinned: a retry after an upgrade must find the row it replaces.
    CHECK(ab == "g7ac5b4c45eb6167");
    CHECK(ab.size() == 16);
    CHECK(ab != pending_group_key({"00000000000000a1"}));
    CHECK(ab != pending_group_key({"00000000000000a1", "00000000000000b3"}));
    CHECK(ab != pending_group_key({"00000000000000a1", "00000000000000b2", "00000000000000c3"}));
}

TEST_CASE("otlp pending rows: one row per trace, with its spans from every resource, in order") {
    // t1's spans come under two resources, t2's one span between them.
    const std::string body = std::string(R"({"resourceSpans":[)") +
                             resource("api", span(k_t1, "00000000000000a1", "root") + "," +
                                                 span(k_t2, "00000000000000b1", "other")) +
                             "," + resource("worker", span(k_t1, "00000000000000a2", "child")) +
                             "]}";
    auto spans = parse_otlp_json(body);
    REQUIRE_MESSAGE(spans.ok(), spans.status().message());
    REQUIRE(spans->size() == 3);

    const std::vector<PendingSpanRow> rows = pending_rows(*spans, 4242);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].trace_key == k_t1);
    CHECK(rows[0].span_count == 2);
    CHECK(rows[0].span_id == pending_group_key({"00000000000000a1", "00000000000000a2"}));
    CHECK(rows[0].received_ms == 4242);
    // A row of one span is keyed by its span id, as every row was before.
    CHECK(rows[1].trace_key == k_t2);
    CHECK(rows[1].span_count == 1);
    CHECK(rows[1].span_id == "00000000000000b1");

    // Each row decodes to its trace's spans, each with its own resource.
    auto t1 = parse_otlp_json(rows[0].span_json);
    REQUIRE_MESSAGE(t1.ok(), t1.status().message());
    REQUIRE(t1->size() == 2);
    CHECK((*t1)[0].span_id == "00000000000000a1");
    CHECK((*t1)[0].resource_attributes->at("service.name") == "api");
    CHECK((*t1)[1].span_id == "00000000000000a2");
    CHECK((*t1)[1].resource_attributes->at("service.name") == "worker");
    CHECK((*t1)[1].name == "child");
    auto t2 = parse_otlp_json(rows[1].span_json);
    REQUIRE(t2.ok());
    REQUIRE(t2->size() == 1);
    CHECK((*t2)[0].trace_id == k_t2);

    CHECK(pending_rows({}, 1).empty());
}
