#include <doctest/doctest.h>

#include "ingest/zmq_protocol.h"

using namespace assay;

TEST_CASE("zmq protocol: payloads split into trace texts without re-serialising") {
    auto v = split_payload(R"({"trace_id":"a"})");
    REQUIRE(v.size() == 1);
    CHECK(v[0] == R"({"trace_id":"a"})");

    v = split_payload(
        R"( [ {"trace_id":"a","output":"x, [y]"} , {"trace_id":"b","o":{"k":[1,2]}} ] )");
    REQUIRE(v.size() == 2);
    CHECK(v[0] == R"({"trace_id":"a","output":"x, [y]"})");
    CHECK(v[1] == R"({"trace_id":"b","o":{"k":[1,2]}})");

    CHECK(split_payload("[]").empty());
    v = split_payload(R"([{"a":"\"]"}])");  // an escaped quote then a bracket inside a string
    REQUIRE(v.size() == 1);
    CHECK(v[0] == R"({"a":"\"]"})");
    // Not a well-formed array: returned whole, to fail parsing with a precise message.
    for (const char* bad : {"[1,", "[1,]", "[,1]", "[1] trailing", "[1}", "\xff\xfe"}) {
        CAPTURE(bad);
        v = split_payload(bad);
        REQUIRE(v.size() == 1);
        CHECK(v[0] == bad);
    }
}

TEST_CASE("zmq protocol: acks round-trip") {
    Ack a;
    a.id = "msg-7";
    a.accepted = 3;
    a.rejected = {{1, "line 2: invalid JSON"}, {4, "field 'trace_id' is required"}};
    auto b = decode_ack(encode_ack(a));
    REQUIRE(b.ok());
    CHECK(b->id == "msg-7");
    CHECK(b->accepted == 3);
    REQUIRE(b->rejected.size() == 2);
    CHECK(b->rejected[1].index == 4);
    CHECK(b->rejected[1].error == "field 'trace_id' is required");
    CHECK_FALSE(decode_ack("{}").ok());
    CHECK_FALSE(decode_ack("garbage").ok());
}

TEST_CASE("zmq protocol: splitting stops one item past the limit") {
    std::string many = "[";
    for (int i = 0; i < 1000; ++i) {
        many += i ? ",1" : "1";
    }
    many += "]";
    CHECK(split_payload(many).size() == 1000);
    CHECK(split_payload(many, 1000).size() == 1000);
    CHECK(split_payload(many, 10).size() == 11);  // more than the limit: the caller refuses it
    CHECK(split_payload("{\"trace_id\":\"a\"}", 0).size() == 1);  // one object is one item
}

TEST_CASE("zmq protocol: acks list at most 100 rejections and carry a whole-message error") {
    Ack a;
    a.id = "m";
    for (uint32_t i = 0; i < 250; ++i) {
        a.rejected.push_back({i, "bad"});
    }
    auto b = decode_ack(encode_ack(a));
    REQUIRE(b.ok());
    CHECK(b->rejected.size() == k_max_listed_rejections);
    CHECK(b->rejected_total == 250);
    CHECK(b->rejected_count(250) == 250);
    CHECK(b->error.empty());

    Ack whole;
    whole.id = "w";
    whole.error = "too many traces";
    auto c = decode_ack(encode_ack(whole));
    REQUIRE(c.ok());
    CHECK(c->error == "too many traces");
    CHECK(c->accepted == 0);
    CHECK(c->rejected_count(7) == 7);
    CHECK_FALSE(decode_ack(R"({"id":"x","accepted":0,"rejected":[],"error":5})").ok());
}

TEST_CASE("zmq protocol: an ack whose rejection has a non-string error is refused, not thrown") {
    // Regression (seen writing tests/fuzz/zmq_split.cpp, whose invariant
    // "decode_ack never throws" then failed on it): nlohmann's value("error", "") threw a
    // type_error out of decode_ack, which ended `assay push`.
    const auto r = decode_ack(R"({"id":"x","accepted":0,"rejected":[{"index":0,"error":1}]})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "not an ack: bad 'rejected' entry");
    CHECK(decode_ack(R"({"id":"x","accepted":0,"rejected":[{"index":0}]})").ok());
}
