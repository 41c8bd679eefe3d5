// The judge stage end to end in-process: real SQLite files, the real judge
// client over HTTP against the fake provider (tests/fake_provider), the real
// pipeline code to enqueue sampled traces.
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "config/config.h"
#include "core/sha256.h"
#include "core/trace_json.h"
#include "fake_provider.h"
#include "judge/judge_metrics.h"
#include "judge/judge_stage.h"
#include "pipeline/evaluate.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::Behaviour;
using assay::testing::FakeProvider;
using assay::testing::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_key_env = "ASSAY_TEST_STAGE_KEY";
constexpr const char* k_key = "sk-stage-SECRET-7d1c44aa90";

struct Sql {
    // With a busy timeout, as another worker's connection has: the stage
    // may be committing when the test writes (take_over failed with
    // SQLITE_BUSY about one run in five).
    explicit Sql(const std::string& path) {
        sqlite3_open(path.c_str(), &db);
        sqlite3_busy_timeout(db, 5000);
    }
    ~Sql() { sqlite3_close(db); }
    std::string text(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sql);
        std::string out = "<none>";
        if (sqlite3_step(st) == SQLITE_ROW) {
            auto* p = sqlite3_column_text(st, 0);
            out = p ? reinterpret_cast<const char*>(p) : "<null>";
        }
        sqlite3_finalize(st);
        return out;
    }
    double num(const std::string& sql) { return std::stod(text(sql)); }
    sqlite3* db = nullptr;
};

// A temp dir, a fake provider, a config with judges pointing at it.
struct Rig {
    TempDir dir;
    FakeProvider fake;
    std::string db;
    Config cfg;
    std::atomic<int64_t> clock{1794873600000};  // 2026-11-17T00:00:00Z

    explicit Rig(const std::string& extra_judge = "", const std::string& scorer = "",
                 const std::string& judge_keys = "", bool redact = false) {
        ::setenv(k_key_env, k_key, 1);
        REQUIRE(fake.start() > 0);
        db = dir.file("assay.db");
        const std::string src = ASSAY_SOURCE_DIR;
        std::string extra = extra_judge;
        for (size_t at = extra.find("BASE"); at != std::string::npos; at = extra.find("BASE")) {
            extra.replace(at, 4, fake.base_url());
        }
        std::string yaml =
            "store: {sqlite: " + db +
            "}\njudges:\n"
            "  - {name: primary, provider: openai, model: gpt-4o-mini, base_url: " +
            fake.base_url() + "/v1, api_key_env: " + k_key_env + ", max_retries: 2, " +
            (redact ? "" : "redact: false, ") +
            "price: {input_per_mtok: 2.5, output_per_mtok: 10}" + judge_keys + "}\n" + extra +
            "scorers:\n" +
            (scorer.empty() ? "  - {name: helpful, type: judge, rubric: " + src +
                                  "/rubrics/helpfulness.yaml, judges: [primary], sample_rate: 1}\n"
                            : scorer);
        auto c = load_config_text(yaml, "test.yaml", dir.path(), {}, {});
        REQUIRE_MESSAGE(c.ok(), c.status().to_string());
        cfg = std::move(c).value();
    }
    ~Rig() { ::unsetenv(k_key_env); }

    // Scores traces through the pipeline's own evaluation (judge tasks queued).
    void enqueue(const std::vector<std::string>& traces) {
        auto store = SqliteStore::open(cfg.store);
        REQUIRE(store.ok());
        REQUIRE((*store)->register_scorers(version_infos(cfg.scorers)).ok());
        WriteBatch batch;
        CounterAccumulator counters;
        RunSummary summary = empty_summary(cfg.scorers);
        for (const auto& text : traces) {
            auto t = parse_trace(std::string_view(text), {}, 1000);
            REQUIRE_MESSAGE(t.ok(), t.status().to_string());
            evaluate_trace(*t, cfg.scorers, 1000, batch, counters, summary);
            batch.traces.push_back(std::move(t).value());
        }
        counters.flush_into(batch.counters);
        REQUIRE((*store)->write(batch).ok());
    }

