#include <doctest/doctest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "config/component_options.h"
#include "config/config.h"
#include "ingest/otlp/http.h"
#include "ingest/otlp/intake.h"
#include "otlp_intake_rig.h"
#include "otlp_sample.h"
#include "pipeline/pipeline.h"
#include "sql_value.h"
#include "store/span_store.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::GatedSpanStore;
using assay::testing::k_trace;
using assay::testing::opts;
using assay::testing::Rig;
using assay::testing::sample;
using assay::testing::sql_value;
using assay::testing::TempDir;

TEST_CASE(
    "otlp intake: a trace in two requests is scored only after its root ended and idle_ms passed") {
    Rig rig;
    OtlpIntake intake(opts(), *rig.spans);
    rig.intake_ptr = &intake;

    OtlpReply r1 = intake.export_json(sample("agent_part1.json"), 10000);
    CHECK(r1.status == 200);
    CHECK(r1.body == "{}");
    // Stored before the answer, and not scored: the root has not arrived.
    CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") == 3);
    // One row per trace and request (ingest/otlp/pending_rows.h).
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 1);
    REQUIRE(intake.pump(rig.sink(), 20000).ok());
    CHECK(intake.counters().unscored_traces == 0);

    OtlpReply r2 = intake.export_json(sample("agent_part2.json"), 21000);
    CHECK(r2.status == 200);
    CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") == 5);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 2);
    REQUIRE(intake.pump(rig.sink(), 21999).ok());  // idle time not over yet
    CHECK(intake.counters().unscored_traces == 0);
    REQUIRE(intake.pump(rig.sink(), 22000).ok());
    CHECK(intake.counters().unscored_traces == 1);
    CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") ==
          5);  // not committed yet: still pending

    rig.commit(intake);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces WHERE trace_id = '" +
                                std::string(k_trace) + "'") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM scores_view WHERE trace_id = '" +
                                std::string(k_trace) + "'") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    auto c = intake.counters();
    CHECK(c.spans_received == 5);
    CHECK(c.traces_complete == 1);
    CHECK(c.traces_committed == 1);
    CHECK(c.unscored_traces == 0);

    // A span of the scored trace arriving later is refused as late, not kept.
    OtlpReply late = intake.export_json(sample("agent_part2.json"), 23000);
    CHECK(late.status == 200);
    CHECK(late.body.find("\"rejectedSpans\":\"2\"") != std::string::npos);
    CHECK(late.body.find("after their trace was complete") != std::string::npos);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    CHECK(intake.render_metrics().find("assay_otlp_spans_rejected_total{reason=\"late\"} 2") !=
          std::string::npos);
}

TEST_CASE("otlp intake: pending spans survive a restart and are scored once after it") {
    Rig rig;
    {
        OtlpIntake before(opts(), *rig.spans);
        REQUIRE(before.export_json(sample("agent_part1.json"), 10000).status == 200);
        REQUIRE(before.export_json(sample("agent_part2.json"), 10500).status == 200);
        // "Crash": the intake goes away before any pump.
    }
    OtlpIntake after(opts(), *rig.spans);
    rig.intake_ptr = &after;
    auto restored = after.restore();
    REQUIRE(restored.ok());
    CHECK(*restored == 5);
    CHECK(after.counters().pending_traces == 1);
    // Arrival times are kept: idle since 10500, so complete at 11500.
    REQUIRE(after.pump(rig.sink(), 11499).ok());
    CHECK(after.counters().unscored_traces == 0);
    REQUIRE(after.pump(rig.sink(), 11500).ok());
    CHECK(after.counters().unscored_traces == 1);
    rig.commit(after);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
}

TEST_CASE("otlp intake: the commit erases a trace's pending spans; a failed erase is retried") {
    for (const bool fail_once : {false, true}) {
        CAPTURE(fail_once);
        Rig rig;
        GatedSpanStore store(*rig.spans);
        store.release();
        store.erase_failures = fail_once ? 1 : 0;
        OtlpIntake intake(opts(), store);
        rig.intake_ptr = &intake;
        REQUIRE(intake.export_json(sample("agent_part1.json"), 10000).status == 200);
        REQUIRE(intake.export_json(sample("agent_part2.json"), 10500).status == 200);
        REQUIRE(intake.pump(rig.sink(), 11500).ok());
        CHECK(intake.counters().unscored_traces == 1);
        // The commit (the writer thread's committed()) erases the rows,
        // without a further pump() of the producer.
        REQUIRE(rig.pipeline->finish().ok());
        CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 1);
        CHECK(intake.counters().traces_committed == 1);
        CHECK(intake.counters().unscored_traces == 0);
        CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") ==
              (fail_once ? 5 : 0));
        CHECK(intake.counters().store_errors == (fail_once ? 1u : 0u));
        // A failed erase is retried by the producer (pump() or erase_committed()).
        intake.erase_committed();
        CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
        CHECK(intake.counters().store_errors == (fail_once ? 1u : 0u));
    }
}

