#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <stdexcept>
#include <type_traits>

#include "config/component_options.h"
#include "config/config.h"
#include "core/scorer.h"
#include "pipeline/pipeline.h"
#include "sql_value.h"
#include "store/sqlite/store.h"
#include "store_backends.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::PostgresBackend;
using assay::testing::sql_value;
using assay::testing::SqliteBackend;
using assay::testing::TempDir;

namespace {

RawRecord rec(const std::string& text, int64_t line) {
    RawRecord r;
    r.text = text;
    r.source = "file:test.jsonl";
    r.line = line;
    r.received_ms = 1000;
    return r;
}

}  // namespace

TEST_CASE_TEMPLATE("pipeline: every trace x scorer gets a decision; bad records are dead-lettered",
                   B, SqliteBackend, PostgresBackend) {
    TempDir dir;
    auto db = B::make();
    auto cfg = load_config_text(R"(
pipeline: {batch_size: 3, threads: 2}
scorers:
  - {name: len, type: test_len, max: 3}
  - {name: prod_only, type: test_len, filter: {environment: prod}}
  - {name: judge, type: test_judge, sample_rate: 1.0}
  - {name: judge_never, type: test_judge, sample_rate: 0.0, always_when: {error: true}}
)",
                                "t.yaml", dir.path(), {}, {});
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
    cfg->store.sqlite_path = db->location();
    auto store = open_store(cfg->store);
    REQUIRE(store.ok());
    REQUIRE((*store)->register_scorers(version_infos(cfg->scorers)).ok());

    std::vector<uint64_t> committed;
    std::vector<std::string> errors;
    Pipeline p(pipeline_setup(*cfg), **store, [&](const Pipeline::CommitReport& r) {
        for (const RecordOrigin& o : r.origins) {
            committed.push_back(o.tag);
        }
        errors.insert(errors.end(), r.errors.begin(), r.errors.end());
    });
    std::vector<std::string> lines = {
        R"({"trace_id":"a","output":"ok","metadata":{"environment":"prod"}})",
        R"({"trace_id":"b","output":"too long"})",
        R"({"trace_id":"c","output":""})",
        R"({"trace_id":"d","output":"boom","error":{"type":"timeout"}})",
        R"({"trace_id":"e","output":"x","metadata":{"kind":"skip"}})",
        R"(not json)",
        R"({"trace_id":"f","output":12})",
    };
    for (size_t i = 0; i < lines.size(); ++i) {
        REQUIRE(p.submit(rec(lines[i], static_cast<int64_t>(i + 1)), RecordOrigin{0, i + 1}).ok());
    }
    REQUIRE(p.finish().ok());

    CHECK(committed == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7});
    REQUIRE(errors.size() == 7);
    CHECK(errors[0].empty());
    CHECK(errors[5].rfind("invalid JSON", 0) == 0);
    CHECK(errors[6] == "field 'output': expected a string or an array of messages, got 12");
    CHECK(db->value("SELECT count(*) FROM traces") == 5);
    CHECK(db->value("SELECT count(*) FROM dead_letters") == 2);
    CHECK(db->value("SELECT line FROM dead_letters WHERE error LIKE 'line 7: field ''output''%'") ==
          7);
    CHECK(db->value("SELECT count(*) FROM scores_view") ==
          5 * 4);  // no trace is silently missing a decision
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE scorer='len' AND decision='scored'") ==
          2);
    CHECK(db->value("SELECT passed FROM scores_view WHERE scorer='len' AND trace_id='b'") == 0);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id='c' AND scorer='len' AND "
                    "decision='skipped_missing_input'") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id='d' AND scorer='len' AND "
                    "decision='failed' AND value IS NULL") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id='e' AND scorer='len' AND "
                    "decision='filtered_out'") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE scorer='prod_only' AND "
                    "decision='filtered_out'") == 4);
    CHECK(db->value(
              "SELECT count(*) FROM scores_view WHERE scorer='judge' AND decision='pending'") == 5);
    CHECK(
        db->value(
            "SELECT count(*) FROM scores_view WHERE scorer='judge_never' AND decision='pending'") ==
        1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE scorer='judge_never' AND "
                    "decision='sampled_out'") == 4);
    CHECK(db->value("SELECT count(*) FROM judge_queue") == 6);
    CHECK(db->value("SELECT sum(seen) FROM sampler_counters WHERE scorer='judge_never'") == 5);
    CHECK(db->value("SELECT sum(forced) FROM sampler_counters WHERE scorer='judge_never'") == 1);
    CHECK(db->value("SELECT sum(in_scope) FROM sampler_counters WHERE scorer='prod_only'") == 1);

    RunSummary s = p.summary();
    CHECK(s.records == 7);
    CHECK(s.accepted == 5);
    CHECK(s.rejected == 2);
    CHECK(s.scorers[0].scored == 2);
    CHECK(s.scorers[0].passed == 1);
    CHECK(s.scorers[0].failed_check == 1);
    CHECK(s.scorers[0].errors == 1);
    CHECK(s.scorers[2].pending == 5);
}