    std::unique_ptr<JudgeStage> stage(bool no_redactor = false, double max_usd = -1) {
        auto setup = judge_stage_setup(cfg.store, cfg.judges, cfg.scorers);
        REQUIRE_MESSAGE(setup.ok(), setup.status().to_string());
        if (no_redactor) {
            setup->redactor = nullptr;
        }
        setup->options.max_usd = max_usd;
        for (auto& j : setup->judges) {
            j.transport.backoff_base_ms = 5;
            j.transport.backoff_max_ms = 20;
            j.transport.rng_seed = 7;
            j.transport.timeout_ms = 3000;
        }
        setup->options.poll_ms = 20;
        setup->clock_ms = [this] { return clock.load(); };
        auto s = JudgeStage::create(std::move(setup).value());
        REQUIRE_MESSAGE(s.ok(), s.status().to_string());
        return std::move(s).value();
    }

    // Runs a stage until the queue is done.
    JudgeStageMetrics run() {
        auto s = stage();
        s->start();
        REQUIRE(s->wait_idle(20s));
        auto m = s->metrics();
        s->stop();
        return m;
    }
};

std::string trace(const std::string& id,
                  const std::string& output = "Paris is the capital of France.") {
    return R"({"trace_id": ")" + id +
           R"(", "input": "What is the capital of France?", "output": ")" + output + R"("})";
}

// Waits (at most 2 s) until the stage has claimed `n` tasks.
void wait_claimed(Sql& sql, int n) {
    for (int i = 0; i < 200 && sql.text("SELECT count(*) FROM judge_queue WHERE claimed_by IS NOT "
                                        "NULL") != std::to_string(n);
         ++i) {
        std::this_thread::sleep_for(10ms);
    }
}

// Another worker takes over the claims selected by `where` (all when
// empty), as after this one stalled past its lease.
void take_over(Sql& sql, const std::string& where) {
    const std::string update =
        "UPDATE judge_queue SET claimed_by = 'other-host:1:x', claimed_until_ms = 99999999999999" +
        where;
    REQUIRE(sqlite3_exec(sql.db, update.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
}

std::string file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST_CASE("judge stage: a judged score lands with reasoning, tokens, cost, latency and attempts") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(1000, 200));
    rig.enqueue({trace("t1")});
    auto m = rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't1'") == "scored");
    CHECK(sql.num("SELECT value FROM scores_view WHERE trace_id = 't1'") == 4.0);
    CHECK(sql.text("SELECT passed FROM scores_view WHERE trace_id = 't1'") == "1");
    CHECK(sql.text("SELECT explanation FROM scores_view WHERE trace_id = 't1'")
              .find("judge primary: ") == 0);
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "0");
    CHECK(sql.text("SELECT judge || ' ' || model || ' ' || rubric FROM judgements_view") ==
          "primary gpt-4o-mini helpfulness");
    CHECK(sql.text("SELECT length(rubric_hash) FROM judgements") == "64");
    CHECK(sql.text("SELECT reasoning FROM judgements") != "<null>");
    CHECK(sql.text("SELECT input_tokens || '/' || output_tokens FROM judgements") == "1000/200");
    CHECK(sql.num("SELECT cost_usd FROM judgements") ==
          doctest::Approx((1000 * 2.5 + 200 * 10.0) / 1e6));
    CHECK(sql.num("SELECT latency_ms FROM judgements") > 0.0);
    CHECK(sql.text("SELECT attempts || ' ' || cached FROM judgements") == "1 0");
    CHECK(sql.text("SELECT day || ' ' || calls || ' ' || input_tokens FROM judge_spend") ==
          "2026-11-17 1 1000");
    CHECK(m.tasks["scored"] == 1);
    CHECK(rig.fake.counters().requests == 1);
}

TEST_CASE("judge stage: a 429 is retried, then scored") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(5));
    rig.fake.enqueue(Behaviour::error(429));
    rig.enqueue({trace("t1")});
    rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't1'") == "scored");
    CHECK(sql.text("SELECT attempts FROM judgements") == "2");
    CHECK(sql.text("SELECT calls FROM judge_spend") == "2");
}