TEST_CASE("otlp intake: bad payloads get 400 and a dead letter; limits get 413; saturation 503") {
    Rig rig;
    OtlpIntakeOptions o = opts();
    o.limits.max_body_bytes = 4096;
    OtlpIntake intake(o, *rig.spans);
    rig.intake_ptr = &intake;

    OtlpReply bad = intake.export_json(sample("bad_trace_id.json"), 1000);
    CHECK(bad.status == 400);
    CHECK(bad.body.find("\"code\":3") != std::string::npos);
    CHECK(bad.body.find("traceId") != std::string::npos);
    CHECK(sql_value(rig.db,
                    "SELECT count(*) FROM dead_letters WHERE source = 'otlp:http' AND error LIKE "
                    "'otlp: invalid%traceId%'") == 1);

    OtlpReply garbage = intake.export_json(std::string("\x00\xff{", 3), 1000);
    CHECK(garbage.status == 400);

    OtlpReply big = intake.export_json(std::string(5000, ' '), 1000);
    CHECK(big.status == 413);
    CHECK(big.body.find("4096") != std::string::npos);

    OtlpReply unsupported = intake.reject(415, "protobuf is not supported", 77, 1000);
    CHECK(unsupported.status == 415);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM dead_letters WHERE raw_bytes = 77") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    auto c = intake.counters();
    CHECK(c.requests_400 == 2);
    CHECK(c.requests_413 == 1);
    CHECK(c.requests_415 == 1);

    // Saturation: no room for more open traces → 503 with Retry-After.
    OtlpIntakeOptions tight = opts();
    tight.assembler.max_open_traces = 1;
    OtlpIntake small(tight, *rig.spans);
    REQUIRE(small.export_json(sample("genai_chat.json"), 1000).status == 200);
    OtlpReply busy = small.export_json(sample("agent_part1.json"), 1000);
    CHECK(busy.status == 503);
    CHECK(busy.retry_after_s == 1);
    CHECK(busy.body.find("too many open traces") != std::string::npos);
}

TEST_CASE("otlp intake: numbers out of range and protobuf garbage are 400s, never exceptions") {
    Rig rig;
    OtlpIntake intake(opts(), *rig.spans);
    rig.intake_ptr = &intake;
    const std::string digits310 = "1" + std::string(309, '0');
    const std::string span_with = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":")" +
                                  std::string(k_trace) +
                                  R"(","spanId":"00f067aa0ba902b7","startTimeUnixNano":)";
    for (const std::string& number : {std::string("1e309"), digits310, std::string("-1e309")}) {
        CAPTURE(number);
        for (const std::string& body :
             {span_with + number + "}]}]}]}", std::string(R"({"x": )") + number + "}"}) {
            OtlpReply r = intake.export_json(body, 1000);
            CHECK(r.status == 400);
            CHECK(r.body.find("number overflow") != std::string::npos);
        }
    }
    // Protobuf garbage: a length past the end, an invalid wire type, a bare tag.
    for (const std::string& body :
         {std::string("\x0a\x10\x0a\x02", 4), std::string("\x0f\x01", 2),
          std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10), std::string("\x0a", 1)}) {
        OtlpReply r = intake.export_request(body, OtlpDoor::http_protobuf, 1000);
        CHECK(r.status == 400);
        CHECK(r.grpc_code == 3);
        OtlpReply g = intake.export_request(body, OtlpDoor::grpc, 1000);
        CHECK(g.status == 400);
    }
    const auto c = intake.counters();
    CHECK(c.requests_400 == 14);
    CHECK(sql_value(rig.db,
                    "SELECT count(*) FROM dead_letters WHERE error LIKE 'otlp: invalid%'") == 14);
}

TEST_CASE("otlp intake: a trace is not scored while its last spans are still being stored") {
    // The race e2e.otlp_in_progress met under load: the pump took a trace
    // whose request was still storing its spans, the trace was committed and
    // its rows erased, and then the late put left rows behind for good.
    Rig rig;
    REQUIRE(OtlpIntake(opts(), *rig.spans).export_json(sample("agent_part1.json"), 10000).status ==
            200);
    GatedSpanStore gated(*rig.spans);
    OtlpIntake intake(opts(), gated);
    rig.intake_ptr = &intake;
    REQUIRE(*intake.restore() == 3);
    int status = 0;
    std::thread request(
        [&] { status = intake.export_json(sample("agent_part2.json"), 21000).status; });
    gated.wait_entered();
    // Root ended and idle long past, but its spans are not stored yet.
    REQUIRE(intake.pump(rig.sink(), 30000).ok());
    CHECK(intake.counters().unscored_traces == 0);
    gated.release();
    request.join();
    CHECK(status == 200);
    CHECK(sql_value(rig.db, "SELECT coalesce(sum(span_count), 0) FROM otlp_spans") == 5);
    REQUIRE(intake.pump(rig.sink(), 30000).ok());
    CHECK(intake.counters().unscored_traces == 1);
    rig.commit(intake);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
}

