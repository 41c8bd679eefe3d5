#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "ingest/otlp/intake.h"
#include "ingest/otlp/otlp_trace.pb.h"
#include "ingest/otlp/protobuf.h"
#include "otlp_sample.h"
#include "sql_value.h"
#include "store/span_store.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::sql_value;
using assay::testing::TempDir;
namespace pb = opentelemetry::proto::collector::trace::v1;

namespace {

std::string sample(const std::string& name) { return assay::testing::otlp_sample(name); }

// OTLP JSON ids are hex; the proto3 JSON mapping (used here to build the
// protobuf form of a fixture) wants base64 of the bytes.
void hex_ids_to_base64(nlohmann::json& v) {
    static const char* k_b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (v.is_object()) {
        for (auto& [k, x] : v.items()) {
            if ((k == "kind" || k == "code") && x.is_string()) {
                // Enum names (SPAN_KIND_*, STATUS_CODE_*) as their numbers.
                static const std::vector<std::string> k_names = {
                    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
                    "STATUS_CODE_UNSET",     "STATUS_CODE_OK",     "STATUS_CODE_ERROR"};
                for (size_t i = 0; i < k_names.size(); ++i) {
                    if (x == k_names[i]) {
                        x = i < 6 ? i : i - 6;
                    }
                }
            } else if ((k == "traceId" || k == "spanId" || k == "parentSpanId") && x.is_string()) {
                std::string hex = x.get<std::string>(), bytes, out;
                for (size_t i = 0; i + 1 < hex.size(); i += 2) {
                    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
                }
                int val = 0, bits = -6;
                for (unsigned char c : bytes) {
                    val = (val << 8) + c;
                    bits += 8;
                    while (bits >= 0) {
                        out += k_b64[(val >> bits) & 63];
                        bits -= 6;
                    }
                }
                if (bits > -6) {
                    out += k_b64[((val << 8) >> (bits + 8)) & 63];
                }
                while (out.size() % 4) {
                    out += '=';
                }
                x = out;
            } else {
                hex_ids_to_base64(x);
            }
        }
    } else if (v.is_array()) {
        for (auto& x : v) {
            hex_ids_to_base64(x);
        }
    }
}

// The protobuf encoding of an OTLP JSON fixture.
std::string to_protobuf(const std::string& otlp_json) {
    nlohmann::json v = nlohmann::json::parse(otlp_json);
    hex_ids_to_base64(v);
    pb::ExportTraceServiceRequest req;
    google::protobuf::util::JsonParseOptions o;
    o.ignore_unknown_fields = true;
    auto st = google::protobuf::util::JsonStringToMessage(v.dump(), &req, o);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    return req.SerializeAsString();
}

pb::ExportTraceServiceRequest one_span() {
    pb::ExportTraceServiceRequest req;
    auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(16, '\x4b'));
    span->set_span_id(std::string(8, '\x01'));
    span->set_name("root");
    span->set_start_time_unix_nano(1700000000000000000ULL);
    span->set_end_time_unix_nano(1700000001000000000ULL);
    auto* kv = span->add_attributes();
    kv->set_key("gen_ai.prompt");
    kv->mutable_value()->set_string_value("hi");
    return req;
}

}  // namespace

TEST_CASE("otlp protobuf: every fixture decodes to the same spans as its JSON encoding") {
    for (const char* name : {"agent_part1.json", "agent_part2.json", "genai_chat.json",
                             "js_sdk_export.json", "openinference_rag.json"}) {
        CAPTURE(name);
        const std::string json = sample(name);
        auto from_json = parse_otlp_json(json);
        REQUIRE(from_json.ok());
        auto from_pb = parse_otlp_protobuf(to_protobuf(json));
        REQUIRE_MESSAGE(from_pb.ok(), from_pb.status().message());
        REQUIRE(from_pb->size() == from_json->size());
        REQUIRE(!from_pb->empty());
        CHECK(to_otlp_json(*from_pb) == to_otlp_json(*from_json));
        CHECK((*from_pb)[0].trace_id.size() == 32);
    }
}

TEST_CASE("otlp protobuf: malformed, truncated and wrong-shaped messages are refused by name") {
    const std::string good = one_span().SerializeAsString();
    REQUIRE(parse_otlp_protobuf(good).ok());
    CHECK(parse_otlp_protobuf("").ok());
    CHECK(parse_otlp_protobuf("")->empty());

    auto garbage = parse_otlp_protobuf(std::string("\xff\xff\xff\xff", 4));
    REQUIRE(!garbage.ok());
    CHECK(garbage.status().code() == StatusCode::invalid_argument);
    CHECK(garbage.status().message().find("not a valid protobuf") != std::string::npos);

    auto cut = parse_otlp_protobuf(good.substr(0, good.size() / 2));
    CHECK(!cut.ok());

    auto json_as_pb = parse_otlp_protobuf(sample("genai_chat.json"));
    CHECK(!json_as_pb.ok());

    pb::ExportTraceServiceRequest short_id = one_span();
    short_id.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id(
        "abc");
    auto bad_id = parse_otlp_protobuf(short_id.SerializeAsString());
    REQUIRE(!bad_id.ok());
    CHECK(bad_id.status().message() ==
          "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 16 bytes, got 3");

    pb::ExportTraceServiceRequest no_start = one_span();
    no_start.mutable_resource_spans(0)
        ->mutable_scope_spans(0)
        ->mutable_spans(0)
        ->set_start_time_unix_nano(0);
    auto missing = parse_otlp_protobuf(no_start.SerializeAsString());
    REQUIRE(!missing.ok());
    CHECK(missing.status().message().find("startTimeUnixNano: missing") != std::string::npos);
}