TEST_CASE("judge stage: 500s end as failed with an error record, never a score") {
    Rig rig;
    rig.fake.set_default(Behaviour::error(500));
    rig.enqueue({trace("t1")});
    auto m = rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't1'") == "failed");
    CHECK(sql.text("SELECT value FROM scores_view WHERE trace_id = 't1'") == "<null>");
    CHECK(sql.text("SELECT reason FROM scores_view WHERE trace_id = 't1'").find("server_error") !=
          std::string::npos);
    CHECK(sql.text("SELECT error_type || ' ' || attempts FROM judgements") == "server_error 3");
    CHECK(sql.text("SELECT score FROM judgements") == "<null>");
    CHECK(sql.text("SELECT error_message FROM judgements").find("HTTP 500") != std::string::npos);
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "0");
    CHECK(m.tasks["failed"] == 1);
}

TEST_CASE("judge stage: a reply that does not parse is asked once more") {
    SUBCASE("then parses") {
        Rig rig;
        rig.fake.set_default(Behaviour::reply_score(2));
        rig.fake.enqueue(Behaviour::reply_text("I think it is fine."));
        rig.enqueue({trace("t1")});
        auto m = rig.run();
        Sql sql(rig.db);
        CHECK(sql.text("SELECT decision FROM scores_view") == "scored");
        CHECK(sql.num("SELECT value FROM scores_view") == 2.0);
        CHECK(sql.text("SELECT passed FROM scores_view") == "0");
        CHECK(sql.text("SELECT attempts FROM judgements") == "2");
        CHECK(rig.fake.counters().requests == 2);
        CHECK(m.judges.at(0).results["parse_retry"] == 1);
    }
    SUBCASE("twice: a judge error, not a score") {
        Rig rig;
        rig.fake.set_default(Behaviour::reply_text("Looks good to me, pass!"));
        rig.enqueue({trace("t1")});
        rig.run();
        Sql sql(rig.db);
        CHECK(sql.text("SELECT decision FROM scores_view") == "failed");
        CHECK(sql.text("SELECT error_type FROM judgements") == "parse_error");
        CHECK(sql.text("SELECT count(*) FROM judge_cache") == "0");
        CHECK(rig.fake.counters().requests == 2);
    }
}

TEST_CASE("judge stage: an out-of-range score is an error") {
    // The parser's path: a server without structured output (issue 15 item 3
    // keeps the parser for them) can answer outside the scale.
    Rig rig("", "", ", structured_output: false");
    rig.fake.set_default(Behaviour::reply_out_of_range());
    rig.enqueue({trace("t1")});
    rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view") == "failed");
    CHECK(sql.text("SELECT error_type FROM judgements") == "parse_error");
    CHECK(sql.text("SELECT error_message FROM judgements").find("outside the scale") !=
          std::string::npos);
    CHECK(rig.fake.counters().requests == 2);
}

TEST_CASE("judge stage: with a strict verdict schema an out-of-range score cannot come back") {
    // The default for provider openai: the schema's minimum/maximum bound the
    // score, so the fake's out-of-range reply is constrained into the scale.
    Rig rig;
    rig.fake.set_default(Behaviour::reply_out_of_range());
    rig.enqueue({trace("t1")});
    rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view") == "scored");
    const double value = sql.num("SELECT value FROM scores_view");
    CHECK(value >= 1);
    CHECK(value <= 5);
    CHECK(rig.fake.counters().requests == 1);
}

TEST_CASE("judge stage: an Anthropic forced tool does not enforce the scale: the parser does") {
    // Anthropic's tool input_schema is not enforced (no strict tool mode
    // used), so an out-of-range score still comes back and is refused.
    const std::string claude =
        std::string("  - {name: claude, provider: anthropic, model: claude-haiku-4-5, ") +
        "base_url: BASE/v1, api_key_env: " + k_key_env + ", max_retries: 2, redact: false}\n";
    const std::string scorer = std::string("  - {name: helpful, type: judge, rubric: ") +
                               ASSAY_SOURCE_DIR +
                               "/rubrics/helpfulness.yaml, judges: [claude], sample_rate: 1}\n";
    Rig rig(claude, scorer);
    rig.fake.set_default(Behaviour::reply_out_of_range());
    rig.enqueue({trace("t1")});
    rig.run();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().anthropic == 2);
    CHECK(rig.fake.requests().back().body.find("\"tool_choice\"") != std::string::npos);
    CHECK(sql.text("SELECT decision FROM scores_view") == "failed");
    CHECK(sql.text("SELECT error_type FROM judgements") == "parse_error");
    CHECK(sql.text("SELECT error_message FROM judgements").find("outside the scale") !=
          std::string::npos);
}

