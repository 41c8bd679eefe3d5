#include <doctest/doctest.h>
#include <sqlite3.h>

#include "core/trace_json.h"
#include "sql_value.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/store.h"
#include "store_backends.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::PostgresBackend;
using assay::testing::sql_value;
using assay::testing::SqliteBackend;
using assay::testing::TempDir;

namespace {

Trace make_trace(const std::string& id, const std::string& feature = "chat") {
    auto t = parse_trace(R"({"trace_id":")" + id +
                             R"(","timestamp":"2026-11-20T10:00:00Z","input":"q","output":"a",
        "metadata":{"feature":")" +
                             feature + R"(","tenant":"acme"}})",
                         {}, 5);
    REQUIRE(t.ok());
    return *t;
}

ScoreRow scored(const std::string& id, const std::string& scorer, double v, bool passed) {
    ScoreRow r;
    r.trace_id = id;
    r.scorer = scorer;
    r.scorer_version = "1.aaaa";
    r.decision = Decision::scored;
    r.score = Score{v, passed, passed ? "ok" : "bad", "because"};
    r.at_ms = 1;
    return r;
}

}  // namespace

TEST_CASE("store: migrates an empty file to the current schema, and reopens") {
    TempDir dir;
    std::string path = dir.file("a.db");
    {
        auto s = SqliteStore::open({path});
        REQUIRE(s.ok());
        CHECK(*(*s)->schema_version() == static_cast<int>(sqlite_migrations().size()));
    }
    auto again = SqliteStore::open({path});
    REQUIRE(again.ok());
    CHECK(sql_value(path,
                    "SELECT count(*) FROM sqlite_master WHERE name IN "
                    "('traces','scores','dead_letters','sampler_counters','judge_queue','scorer_"
                    "versions')") == 6);
    CHECK(sql_value(path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") ==
          1);
    // schema_version: one row per migration, each with the time it was applied.
    const auto n = static_cast<int64_t>(sqlite_migrations().size());
    CHECK(sql_value(path, "SELECT count(*) FROM schema_version") == n);
    CHECK(sql_value(path, "SELECT max(version) FROM schema_version") == n);
    CHECK(sql_value(path, "SELECT count(*) FROM schema_version WHERE applied_ms > 0") == n);
}

TEST_CASE("store: a new file gets 16 KiB pages; an existing file keeps its page size") {
    TempDir dir;
    std::string fresh = dir.file("fresh.db");
    REQUIRE(SqliteStore::open({fresh}).ok());
    CHECK(sql_value(fresh, "PRAGMA page_size") == 16384);
    std::string old = dir.file("old.db");
    sqlite3* db = nullptr;
    sqlite3_open(old.c_str(), &db);
    sqlite3_exec(db, "PRAGMA page_size = 4096; CREATE TABLE t(x); DROP TABLE t;", nullptr, nullptr,
                 nullptr);
    sqlite3_close(db);
    {
        auto s = SqliteStore::open({old});
        REQUIRE(s.ok());
        WriteBatch b;
        b.traces.push_back(make_trace("old-1"));
        REQUIRE((*s)->write(b).ok());
    }
    CHECK(sql_value(old, "PRAGMA page_size") == 4096);
    CHECK(sql_value(old, "SELECT count(*) FROM traces") == 1);
}

TEST_CASE("store: refuses a schema newer than it knows") {
    TempDir dir;
    std::string path = dir.file("new.db");
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto s = SqliteStore::open({path});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message().find("newer than this assay supports") != std::string::npos);
    // Both versions are named: the file's and the newest this binary knows.
    CHECK(s.status().message().find("schema version 999") != std::string::npos);
    CHECK(s.status().message().find("(" + std::to_string(sqlite_migrations().size()) + ")") !=
          std::string::npos);
}