TEST_CASE("otlp protobuf: unknown fields are skipped; limits apply as for JSON") {
    // Field 99 (varint 7) inside the span, field 3 (schema_url) of ScopeSpans.
    pb::ExportTraceServiceRequest req = one_span();
    auto* span = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
    span->GetReflection()->MutableUnknownFields(span)->AddVarint(99, 7);
    auto scope = req.mutable_resource_spans(0)->mutable_scope_spans(0);
    scope->GetReflection()->MutableUnknownFields(scope)->AddLengthDelimited(3, "https://x");
    auto spans = parse_otlp_protobuf(req.SerializeAsString());
    REQUIRE_MESSAGE(spans.ok(), spans.status().message());
    REQUIRE(spans->size() == 1);
    CHECK((*spans)[0].attributes.at("gen_ai.prompt") == "hi");

    OtlpLimits tight;
    tight.max_attributes = 0;
    auto over = parse_otlp_protobuf(req.SerializeAsString(), tight);
    REQUIRE(!over.ok());
    CHECK(over.status().code() == StatusCode::limit_exceeded);

    // Attribute values nested deeper than max_value_depth.
    pb::ExportTraceServiceRequest deep = one_span();
    pb::AnyValue* v = deep.mutable_resource_spans(0)
                          ->mutable_scope_spans(0)
                          ->mutable_spans(0)
                          ->add_attributes()
                          ->mutable_value();
    for (int i = 0; i < 40; ++i) {
        v = v->mutable_array_value()->add_values();
    }
    v->set_int_value(1);
    CHECK(!parse_otlp_protobuf(deep.SerializeAsString()).ok());
}

TEST_CASE("otlp protobuf: answers are ExportTraceServiceResponse and google.rpc.Status") {
    CHECK(otlp_export_response_protobuf(0, "").empty());
    pb::ExportTraceServiceResponse resp;
    REQUIRE(resp.ParseFromString(otlp_export_response_protobuf(3, "late")));
    CHECK(resp.partial_success().rejected_spans() == 3);
    CHECK(resp.partial_success().error_message() == "late");

    pb::RpcStatus st;
    REQUIRE(st.ParseFromString(otlp_rpc_status_protobuf(14, "busy", 2)));
    CHECK(st.code() == 14);
    CHECK(st.message() == "busy");
    REQUIRE(st.details_size() == 1);
    CHECK(st.details(0).type_url() == "type.googleapis.com/google.rpc.RetryInfo");
    pb::RetryInfo retry;
    REQUIRE(retry.ParseFromString(st.details(0).value()));
    CHECK(retry.retry_delay().seconds() == 2);
}

TEST_CASE("otlp intake: protobuf and gRPC doors share the pipeline; concurrent requests commit") {
    TempDir dir;
    const std::string db = dir.file("o.db");
    StoreOptions so;
    so.sqlite_path = db;
    auto store = SqliteStore::open(so);  // creates the schema (otlp_spans, dead_letters)
    REQUIRE(store.ok());
    auto spans = open_span_store(db, 1000);
    REQUIRE(spans.ok());
    OtlpIntakeOptions o;
    OtlpIntake intake(o, **spans);

    OtlpReply ok = intake.export_request(to_protobuf(sample("genai_chat.json")),
                                         OtlpDoor::http_protobuf, 1000);
    CHECK(ok.status == 200);
    CHECK(std::string(ok.content_type) == "application/x-protobuf");
    CHECK(ok.body.empty());  // nothing rejected: an empty ExportTraceServiceResponse
    CHECK(sql_value(db, "SELECT count(*) FROM otlp_spans") > 0);

    OtlpReply bad = intake.export_request("\xff\xff", OtlpDoor::grpc, 1000);
    CHECK(bad.status == 400);
    CHECK(bad.grpc_code == 3);
    pb::RpcStatus st;
    REQUIRE(st.ParseFromString(bad.body));
    CHECK(st.message().find("invalid ExportTraceServiceRequest") != std::string::npos);
    CHECK(sql_value(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc'") == 1);

    // Eight requests at once, each its own trace: every one answered 200
    // after its spans are in, and their commits shared when they overlap.
    const int n = 8;
    std::vector<std::thread> threads;
    std::vector<int> statuses(n);
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            pb::ExportTraceServiceRequest req = one_span();
            auto* s = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
            s->set_trace_id(std::string(15, '\x11') + static_cast<char>(i + 1));
            statuses[static_cast<size_t>(i)] =
                intake.export_request(req.SerializeAsString(), OtlpDoor::grpc, 2000).status;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int s : statuses) {
        CHECK(s == 200);
    }
    CHECK(sql_value(db,
                    "SELECT count(DISTINCT trace_key) FROM otlp_spans WHERE trace_key LIKE "
                    "'1111%'") == n);
    auto c = intake.counters();
    CHECK(c.requests_grpc == static_cast<uint64_t>(n + 1));
    CHECK(c.requests_protobuf == 1);
    CHECK(c.commits <= static_cast<uint64_t>(n + 1));
}