TEST_CASE("judge stage: a missing variable is skipped_missing_input, naming it, with no request") {
    const std::string scorer = std::string("  - {name: grounded, type: judge, rubric: ") +
                               ASSAY_SOURCE_DIR +
                               "/rubrics/faithfulness.yaml, judges: [primary], sample_rate: 1}\n";
    Rig rig("", scorer);
    rig.enqueue({trace("no-context")});
    auto m = rig.run();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view") == "skipped_missing_input");
    CHECK(sql.text("SELECT reason FROM scores_view").find("{{context}}") != std::string::npos);
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "0");
    CHECK(rig.fake.counters().requests == 0);
    CHECK(m.tasks["skipped_missing_input"] == 1);
}

TEST_CASE("judge stage: the daily budget skips visibly until the next UTC day") {
    // Each call costs 1000 in + 200 out tokens = $0.0045; the estimate before
    // a call is ~bytes/4 input + max_tokens (512) output.
    Rig rig("", "", ", daily_budget_usd: 0.008");
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(1000, 200));
    rig.enqueue({trace("t1")});
    rig.run();  // spends $0.0045
    // (Another output: the same prompt would be answered from the cache, free.)
    rig.enqueue({trace("t2", "Paris, of course.")});
    auto m = rig.run();  // 0.0045 + estimate (> $0.005) is over $0.008
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't2'") == "skipped_budget");
    CHECK(sql.text("SELECT reason FROM scores_view WHERE trace_id = 't2'").find("daily budget") !=
          std::string::npos);
    CHECK(m.tasks["skipped_budget"] == 1);
    CHECK(rig.fake.counters().requests == 1);
    // The next UTC day has a fresh budget (re-queued, as a backfill would).
    rig.clock += 86400000;
    rig.enqueue({trace("t2", "Paris, of course.")});
    rig.run();
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't2'") == "scored");
    CHECK(sql.text("SELECT count(*) FROM judge_spend") == "2");
}

TEST_CASE("judge stage: a result whose lease was lost is dropped, counted, and its cost kept") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(1000, 200).with_latency(500));
    rig.enqueue({trace("t1")});
    auto s = rig.stage();
    s->start();
    Sql sql(rig.db);
    wait_claimed(sql, 1);
    // While the call is in flight, another worker takes the task over (as
    // after this one stalled past its lease).
    take_over(sql, "");
    REQUIRE(s->wait_idle(20s));
    auto m = s->metrics();
    s->stop();
    CHECK(m.tasks["lease_lost"] == 1);
    CHECK(m.tasks["scored"] == 0);
    CHECK(rig.fake.counters().requests == 1);
    CHECK(sql.text("SELECT count(*) FROM judgements") == "0");
    CHECK(sql.text("SELECT decision FROM scores_view") == "pending");
    CHECK(sql.text("SELECT claimed_by FROM judge_queue") == "other-host:1:x");
    CHECK(sql.text("SELECT calls FROM judge_spend") == "1");  // the call was billed all the same
}