TEST_CASE("store: a file at an older schema version opens, keeps its data and is migrated") {
    // The file as the first release wrote it: migration 1 only, with a trace
    // and a score in it.
    TempDir dir;
    std::string path = dir.file("old.db");
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    std::string first(sqlite_migrations()[0]);
    first +=
        "INSERT INTO traces (trace_id, ts_ms, received_ms, raw) VALUES ('old-1', 5, 6, '{}');"
        "INSERT INTO scorer_versions (scorer, version, type, config_json, first_seen_ms, "
        "last_seen_ms) VALUES ('json', '1', 'format', '{}', 1, 1);"
        "INSERT INTO scores (trace, scorer_version, decision, value, passed, at_ms) "
        "VALUES (1, 1, 0, 0.25, 0, 7);"
        "PRAGMA user_version = 1;";
    REQUIRE(sqlite3_exec(db, first.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto s = SqliteStore::open({path});
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(*(*s)->schema_version() == static_cast<int>(sqlite_migrations().size()));
    auto t = (*s)->trace("old-1");
    REQUIRE(t.ok());
    REQUIRE(t->rows.size() == 1);
    CHECK(t->rows[0].score->value == 0.25);
    // Tables and columns of later migrations are there and usable.
    CHECK(sql_value(path, "SELECT count(*) FROM labels") == 0);
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue WHERE claimed_by IS NULL") == 0);
    REQUIRE((*s)->register_scorers({{"json", "1", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("new-1")};
    b.scores = {scored("new-1", "json", 1, true)};
    b.scores[0].scorer_version = "1";
    CHECK((*s)->write(b).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 2);
    // Version 1 predates the table (no time); the rest were applied now.
    CHECK(sql_value(path, "SELECT count(*) FROM schema_version WHERE applied_ms IS NULL") == 1);
    CHECK(sql_value(path, "SELECT count(*) FROM schema_version WHERE applied_ms > 0") ==
          static_cast<int64_t>(sqlite_migrations().size()) - 1);
}

TEST_CASE_TEMPLATE("store: writing the same batch twice is idempotent", B, SqliteBackend,
                   PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"},
                                    {"json", "2.bbbb", "format", "{}"},
                                    {"helpful", "1.x", "judge", "{}"}})
                .ok());
    WriteBatch b;
    b.traces = {make_trace("t1"), make_trace("t2")};
    b.scores = {scored("t1", "json", 1, true), scored("t2", "json", 0, false)};
    b.judge_tasks = {{"t1", "helpful", "1.x", 3}};
    REQUIRE((*s)->write(b).ok());
    REQUIRE((*s)->write(b).ok());
    auto c = (*s)->counts();
    REQUIRE(c.ok());
    CHECK(c->traces == 2);
    CHECK(c->scores == 2);
    CHECK(c->judge_pending == 1);
    // A new scorer version adds rows; the old version's scores stay.
    WriteBatch v2;
    v2.scores = {scored("t1", "json", 0.5, true)};
    v2.scores[0].scorer_version = "2.bbbb";
    REQUIRE((*s)->write(v2).ok());
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id = 't1'") == 2);
    CHECK(
        db->value(
            "SELECT count(*) FROM judge_queue_view WHERE trace_id = 't1' AND scorer = 'helpful'") ==
        1);
}

TEST_CASE_TEMPLATE("store: an error is never stored as a score", B, SqliteBackend,
                   PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("t1")};
    ScoreRow failed;
    failed.trace_id = "t1";
    failed.scorer = "json";
    failed.scorer_version = "1";
    failed.decision = Decision::failed;
    failed.reason = "internal: boom";
    b.scores = {failed};
    REQUIRE((*s)->write(b).ok());
    auto t = (*s)->trace("t1");
    REQUIRE(t.ok());
    REQUIRE(t->rows.size() == 1);
    CHECK(t->rows[0].decision == Decision::failed);
    CHECK_FALSE(t->rows[0].score.has_value());
    CHECK(t->rows[0].reason == "internal: boom");
    // The schema itself refuses a value on a non-scored row.
    ScoreRow bogus = failed;
    bogus.score = Score{0, false, "", ""};
    WriteBatch bad;
    bad.scores = {bogus};
    CHECK_FALSE((*s)->write(bad).ok());
}

TEST_CASE_TEMPLATE("store: a failed batch stores nothing", B, SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("ok1")};
    b.dead_letters = {{1, "test", 3, "line 3: bad", "{", 1}};
    ScoreRow bogus = scored("ok1", "json", 1, true);
    bogus.decision = Decision::sampled_out;  // with a value: violates the CHECK
    b.scores = {bogus};
    CHECK_FALSE((*s)->write(b).ok());
    CHECK(db->value("SELECT count(*) FROM traces") == 0);
    CHECK(db->value("SELECT count(*) FROM dead_letters") == 0);
    // The store is still usable afterwards.
    b.scores = {scored("ok1", "json", 1, true)};
    CHECK((*s)->write(b).ok());
    CHECK(db->value("SELECT count(*) FROM dead_letters") == 1);
}

TEST_CASE_TEMPLATE("store: bottom orders failures first, then by value, and filters", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("p1"), make_trace("p2"), make_trace("f1"), make_trace("f2", "search")};
    b.scores = {scored("p1", "json", 0.2, true), scored("p2", "json", 0.9, true),
                scored("f1", "json", 0.8, false), scored("f2", "json", 0.1, false)};
    REQUIRE((*s)->write(b).ok());
    BottomQuery q;
    q.scorer = "json";
    auto rows = (*s)->bottom(q);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 4);
    CHECK((*rows)[0].trace_id == "f2");
    CHECK((*rows)[1].trace_id == "f1");
    CHECK((*rows)[2].trace_id == "p1");
    CHECK((*rows)[3].trace_id == "p2");
    q.feature = "chat";
    q.limit = 2;
    rows = (*s)->bottom(q);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 2);
    CHECK((*rows)[0].trace_id == "f1");
    q.scorer = "nope";
    CHECK((*s)->bottom(q).status().code() == StatusCode::not_found);
}

TEST_CASE_TEMPLATE("store: rows for unregistered versions or unknown traces fail the batch", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    WriteBatch b;
    b.traces = {make_trace("t1")};
    b.scores = {scored("t1", "json", 1, true)};
    auto st = (*s)->write(b);
    CHECK(st.message() == "scorer 'json' version '1.aaaa' was not registered with this store");
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch later;  // a score for a trace stored in an earlier batch is fine
    REQUIRE((*s)->write(b).ok());
    later.scores = {scored("t1", "json", 0, false)};
    CHECK((*s)->write(later).ok());
    later.scores = {scored("ghost", "json", 0, false)};
    CHECK((*s)->write(later).message() == "no trace 'ghost' in the store");
}

TEST_CASE_TEMPLATE("store: sampler counters add up across batches", B, SqliteBackend,
                   PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    WriteBatch b;
    b.counters = {{"helpful", "2026-11-20", 10, 8, 1, 1}};
    REQUIRE((*s)->write(b).ok());
    REQUIRE((*s)->write(b).ok());
    auto c = (*s)->sampler_counters();
    REQUIRE(c.ok());
    REQUIRE(c->size() == 1);
    CHECK((*c)[0].seen == 20);
    CHECK((*c)[0].in_scope == 16);
    CHECK((*c)[0].sampled == 2);
    CHECK((*c)[0].forced == 2);
}