TEST_CASE("otlp intake: an expired incomplete trace never overwrites a trace already stored") {
    Rig rig;
    OtlpIntakeOptions o = opts();
    o.assembler.max_trace_age_ms = 5000;
    OtlpIntake intake(o, *rig.spans);
    rig.intake_ptr = &intake;
    // Only the children arrive: no root, the trace expires incomplete.
    REQUIRE(intake.export_json(sample("agent_part1.json"), 1000).status == 200);
    REQUIRE(intake.pump(rig.sink(), 7000).ok());
    CHECK(intake.counters().traces_incomplete == 1);
    rig.commit(intake);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces WHERE error_type = 'incomplete_trace'") ==
          1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);

    // Now the same orphans again (e.g. after a restart forgot the trace): the
    // stored trace is kept, the spans are dropped.
    Rig rig2;
    OtlpIntake second(o, *rig2.spans);
    rig2.intake_ptr = &second;
    auto t = parse_trace(
        std::string(R"({"trace_id":")") + k_trace + R"(","input":"q","output":"complete"})", {}, 5);
    REQUIRE(t.ok());
    WriteBatch b;
    b.traces.push_back(*t);
    REQUIRE(rig2.store->write(b).ok());
    REQUIRE(second.export_json(sample("agent_part1.json"), 1000).status == 200);
    REQUIRE(second.pump(rig2.sink(), 7000).ok());
    CHECK(second.counters().traces_skipped_stored == 1);
    CHECK(second.counters().unscored_traces == 0);
    rig2.commit(second);
    CHECK(sql_value(rig2.db, "SELECT count(*) FROM traces WHERE raw LIKE '%complete\"}'") == 1);
    CHECK(sql_value(rig2.db, "SELECT count(*) FROM otlp_spans") == 0);
}

TEST_CASE(
    "otlp intake: worker.otlp_* config keys map to the intake options, bad values name the key") {
    TempDir dir;
    auto cfg = load_config_text(
        "worker: {otlp_listen: '4318', otlp_idle_ms: 750, otlp_max_wait_ms: 9000, "
        "otlp_max_body_bytes: 2048, otlp_claim_lease_ms: 5000}\n"
        "scorers: [{type: test_len}]\n",
        "t.yaml", dir.path(), {}, {});
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
    CHECK(cfg->worker.otlp_listen == "4318");
    OtlpIntakeOptions o = otlp_intake_options(*cfg);
    CHECK(o.assembler.idle_ms == 750);
    CHECK(o.assembler.max_trace_age_ms == 9000);
    CHECK(o.limits.max_body_bytes == 2048);
    CHECK(o.claim_lease_ms == 5000);
    CHECK(o.max_trace_bytes == cfg->ingest.max_trace_bytes);

    auto bad = load_config_text("worker: {otlp_idle_ms: 0}\nscorers: [{type: test_len}]\n",
                                "t.yaml", dir.path(), {}, {});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("otlp_idle_ms") != std::string::npos);
    auto small =
        load_config_text("worker: {otlp_max_body_bytes: 10}\nscorers: [{type: test_len}]\n",
                         "t.yaml", dir.path(), {}, {});
    REQUIRE_FALSE(small.ok());
    CHECK(small.status().message().find("otlp_max_body_bytes") != std::string::npos);

    auto n = normalize_otlp_listen("4318");
    REQUIRE(n.ok());
    CHECK(*n == "127.0.0.1:4318");
    CHECK(*normalize_otlp_listen("0.0.0.0:4318") == "0.0.0.0:4318");
    CHECK_FALSE(normalize_otlp_listen("localhost").ok());
    CHECK_FALSE(normalize_otlp_listen("host:99999").ok());
}