TEST_CASE(
    "judge stage: outcomes decided together are stored together; a fenced or refused one holds "
    "back no other") {
    Rig rig;
    // Every reply after 300 ms: the four calls finish close together and
    // their outcomes are written by one poll.
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(1000, 200).with_latency(300));
    // Distinct answers: five requests, none shared.
    std::vector<std::string> traces;
    for (int i = 1; i <= 5; ++i) {
        traces.push_back(
            trace("t" + std::to_string(i), "Paris, answer " + std::to_string(i) + "."));
    }
    rig.enqueue(traces);
    Sql sql(rig.db);
    // The store refuses t3's judgement (not an outage): the batch it is in
    // fails, and its outcomes are written again one at a time.
    REQUIRE(sqlite3_exec(sql.db,
                         "CREATE TRIGGER refuse_t3 BEFORE INSERT ON judgements WHEN NEW.trace = "
                         "(SELECT id FROM traces WHERE trace_id = 't3') BEGIN SELECT "
                         "RAISE(ABORT, 'refused by the test'); END",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    auto s = rig.stage();
    s->start();
    wait_claimed(sql, 5);
    // While the calls are in flight, another worker takes t2 over.
    take_over(sql, " WHERE trace = (SELECT id FROM traces WHERE trace_id = 't2')");
    REQUIRE(s->wait_idle(20s));
    auto m = s->metrics();
    s->stop();
    CHECK(rig.fake.counters().requests == 5);
    CHECK(m.tasks["scored"] == 3);
    CHECK(m.tasks["lease_lost"] == 1);
    CHECK(sql.text("SELECT group_concat(trace_id) FROM (SELECT t.trace_id FROM judgements j JOIN "
                   "traces t ON t.id = j.trace ORDER BY t.trace_id)") == "t1,t4,t5");
    CHECK(sql.text("SELECT count(*) FROM scores_view WHERE decision = 'scored'") == "3");
    CHECK(sql.text("SELECT claimed_by FROM judge_queue_view WHERE trace_id = 't2'") ==
          "other-host:1:x");
    // t3 is left in the queue for a later run (this stage does not take it
    // again), with no judgement and no score.
    CHECK(sql.text("SELECT decision FROM scores_view WHERE trace_id = 't3'") == "pending");
}

TEST_CASE("judge stage: a cost cap sends no call past it and leaves the rest pending") {
    // Each call is estimated at max_tokens (512) x $10/M = $0.00512 plus the
    // prompt (~3 KB / 4 tokens x $2.5/M, about $0.002): $0.0175 pays for two
    // calls, not three.
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(1000, 200));
    rig.enqueue({trace("k1", "Paris."), trace("k2", "It is Paris."), trace("k3", "Paris, France."),
                 trace("k4", "The capital is Paris.")});
    auto s = rig.stage(false, 0.0175);
    s->start();
    REQUIRE(s->wait_idle(20s));
    auto m = s->metrics();
    s->stop();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().requests == 2);
    CHECK(m.cost_cap_reached);
    CHECK(m.tasks["scored"] == 2);
    CHECK(m.tasks["left_pending"] == 2);
    CHECK(sql.text("SELECT count(*) FROM judge_queue WHERE claimed_by IS NULL") == "2");
    CHECK(
        sql.text(
            "SELECT group_concat(trace_id) FROM (SELECT trace_id FROM scores_view WHERE decision = "
            "'scored' ORDER BY trace_id)") == "k1,k2");
    // Without a cap the rest is judged.
    auto rest = rig.run();
    CHECK_FALSE(rest.cost_cap_reached);
    CHECK(rest.tasks["scored"] == 2);
    CHECK(rig.fake.counters().requests == 4);
}

TEST_CASE("judge stage: an identical request is answered from the cache") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(3).with_usage(50, 10));
    rig.enqueue({trace("t1")});
    rig.run();
    rig.enqueue({trace("t1")});  // re-scoring queues it again
    auto m = rig.run();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().requests == 1);
    CHECK(sql.text("SELECT decision FROM scores_view") == "scored");
    CHECK(sql.num("SELECT value FROM scores_view") == 3.0);
    CHECK(
        sql.text(
            "SELECT group_concat(cached, ',') FROM (SELECT cached FROM judgements ORDER BY id)") ==
        "0,1");
    CHECK(sql.num("SELECT cost_usd FROM judgements WHERE cached = 1") == 0.0);
    CHECK(sql.text("SELECT calls || ' ' || cache_hits FROM judge_spend") == "1 1");
    CHECK(m.judges.at(0).results["cached"] == 1);
}

TEST_CASE(
    "judge stage: identical requests in one batch are paid once (in flight, not yet cached)") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(4).with_usage(50, 10).with_latency(100));
    std::vector<std::string> traces;
    for (int i = 0; i < 40; ++i) {
        // 20 distinct requests, each twice: the trace id is not in the prompt.
        traces.push_back(trace("dup-" + std::to_string(i), "Answer " + std::to_string(i % 20)));
    }
    rig.enqueue(traces);
    auto m = rig.run();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().requests == 20);
    CHECK(sql.num("SELECT count(*) FROM scores_view WHERE decision = 'scored' AND value = 4") ==
          40);
    CHECK(sql.num("SELECT count(*) FROM judgements WHERE cached = 1 AND cost_usd = 0") == 20);
    CHECK(sql.text("SELECT calls || ' ' || cache_hits FROM judge_spend") == "20 20");
    CHECK(m.judges.at(0).results["cached"] == 20);
}