TEST_CASE_TEMPLATE("pipeline: a scorer that throws fails that trace, not the process", B,
                   SqliteBackend, PostgresBackend) {
    TempDir dir;
    auto db = B::make();
    auto cfg = load_config_text("scorers: [{type: test_len}]", "t.yaml", dir.path(), {}, {});
    REQUIRE(cfg.ok());
    cfg->store.sqlite_path = db->location();
    auto store = open_store(cfg->store);
    REQUIRE(store.ok());
    REQUIRE((*store)->register_scorers(version_infos(cfg->scorers)).ok());
    Pipeline p(pipeline_setup(*cfg), **store);
    REQUIRE(p.submit(rec(R"({"trace_id":"t1","output":"throw"})", 1)).ok());
    REQUIRE(p.submit(rec(R"({"trace_id":"t2","output":"fine"})", 2)).ok());
    REQUIRE(p.finish().ok());
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id='t1' AND decision='failed' "
                    "AND reason = 'internal: scorer threw: library blew up'") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id='t2' AND decision='scored'") ==
          1);
}

TEST_CASE("score_guarded: any exception becomes an internal error naming it") {
    struct Thrower final : Scorer {
        bool standard = true;
        Result<Score> score(const Trace&) const override {
            if (standard) {
                throw std::runtime_error("bad input");
            }
            throw 42;
        }
    };
    Thrower t;
    Result<Score> r = score_guarded(t, Trace{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().to_string() == "internal: scorer threw: bad input");
    t.standard = false;
    r = score_guarded(t, Trace{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().to_string() == "internal: scorer threw an unknown exception");
}

TEST_CASE_TEMPLATE("pipeline: scoring the same input twice is idempotent", B, SqliteBackend,
                   PostgresBackend) {
    TempDir dir;
    auto db = B::make();
    auto cfg = load_config_text("pipeline: {batch_size: 2}\nscorers: [{type: test_len}]", "t.yaml",
                                dir.path(), {}, {});
    REQUIRE(cfg.ok());
    cfg->store.sqlite_path = db->location();
    for (int round = 0; round < 2; ++round) {
        auto store = open_store(cfg->store);
        REQUIRE(store.ok());
        REQUIRE((*store)->register_scorers(version_infos(cfg->scorers)).ok());
        Pipeline p(pipeline_setup(*cfg), **store);
        for (int i = 0; i < 5; ++i) {
            REQUIRE(p.submit(rec(R"({"trace_id":"t)" + std::to_string(i) + R"(","output":"hi"})",
                                 i + 1))
                        .ok());
        }
        REQUIRE(p.finish().ok());
    }
    CHECK(db->value("SELECT count(*) FROM traces") == 5);
    CHECK(db->value("SELECT count(*) FROM scores") == 5);
}

TEST_CASE_TEMPLATE("pipeline: a store failure stops acknowledgement and is reported", B,
                   SqliteBackend, PostgresBackend) {
    TempDir dir;
    auto db = B::make();
    auto cfg = load_config_text("pipeline: {batch_size: 1}\nscorers: [{type: test_len}]", "t.yaml",
                                dir.path(), {}, {});
    REQUIRE(cfg.ok());
    cfg->store.sqlite_path = db->location();
    auto store = open_store(cfg->store);
    REQUIRE(store.ok());
    REQUIRE((*store)->register_scorers(version_infos(cfg->scorers)).ok());
    // Another connection makes every write fail: drop the scores table.
    db->value(std::is_same_v<B, PostgresBackend> ? "DROP TABLE scores CASCADE"
                                                 : "DROP TABLE scores");
    std::atomic<int> acks{0};
    Pipeline p(pipeline_setup(*cfg), **store, [&](const Pipeline::CommitReport& r) {
        acks += static_cast<int>(r.origins.size());
    });
    (void)p.submit(rec(R"({"trace_id":"x","output":"hi"})", 1));
    Status st = p.finish();
    CHECK_FALSE(st.ok());
    CHECK(acks.load() == 0);
    CHECK(db->value("SELECT count(*) FROM traces") == 0);
}

TEST_CASE("pipeline: a commit that finds the store busy is retried, not fatal") {
    TempDir dir;
    const std::string db = dir.file("busy.db");
    auto cfg = load_config_text(R"(
pipeline: {batch_size: 2, threads: 1}
store: {busy_timeout_ms: 20}
scorers:
  - {name: len, type: test_len, max: 3}
)",
                                "t.yaml", dir.path(), {}, {});
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
    cfg->store.sqlite_path = db;
    auto store = SqliteStore::open(cfg->store);
    REQUIRE(store.ok());
    REQUIRE((*store)->register_scorers(version_infos(cfg->scorers)).ok());

    // A second connection (another worker) takes the write lock.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

    SUBCASE("the store itself reports the lock as unavailable (retryable)") {
        WriteBatch b;
        Trace t;
        t.trace_id = "x";
        t.raw = R"({"trace_id":"x"})";
        b.traces.push_back(t);
        Status st = (*store)->write(b);
        CHECK(st.code() == StatusCode::unavailable);
        sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    SUBCASE("the pipeline waits it out once the lock is released") {
        std::atomic<int> commits{0};
        Pipeline p(pipeline_setup(*cfg), **store,
                   [&](const Pipeline::CommitReport&) { ++commits; });
        REQUIRE(p.submit(rec(R"({"trace_id":"a","output":"ok"})", 1), RecordOrigin{0, 1}).ok());
        REQUIRE(p.submit(rec(R"({"trace_id":"b","output":"ok"})", 2), RecordOrigin{0, 2}).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        CHECK(commits.load() == 0);  // still held: nothing committed, nothing acknowledged
        sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
        CHECK(p.finish().ok());
        CHECK(commits.load() == 1);
        CHECK(p.metrics().commit_failures == 0);
        CHECK(sql_value(db, "SELECT count(*) FROM traces") == 2);
    }
    sqlite3_close(other);
}