TEST_CASE("otlp intake: a trace whose spans reached two workers is built once from all of them") {
    // Two intakes (two workers) on one store: the root reaches B, the three
    // children reach A half a second later.
    Rig rig;
    OtlpIntakeOptions o = opts();
    o.assembler.max_trace_age_ms = 5000;
    OtlpIntake a(o, *rig.spans);
    auto b_spans = open_span_store(rig.db, 1000);
    REQUIRE(b_spans.ok());
    OtlpIntake b(o, **b_spans);
    rig.intake_ptr = &b;
    REQUIRE(b.export_json(sample("agent_part2.json"), 1000).status == 200);
    REQUIRE(a.export_json(sample("agent_part1.json"), 1500).status == 200);
    // B's own view is complete (root ended, idle 1000 ms), but a span of the
    // trace reached A 600 ms ago: B waits, holding every stored span.
    auto first = b.pump(rig.sink(), 2100);
    REQUIRE(first.ok());
    CHECK(*first == 0);
    CHECK(b.counters().claims_busy == 1);
    // Idle everywhere: B claims it and builds it from A's spans too.
    auto second = b.pump(rig.sink(), 2600);
    REQUIRE(second.ok());
    CHECK(*second == 1);
    CHECK(b.counters().traces_merged == 0);  // B re-added A's spans while it waited
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_claims") == 1);
    // A, holding only children, expires them, sees B's claim and drops them.
    auto taken = a.pump(rig.sink(), 7000);
    REQUIRE(taken.ok());
    CHECK(*taken == 0);
    CHECK(a.counters().claims_taken == 1);
    rig.commit(b);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM traces") == 1);
    CHECK(sql_value(rig.db,
                    "SELECT count(*) FROM traces WHERE raw LIKE "
                    "'%\"otel.span_count\":5%' AND error_type IS NULL") == 1);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_claims") == 0);
    CHECK(a.counters().traces_incomplete == 0);
}

namespace {

// Worker A stores a whole trace (both parts of the agent sample, 5 spans, at
// 1000 and 1100 ms) and dies before completing it; worker B, which never held
// any span of it, runs with max_trace_age_ms = max_age_ms.
struct DeadWorkerTrace {
    Rig rig;
    OtlpIntakeOptions o = opts();
    std::unique_ptr<SpanStore> b_spans;
    std::unique_ptr<OtlpIntake> b;

    explicit DeadWorkerTrace(int64_t max_age_ms) {
        o.assembler.max_trace_age_ms = max_age_ms;
        {
            OtlpIntake a(o, *rig.spans);
            REQUIRE(a.export_json(sample("agent_part1.json"), 1000).status == 200);
            REQUIRE(a.export_json(sample("agent_part2.json"), 1100).status == 200);
        }
        auto spans = open_span_store(rig.db, 1000);
        REQUIRE(spans.ok());
        b_spans = std::move(*spans);
        b = std::make_unique<OtlpIntake>(o, *b_spans);
        rig.intake_ptr = b.get();
    }
    // B's pump() at now_ms swept `want` traces, `total` since B started.
    void pump(int64_t now_ms, size_t want, uint64_t total) {
        auto n = b->pump(rig.sink(), now_ms);
        REQUIRE(n.ok());
        CHECK(*n == want);
        CHECK(b->counters().traces_swept == total);
    }
    // Once committed, the swept trace is stored whole and its pending spans are gone.
    void check_stored_whole() {
        rig.commit(*b);
        CHECK(sql_value(rig.db,
                        "SELECT count(*) FROM traces WHERE raw LIKE "
                        "'%\"otel.span_count\":5%' AND error_type IS NULL") == 1);
        CHECK(sql_value(rig.db, "SELECT count(*) FROM otlp_spans") == 0);
    }
};

}  // namespace

TEST_CASE("otlp intake: the sweep completes a trace whose spans only a dead worker held") {
    // B's sweep builds the dead worker's trace once it is max_trace_age_ms old.
    DeadWorkerTrace t(5000);
    t.pump(4000, 0, 0);  // not max_trace_age_ms old yet
    t.pump(7000, 1, 1);
    t.check_stored_whole();
}

TEST_CASE("otlp intake: the sweep runs every max(idle, 1 s, max wait / 20)") {
    AssemblerOptions a;
    a.idle_ms = 2000;
    a.max_trace_age_ms = 300000;  // the default: every 15 s
    CHECK(otlp_sweep_interval_ms(a) == 15000);
    a.max_trace_age_ms = 5000;
    CHECK(otlp_sweep_interval_ms(a) == 2000);
    a.idle_ms = 100;
    CHECK(otlp_sweep_interval_ms(a) == 1000);

    // A dead worker's trace, stale from 301,000 on, is found by the first
    // sweep after that: with a 300 s max wait the sweeps are 15 s apart.
    DeadWorkerTrace t(300000);
    t.pump(290000, 0, 0);  // sweeps: nothing 300 s old yet
    t.pump(302000, 0, 0);  // stale, but the next sweep is at 305,000
    t.pump(305000, 1, 1);
    t.check_stored_whole();
}