TEST_CASE("judge stage: when a shared request fails, a waiting identical one asks for itself") {
    Rig rig;
    rig.fake.set_default(Behaviour::reply_score(2).with_usage(50, 10));
    rig.fake.enqueue(Behaviour::error(400).with_latency(100));
    rig.enqueue({trace("same-1"), trace("same-2")});
    rig.run();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().requests == 2);
    CHECK(sql.num("SELECT count(*) FROM scores_view WHERE decision = 'scored'") == 1);
    CHECK(sql.num("SELECT count(*) FROM scores_view WHERE decision = 'failed'") == 1);
}

TEST_CASE("judge stage: an ensemble of two judges aggregates and records the disagreement") {
    const std::string claude =
        std::string("  - {name: claude, provider: anthropic, model: claude-3-5-haiku-latest, ") +
        "base_url: BASE/v1, api_key_env: " + k_key_env + ", redact: false}\n";
    const std::string scorer =
        std::string("  - {name: helpful, type: judge, rubric: ") + ASSAY_SOURCE_DIR +
        "/rubrics/helpfulness.yaml, judges: [primary, claude], aggregate: mean, "
        "sample_rate: 1}\n";
    Rig rig(claude, scorer);
    rig.fake.set_default(Behaviour::reply_score(4));
    rig.fake.enqueue(Behaviour::reply_score(2));  // whichever judge asks first gets 2
    rig.enqueue({trace("t1")});
    rig.run();
    Sql sql(rig.db);
    CHECK(rig.fake.counters().openai == 1);
    CHECK(rig.fake.counters().anthropic == 1);
    CHECK(sql.text("SELECT decision FROM scores_view") == "scored");
    CHECK(sql.num("SELECT value FROM scores_view") == 3.0);
    CHECK(sql.text("SELECT passed FROM scores_view") == "0");
    const std::string why = sql.text("SELECT explanation FROM scores_view");
    CHECK(why.find("mean of 2 judges") != std::string::npos);
    CHECK(why.find("disagreement (max-min) 2") != std::string::npos);
    CHECK(
        sql.text(
            "SELECT group_concat(judge, ',') FROM (SELECT judge FROM judgements ORDER BY judge)") ==
        "claude,primary");
    CHECK(sql.num("SELECT sum(score) FROM judgements") == 6.0);
}

TEST_CASE(
    "judge stage: a 401 pauses the judge; its tasks stay pending; the key is never stored or "
    "logged") {
    std::ostringstream logs;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
    auto previous = spdlog::get("judge");
    spdlog::drop("judge");
    auto logger = std::make_shared<spdlog::logger>("judge", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::register_logger(logger);

    Rig rig;
    rig.fake.set_default(Behaviour::error(401));
    rig.enqueue({trace("t1"), trace("t2")});
    auto s = rig.stage();
    s->start();
    REQUIRE(s->wait_idle(20s));  // idle: what is left belongs to a paused judge
    auto m = s->metrics();
    CHECK(m.judges.at(0).state == "paused");
    CHECK(render_judge_metrics(m).find("assay_judge_paused{judge=\"primary\"} 1") !=
          std::string::npos);
    const auto requests = rig.fake.counters().requests;
    std::this_thread::sleep_for(100ms);
    CHECK(rig.fake.counters().requests == requests);  // nothing more is spent
    CHECK(requests <= 2);
    s->stop();
    Sql sql(rig.db);
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "2");
    CHECK(sql.text("SELECT count(*) FROM scores_view WHERE decision = 'pending'") == "2");
    // The 401 itself is on record (it is what `assay judges status` shows).
    CHECK(sql.text("SELECT count(*) FROM judgements WHERE error_type = 'auth'") ==
          std::to_string(requests));
    CHECK(sql.text("SELECT count(*) FROM judgements WHERE error_type IS NULL") == "0");
    CHECK(logs.str().find("paused") != std::string::npos);

    // With the key fixed (a restart), the same tasks are judged.
    rig.fake.set_default(Behaviour::reply_score(5));
    rig.run();
    CHECK(sql.text("SELECT count(*) FROM scores_view WHERE decision = 'scored'") == "2");
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "0");

    logger->flush();
    CHECK(logs.str().find(k_key) == std::string::npos);
    CHECK(file_bytes(rig.db).find(k_key) == std::string::npos);
    CHECK(file_bytes(rig.db + "-wal").find(k_key) == std::string::npos);
    for (const auto& r : rig.fake.requests()) {
        CHECK(r.body.find(k_key) == std::string::npos);
    }
    spdlog::drop("judge");
    if (previous) {
        spdlog::register_logger(previous);
    }
}

