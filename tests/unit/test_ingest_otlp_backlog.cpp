// The OTLP intake under a backlog: many complete traces at one pump() are
// claimed, mapped (on several threads) and submitted in parts, each once;
// the span store is used in short transactions so requests are not held up.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ingest/otlp/intake.h"
#include "otlp_intake_rig.h"
#include "sql_value.h"
#include "store/span_store.h"

using namespace assay;
using assay::testing::ForwardingSpanStore;
using assay::testing::opts;
using assay::testing::Rig;
using assay::testing::sql_text;
using assay::testing::sql_value;

namespace {

// One OTLP/JSON request holding `n` single-span chat traces, the i-th with
// trace id i + first (hex) and GenAI input/output attributes.
std::string chat_traces(int first, int n) {
    std::string spans;
    for (int i = first; i < first + n; ++i) {
        char id[40];
        std::snprintf(id, sizeof id, "%032x", i + 1);
        const std::string k = std::to_string(i);
        spans +=
            std::string(spans.empty() ? "" : ",") + R"({"traceId":")" + id +
            R"(","spanId":"00f067aa0ba902b7","name":"chat","kind":3,)" +
            R"("startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",)" +
            R"("attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},)" +
            R"({"key":"gen_ai.prompt.0.role","value":{"stringValue":"user"}},)" +
            R"({"key":"gen_ai.prompt.0.content","value":{"stringValue":"question )" + k +
            R"("}},{"key":"gen_ai.completion.0.content","value":{"stringValue":"answer )" + k +
            R"("}}]})";
    }
    return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"spans":[)" +
           spans + "]}]}]}";
}

// Forwards to a span store and records the size of each claim and erase
// call; claim call number `fail_claim_call` (1-based; 0: none) fails.
struct RecordingSpanStore final : ForwardingSpanStore {
    using ForwardingSpanStore::ForwardingSpanStore;
    Status erase(const std::vector<std::string>& keys) override {
        erase_sizes.push_back(keys.size());
        return inner.erase(keys);
    }
    Result<std::vector<SpanClaim>> claim(const std::vector<SpanClaimAsk>& asks,
                                         const std::string& claimant, int64_t now_ms,
                                         int64_t idle_ms, int64_t lease_ms) override {
        claim_sizes.push_back(asks.size());
        if (static_cast<int>(claim_sizes.size()) == fail_claim_call) {
            return Status::io_error("claiming traces: database is locked (test)");
        }
        return inner.claim(asks, claimant, now_ms, idle_ms, lease_ms);
    }

    std::vector<size_t> claim_sizes, erase_sizes;
    int fail_claim_call = 0;
};

size_t max_of(const std::vector<size_t>& v) {
    size_t m = 0;
    for (size_t x : v) {
        m = std::max(m, x);
    }
    return m;
}

// Every stored trace's raw text, in trace id order.
std::string stored_raw(const std::string& db) {
    return sql_text(db,
                    "SELECT group_concat(raw, char(10)) FROM (SELECT raw FROM traces ORDER BY "
                    "trace_id)");
}

}  // namespace

TEST_CASE(
    "otlp intake: a backlog of 700 complete traces is claimed and erased in short "
    "transactions and stored once each, the same on one mapping thread or two") {
    std::string raw_by_threads[2];
    for (const size_t threads : {size_t{1}, size_t{2}}) {
        CAPTURE(threads);
        Rig rig;
        RecordingSpanStore spans(*rig.spans);
        OtlpIntakeOptions o = opts();
        o.map_threads = threads;
        OtlpIntake intake(o, spans);
        rig.intake_ptr = &intake;
        REQUIRE(intake.export_json(chat_traces(0, 400), 10000).status == 200);
        REQUIRE(intake.export_json(chat_traces(400, 300), 10000).status == 200);
        CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") == 700);
        auto n = intake.pump(rig.sink(), 11000);
        REQUIRE(n.ok());
        CHECK(*n == 700);
        rig.commit(intake);
        CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 700);
        CHECK(sql_value(rig.db, "SELECT count(DISTINCT trace_id) FROM traces") == 700);
        CHECK(sql_value(rig.db, "SELECT count(*) FROM scores") == 700);
        CHECK(sql_value(rig.db,
                        "SELECT count(*) FROM traces WHERE raw LIKE '%question %' AND raw LIKE "
                        "'%answer %'") == 700);
        CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
        CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_claims") == 0);
        CHECK(intake.counters().traces_complete == 700);
        CHECK(intake.counters().traces_committed == 700);
        // No transaction of the span store covers the whole backlog: requests
        // store their spans between the parts.
        size_t claimed = 0;
        for (size_t k : spans.claim_sizes) {
            claimed += k;
        }
        CHECK(claimed == 700);
        CHECK(spans.claim_sizes.size() >= 11);
        CHECK(max_of(spans.claim_sizes) <= 64);
        CHECK(spans.erase_sizes.size() >= 6);
        CHECK(max_of(spans.erase_sizes) <= 128);
        raw_by_threads[threads - 1] = stored_raw(rig.db);
    }
    CHECK(raw_by_threads[0].size() > 700 * 100);
    CHECK(raw_by_threads[0] == raw_by_threads[1]);
}

TEST_CASE(
    "otlp intake: a claim transaction that fails in a backlog holds back only its own "
    "traces, which the next pump() claims") {
    Rig rig;
    RecordingSpanStore spans(*rig.spans);
    spans.fail_claim_call = 2;  // the second part of 64
    OtlpIntake intake(opts(), spans);
    rig.intake_ptr = &intake;
    REQUIRE(intake.export_json(chat_traces(0, 200), 10000).status == 200);
    auto first = intake.pump(rig.sink(), 11000);
    REQUIRE(first.ok());
    CHECK(*first == 200 - 64);
    CHECK(intake.counters().store_errors == 1);
    auto second = intake.pump(rig.sink(), 11100);
    REQUIRE(second.ok());
    CHECK(*second == 64);
    rig.commit(intake);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 200);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_claims") == 0);
    CHECK(intake.counters().traces_committed == 200);
}