TEST_CASE("judge stage: stop leaves tasks in flight pending") {
    Rig rig;
    rig.fake.set_default(Behaviour::hang_forever());
    rig.enqueue({trace("t1")});
    auto s = rig.stage();
    s->start();
    for (int i = 0; i < 200 && rig.fake.counters().requests == 0; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    const auto t0 = std::chrono::steady_clock::now();
    s->stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    Sql sql(rig.db);
    CHECK(sql.text("SELECT count(*) FROM judge_queue") == "1");
    CHECK(sql.text("SELECT decision FROM scores_view") == "pending");
    rig.fake.release_hung();
}

TEST_CASE("judge stage: without a redactor a redaction-on judge is disabled and sends nothing") {
    Rig rig("", "", "", true);
    rig.enqueue({trace("t1")});
    auto s = rig.stage(true);
    s->start();
    REQUIRE(s->wait_idle(20s));
    auto m = s->metrics();
    s->stop();
    CHECK(m.judges.at(0).state == "disabled");
    CHECK(m.judges.at(0).pause_reason.find("redaction") != std::string::npos);
    CHECK(rig.fake.counters().requests == 0);
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view") == "pending");
}

TEST_CASE("judge stage: emails, phones and cards are redacted before a judge sees them (default)") {
    Rig rig("", "", "", true);
    rig.fake.set_default(Behaviour::reply_score(4));
    rig.enqueue(
        {R"({"trace_id": "pii", "input": "Mail jane.doe@corp-mail.com or call +1 415 555 0100.",
                     "output": "Charged card 4111 1111 1111 1111 for you, Jane."})"});
    rig.run();
    auto reqs = rig.fake.requests();
    REQUIRE(reqs.size() == 1);
    const std::string& body = reqs[0].body;
    CHECK(body.find("jane.doe@corp-mail.com") == std::string::npos);
    CHECK(body.find("555 0100") == std::string::npos);
    CHECK(body.find("4111 1111 1111 1111") == std::string::npos);
    CHECK(body.find("[EMAIL]") != std::string::npos);
    CHECK(body.find("[PHONE]") != std::string::npos);
    CHECK(body.find("[CARD]") != std::string::npos);
    CHECK(body.find("for you, Jane.") != std::string::npos);
    Sql sql(rig.db);
    CHECK(sql.text("SELECT decision FROM scores_view") == "scored");
}

TEST_CASE("judge stage: the judge_cache key layout is fixed") {
    // A change would orphan every stored cache entry: the tag, then each
    // field as "\n<length>:<bytes>".
    assay::JudgeOptions j;
    j.model = "m";
    j.max_tokens = 5;
    assay::Rubric r;
    r.name = "h";
    r.version = "1";
    r.content_hash = "abc";
    // Without structured output (structured_output: false): the v1 layout, so
    // such configs keep their cached entries.
    j.structured_output = false;
    CHECK(
        assay::judge_cache_key(j, r, "sys", "pp") ==
        assay::sha256_hex(
            "assay-judge-cache-v1\n6:openai\n1:m\n1:0\n1:5\n4:json\n1:h\n1:1\n3:abc\n3:sys\n2:pp"));
    // With it (the default for openai and anthropic without thinking): one more
    // field after the response format, since the request sent is another one.
    j.structured_output = true;
    CHECK(assay::judge_cache_key(j, r, "sys", "pp") ==
          assay::sha256_hex("assay-judge-cache-v1\n6:openai\n1:m\n1:0\n1:5\n4:json\n17:"
                            "structured_output\n1:h\n1:1\n3:abc\n3:sys\n2:pp"));
}
