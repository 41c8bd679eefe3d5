#include <doctest/doctest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <type_traits>

#include "core/trace_json.h"
#include "sql_value.h"
#include "store/span_store.h"
#include "store/sqlite/conn.h"
#include "store/sqlite/monitor_stores.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/store.h"
#include "store/sqlite/wal_checkpointer.h"
#include "store_backends.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::PostgresBackend;
using assay::testing::sql_value;
using assay::testing::SqliteBackend;
using assay::testing::TempDir;

namespace {

// A file as an older release left it: the first `migrations` of the schema,
// then `sql`, with user_version set to `migrations`; opened by the current
// code (so migrated). Fails the test when any of it does.
std::unique_ptr<SqliteStore> open_old_file(const std::string& path, size_t migrations,
                                           const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    std::string all;
    for (size_t i = 0; i < migrations; ++i) {
        all += std::string(sqlite_migrations()[i]);
    }
    all += sql + "; PRAGMA user_version = " + std::to_string(migrations) + ";";
    const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
    auto s = SqliteStore::open({path});
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(*(*s)->schema_version() == static_cast<int>(sqlite_migrations().size()));
    return std::move(*s);
}

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

TEST_CASE("store: pending OTLP spans of a file before migration 14 count as one span a row") {
    // A worker of the release before stopped with a span pending: its row
    // holds one span, and reads back as such once the file is migrated.
    TempDir dir;
    std::string path = dir.file("v13.db");
    auto s = open_old_file(path, 13,
                           "INSERT INTO otlp_spans (trace_key, span_id, received_ms, span_json) "
                           "VALUES ('t', 's', 5, '{}')");
    CHECK(sql_value(path, "SELECT span_count FROM otlp_spans WHERE trace_key = 't'") == 1);
    auto spans = open_sqlite_span_store(path, 1000);
    REQUIRE_MESSAGE(spans.ok(), spans.status().message());
    CHECK(*(*spans)->count() == 1);
    auto rows = (*spans)->load();
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0].span_count == 1);
}

TEST_CASE("store: a file at an older schema version opens, keeps its data and is migrated") {
    // The file as the first release wrote it: migration 1 only, with a trace
    // and a score in it.
    TempDir dir;
    std::string path = dir.file("old.db");
    auto s = open_old_file(
        path, 1,
        "INSERT INTO traces (trace_id, ts_ms, received_ms, raw) VALUES ('old-1', 5, 6, '{}');"
        "INSERT INTO scorer_versions (scorer, version, type, config_json, first_seen_ms, "
        "last_seen_ms) VALUES ('json', '1', 'format', '{}', 1, 1);"
        "INSERT INTO scores (trace, scorer_version, decision, value, passed, at_ms) "
        "VALUES (1, 1, 0, 0.25, 0, 7)");
    auto t = s->trace("old-1");
    REQUIRE(t.ok());
    REQUIRE(t->rows.size() == 1);
    CHECK(t->rows[0].score->value == 0.25);
    // Tables and columns of later migrations are there and usable.
    CHECK(sql_value(path, "SELECT count(*) FROM labels") == 0);
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue WHERE claimed_by IS NULL") == 0);
    REQUIRE(s->register_scorers({{"json", "1", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("new-1")};
    b.scores = {scored("new-1", "json", 1, true)};
    b.scores[0].scorer_version = "1";
    // changed_hours was filled from the stored scores (trace at 5 ms: hour 0,
    // newest score row at 7) and replaces the index on scores.at_ms.
    CHECK(sql_value(path, "SELECT count(*) FROM changed_hours") == 1);
    CHECK(sql_value(path, "SELECT changed_ms FROM changed_hours WHERE hour_ms = 0") == 7);
    CHECK(sql_value(path, "SELECT count(*) FROM sqlite_master WHERE name = 'scores_at'") == 0);
    // otlp_spans keeps only its key's index: the arrival-time index is dropped.
    CHECK(sql_value(path,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                    "'otlp_spans' AND name = 'otlp_spans_received'") == 0);
    CHECK(sql_value(path,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                    "'otlp_spans'") == 1);
    CHECK(s->write(b).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 2);
    CHECK(sql_value(path, "SELECT count(*) FROM changed_hours") == 2);
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
    // A re-sent trace with a new score next to a new trace (PostgreSQL: the
    // first upserted, the second copied straight in): both stored.
    WriteBatch again;
    again.traces = {make_trace("t1"), make_trace("t3")};
    again.scores = {scored("t1", "json", 0.25, false), scored("t3", "json", 0.75, true)};
    REQUIRE((*s)->write(again).ok());
    CHECK(db->value("SELECT CAST(value * 100 AS INTEGER) FROM scores_view WHERE trace_id = 't1' "
                    "AND scorer_version = '1.aaaa'") == 25);
    CHECK(db->value("SELECT CAST(value * 100 AS INTEGER) FROM scores_view WHERE trace_id = 't3'") ==
          75);
    CHECK(db->value("SELECT count(*) FROM scores") == 4);
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

// A JSON string may decode to a NUL (\u0000): the batch is stored whole on
// both backends (PostgreSQL text holds no NUL: it is stored as U+FFFD there),
// never cut at the NUL and never failing the other traces of the batch.
TEST_CASE_TEMPLATE("store: a NUL in a trace's text never fails its batch nor cuts the text", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace("t1", "fe\\u0000ature"), make_trace("t2")};
    b.scores = {scored("t1", "json", 0, false), scored("t2", "json", 1, true)};
    b.scores[0].score->explanation = std::string("matched \0 here", 14);
    auto st = (*s)->write(b);
    REQUIRE_MESSAGE(st.ok(), st.message());
    auto c = (*s)->counts();
    REQUIRE(c.ok());
    CHECK(c->traces == 2);
    CHECK(c->scores == 2);
    REQUIRE(b.traces[0].metadata.feature == std::string("fe\0ature", 8));
    auto t = (*s)->trace("t1");
    REQUIRE(t.ok());
    REQUIRE(t->rows.size() == 1);
    REQUIRE(t->rows[0].score.has_value());
    const std::string& why = t->rows[0].score->explanation;
    CHECK(why.rfind("matched ", 0) == 0);
    CHECK(why.size() >= 14);
    CHECK(why.substr(why.size() - 5) == " here");
}

TEST_CASE_TEMPLATE("store: backslashes, tabs and line breaks in text are stored as sent", B,
                   SqliteBackend, PostgresBackend) {
    // PostgreSQL's write path streams rows in COPY's text format, where these
    // characters are escapes; every one must come back unchanged.
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch b;
    b.traces = {make_trace(R"(t\\1)", R"(a\\N\tb\nc\rd)")};  // JSON escapes
    b.scores = {scored("t\\1", "json", 0.5, false)};
    const std::string why = "line one\nline\ttwo \\N \\. \r end";
    b.scores[0].score->explanation = why;
    b.scores[0].score->label = "\\N";
    REQUIRE(b.traces[0].trace_id == "t\\1");
    REQUIRE(b.traces[0].metadata.feature == "a\\N\tb\nc\rd");
    auto st = (*s)->write(b);
    REQUIRE_MESSAGE(st.ok(), st.message());
    auto t = (*s)->trace("t\\1");
    REQUIRE_MESSAGE(t.ok(), t.status().message());
    CHECK(t->raw == b.traces[0].raw);
    REQUIRE(t->rows.size() == 1);
    REQUIRE(t->rows[0].score.has_value());
    CHECK(t->rows[0].score->explanation == why);
    CHECK(t->rows[0].score->label == "\\N");
    CHECK(t->rows[0].score->value == 0.5);
    // a, \, N, tab, b, newline, c, carriage return, d
    CHECK(db->value("SELECT length(feature) FROM traces") == 9);
    CHECK(db->value("SELECT count(*) FROM traces WHERE feature IS NULL") == 0);
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

TEST_CASE("store: the rows of new traces are stored in bulk, all of them, in full") {
    TempDir dir;
    std::string path = dir.file("bulk.db");
    auto s = SqliteStore::open({path});
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers(
                    {{"json", "1.aaaa", "format", "{}"}, {"len", "1.aaaa", "length", "{}"}})
                .ok());
    // 45 traces x 2 rows: two statements of 32 rows and 26 rows one by one.
    WriteBatch b;
    for (int i = 0; i < 45; ++i) {
        const std::string id = "t" + std::to_string(i);
        b.traces.push_back(make_trace(id));
        for (const char* scorer : {"json", "len"}) {
            ScoreRow r = scored(id, scorer, i / 100.0, i % 3 != 0);
            r.batch_index = i;
            if (i == 7 && std::string(scorer) == "len") {
                r.decision = Decision::sampled_out;
                r.score.reset();
                r.reason = "sampled out";
            }
            b.scores.push_back(r);
        }
    }
    REQUIRE((*s)->write(b).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 90);
    CHECK(sql_value(path, "SELECT count(*) FROM scores WHERE decision = 0") == 89);
    CHECK(sql_value(path,
                    "SELECT count(*) FROM scores_view WHERE trace_id = 't44' AND scorer = 'len' "
                    "AND value = 0.44 AND passed = 1 AND label = 'ok' AND explanation = 'because' "
                    "AND reason IS NULL AND at_ms = 1") == 1);
    CHECK(sql_value(path,
                    "SELECT count(*) FROM scores_view WHERE trace_id = 't7' AND scorer = 'len' "
                    "AND decision = 'sampled_out' AND value IS NULL AND passed IS NULL "
                    "AND reason = 'sampled out'") == 1);
    CHECK(sql_value(path,
                    "SELECT count(*) FROM scores_view WHERE trace_id = 't3' AND passed = 0") == 2);
    // A bad row inside a bulk statement fails the whole batch.
    WriteBatch bad;
    for (int i = 0; i < 40; ++i) {
        const std::string id = "u" + std::to_string(i);
        bad.traces.push_back(make_trace(id));
        ScoreRow r = scored(id, "json", 1, true);
        r.batch_index = i;
        if (i == 20) {
            r.decision = Decision::sampled_out;  // with a value: violates the CHECK
        }
        bad.scores.push_back(r);
    }
    auto st = (*s)->write(bad);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("storing score") != std::string::npos);
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 45);
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 90);
}

TEST_CASE("store: traces stored in bulk; a stored or repeated trace_id is updated in place") {
    TempDir dir;
    std::string path = dir.file("bulk_traces.db");
    auto s = SqliteStore::open({path});
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    WriteBatch first;
    first.traces = {make_trace("t5", "old"), make_trace("t30", "old")};
    REQUIRE((*s)->write(first).ok());
    // 40 traces: two statements of 16 (one holding the stored t5 and t5 again
    // at position 12, the other holding the stored t30) and 8 one by one.
    WriteBatch b;
    for (int i = 0; i < 40; ++i) {
        const std::string id = i == 12 ? "t5" : "t" + std::to_string(i);
        b.traces.push_back(make_trace(id, i == 12 ? "repeat" : "new"));
        ScoreRow r = scored(id, "json", i, true);
        r.batch_index = i;
        b.scores.push_back(r);
    }
    REQUIRE((*s)->write(b).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 39);
    CHECK(sql_value(path, "SELECT count(DISTINCT id) FROM traces") == 39);
    CHECK(sql_value(path, "SELECT count(*) FROM traces WHERE feature = 'old'") == 0);
    // The later of the two t5 in the batch wins, with its score.
    CHECK(sql_value(path,
                    "SELECT count(*) FROM traces WHERE trace_id = 't5' AND feature = "
                    "'repeat'") == 1);
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 39);
    CHECK(sql_value(path, "SELECT value FROM scores_view WHERE trace_id = 't5'") == 12);
    CHECK(sql_value(path, "SELECT value FROM scores_view WHERE trace_id = 't30'") == 30);
    CHECK(sql_value(path, "SELECT value FROM scores_view WHERE trace_id = 't39'") == 39);
    // Every score row points at its own trace.
    CHECK(sql_value(path,
                    "SELECT count(*) FROM scores s JOIN traces t ON t.id = s.trace WHERE "
                    "s.value = CAST(substr(t.trace_id, 2) AS INTEGER) OR t.trace_id = 't5'") == 39);
    // Writing the batch again changes nothing.
    REQUIRE((*s)->write(b).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 39);
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 39);
}

// A producer that resends (assay push after a stall) can put the same new
// trace twice into one batch: the first copy is inserted, the second updates
// it, and the rows of both are stored in that order (the later copy wins).
TEST_CASE("store: a trace new in the batch and repeated in it keeps the later copy's scores") {
    TempDir dir;
    std::string path = dir.file("repeat_new.db");
    auto s = SqliteStore::open({path});
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers(
                    {{"json", "1.aaaa", "format", "{}"}, {"len", "1.aaaa", "length", "{}"}})
                .ok());
    // n distinct traces sent twice in a row: n = 3 goes one by one, n = 40
    // through the statements of 16 traces and 32 score rows.
    for (int n : {3, 40}) {
        CAPTURE(n);
        const std::string prefix = "r" + std::to_string(n) + "_";
        WriteBatch b;
        for (int copy = 0; copy < 2; ++copy) {
            for (int i = 0; i < n; ++i) {
                const std::string id = prefix + std::to_string(i);
                b.traces.push_back(make_trace(id, copy ? "second" : "first"));
                for (const char* scorer : {"json", "len"}) {
                    ScoreRow r = scored(id, scorer, copy, true);
                    r.batch_index = static_cast<int32_t>(b.traces.size() - 1);
                    b.scores.push_back(r);
                }
            }
        }
        auto st = (*s)->write(b);
        REQUIRE_MESSAGE(st.ok(), st.message());
        const std::string like = "trace_id LIKE '" + prefix + "%'";
        CHECK(sql_value(path, "SELECT count(*) FROM traces WHERE " + like) == n);
        CHECK(sql_value(path, "SELECT count(*) FROM traces WHERE " + like +
                                  " AND feature = 'second'") == n);
        CHECK(sql_value(path, "SELECT count(*) FROM scores_view WHERE " + like) == 2 * n);
        CHECK(sql_value(path, "SELECT count(*) FROM scores_view WHERE " + like +
                                  " AND value = 1") == 2 * n);
    }
}

// The aggregator finds the hours changed since its watermark in
// changed_hours: every path that writes score rows records the hour of the
// trace (ts_ms floored) with the newest at_ms, and no index on scores.at_ms
// is kept for it (issue 12: one index entry per score row on the writer).
TEST_CASE_TEMPLATE("store: score rows record their trace's hour in changed_hours; no at_ms index",
                   B, SqliteBackend, PostgresBackend) {
    constexpr int64_t k_h = 3600000;
    const int64_t h0 = 1795600800000LL;  // 2026-11-25T09:00:00Z
    constexpr bool k_sqlite = std::is_same_v<B, SqliteBackend>;
    auto db = B::make();
    auto s = open_store(db->options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    CHECK(db->value(k_sqlite ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                               "tbl_name = 'scores' AND sql LIKE '%at_ms%'"
                             : "SELECT count(*) FROM pg_indexes WHERE tablename = 'scores' AND "
                               "indexdef LIKE '%at_ms%'") == 0);
    // 40 traces (the bulk statements and the rows one by one) over two hours,
    // and one before 1970 (floored to the hour before, not towards zero).
    WriteBatch b;
    for (int i = 0; i < 41; ++i) {
        const std::string id = "h" + std::to_string(i);
        Trace t = make_trace(id);
        t.timestamp_ms = i == 40 ? -1 : h0 + (i % 2) * k_h + i * 1000;
        b.traces.push_back(t);
        ScoreRow r = scored(id, "json", 1, true);
        r.batch_index = i;
        r.at_ms = 100 + i;
        b.scores.push_back(r);
    }
    REQUIRE((*s)->write(b).ok());
    CHECK(db->value("SELECT count(*) FROM changed_hours") == 3);
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " + std::to_string(h0)) ==
          138);
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " +
                    std::to_string(h0 + k_h)) == 139);
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = -3600000") == 140);
    // A row of a stored trace (not in the batch) moves its hour on; an older
    // at_ms never moves it back.
    WriteBatch later;
    ScoreRow r = scored("h1", "json", 0, false);
    r.at_ms = 500;
    later.scores = {r};
    r.trace_id = "h0";
    r.at_ms = 50;
    later.scores.push_back(r);
    REQUIRE((*s)->write(later).ok());
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " +
                    std::to_string(h0 + k_h)) == 500);
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " + std::to_string(h0)) ==
          138);
    // A judge's outcome too (of a task this store claimed: outcomes are
    // fenced on the claim).
    WriteBatch task;
    task.judge_tasks = {{"h2", "json", "1.aaaa", 1, -1}};
    REQUIRE((*s)->write(task).ok());
    auto claimed = (*s)->claim_judge_tasks("json", "1.aaaa", 10, {});
    REQUIRE_MESSAGE(claimed.ok(), claimed.status().message());
    REQUIRE(claimed->size() == 1);
    JudgeOutcome o;
    o.trace_id = "h2";
    o.scorer = "json";
    o.scorer_version = "1.aaaa";
    o.score = scored("h2", "json", 0.5, true);
    o.score->at_ms = 900;
    auto wrote = (*s)->write_judge_outcome(o);
    REQUIRE_MESSAGE(wrote.ok(), wrote.status().message());
    REQUIRE_MESSAGE(wrote->stored, wrote->lease_lost);
    CHECK(db->value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " + std::to_string(h0)) ==
          900);
    CHECK(db->value("SELECT count(*) FROM changed_hours") == 3);
}

// The WAL is copied back into the file by a second connection on a thread of
// its own once it passes the threshold, never inside the writer's COMMIT
// (issue 12), and it stays bounded; every trace is there after reopening.
TEST_CASE("store: WAL checkpoints run on a second connection and keep the WAL bounded") {
    TempDir dir;
    std::string path = dir.file("wal.db");
    auto s = SqliteStore::open({path}, 256 << 10);  // 16 pages of 16 KiB
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"json", "1.aaaa", "format", "{}"}}).ok());
    const std::string pad(2000, 'x');
    int64_t wal_max = 0;
    for (int batch = 0; batch < 60; ++batch) {
        WriteBatch b;
        for (int i = 0; i < 20; ++i) {
            const std::string id = "w" + std::to_string(batch) + "_" + std::to_string(i);
            Trace t = make_trace(id);
            t.raw = "{\"pad\":\"" + pad + "\"}";
            b.traces.push_back(t);
            ScoreRow r = scored(id, "json", 1, true);
            r.batch_index = i;
            b.scores.push_back(r);
        }
        REQUIRE((*s)->write(b).ok());
        std::error_code ec;
        wal_max = std::max<int64_t>(
            wal_max, static_cast<int64_t>(std::filesystem::file_size(path + "-wal", ec)));
    }
    // ~2.6 MB written: without checkpoints the WAL would hold all of it.
    for (int i = 0; i < 200 && (*s)->background_checkpoints() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK((*s)->background_checkpoints() > 0);
    CHECK(wal_max < 2 * 1024 * 1024);
    s->reset();
    CHECK(sql_value(path, "SELECT count(*) FROM traces") == 1200);
    CHECK(sql_value(path, "SELECT count(*) FROM scores") == 1200);
}

// Erasure and vacuum empty the WAL with a TRUNCATE checkpoint. SQLite refuses
// it (a row with busy = 1, no error, no busy handler) while another
// connection's checkpoint runs, e.g. a worker's checkpoint thread: the
// truncate tries again until that one ends, and the WAL is empty after it.
TEST_CASE("store: the WAL truncate waits out another connection's checkpoint") {
    TempDir dir;
    const std::string path = dir.file("trunc.db");
    auto m = SqliteConn::open(path);
    REQUIRE(m.ok());
    auto open_raw = [&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0", nullptr, nullptr, nullptr);
        // (a connection that has read nothing has not opened the WAL: its
        // checkpoint would do nothing)
        sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
        return db;
    };
    sqlite3* writer = open_raw();
    REQUIRE(sqlite3_exec(writer,
                         "CREATE TABLE t (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                         "SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT "
                         "hex(randomblob(500)) FROM n",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    // The writer holds the write lock; a FULL checkpoint on a third
    // connection takes the checkpoint lock and then waits for the write lock.
    REQUIRE(sqlite3_exec(writer, "BEGIN IMMEDIATE; INSERT INTO t VALUES ('x')", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3* other = open_raw();
    std::thread full([&] {
        sqlite3_wal_checkpoint_v2(other, nullptr, SQLITE_CHECKPOINT_FULL, nullptr, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::thread commit([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
    });
    CHECK((*m)->truncate_wal().ok());
    commit.join();
    full.join();
    std::error_code ec;
    CHECK(std::filesystem::file_size(path + "-wal", ec) == 0);
    CHECK(!ec);
    sqlite3_close(other);
    sqlite3_close(writer);
    CHECK(sql_value(path, "SELECT count(*) FROM t") == 2001);
}

// Two writers on one file, each with its own checkpointer, as the main store
// and the OTLP span store in one worker: SQLite refuses a checkpoint while
// the other's runs (SQLITE_BUSY), so each writer's bound at 4x the threshold
// waits that one out, and the WAL stays bounded.
TEST_CASE("store: two writers with checkpointers of their own keep one WAL bounded") {
    TempDir dir;
    const std::string path = dir.file("two.db");
    auto open_raw = [&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        return db;
    };
    sqlite3* a = open_raw();
    REQUIRE(sqlite3_exec(a,
                         "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; CREATE TABLE t (w "
                         "INTEGER, x TEXT)",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3* b = open_raw();
    REQUIRE(sqlite3_exec(b, "SELECT count(*) FROM t", nullptr, nullptr, nullptr) == SQLITE_OK);
    {
        auto ca = WalCheckpointer::attach(a, path, 256 << 10, 5000);  // 16 pages of 16 KiB
        auto cb = WalCheckpointer::attach(b, path, 256 << 10, 5000);
        int64_t wal_max = 0;
        for (int batch = 0; batch < 160; ++batch) {
            sqlite3* w = batch % 2 == 0 ? a : b;
            const std::string sql =
                "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                "FROM n WHERE i < 20) INSERT INTO t SELECT " +
                std::to_string(batch % 2) + ", hex(randomblob(1000)) FROM n; COMMIT";
            REQUIRE(sqlite3_exec(w, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
            std::error_code ec;
            wal_max = std::max<int64_t>(
                wal_max, static_cast<int64_t>(std::filesystem::file_size(path + "-wal", ec)));
        }
        // ~6.6 MB written; the bound is 4 x 256 KiB plus the last commits.
        CHECK(wal_max < 2 * 1024 * 1024);
        CHECK(ca->background_checkpoints() + cb->background_checkpoints() > 0);
    }
    sqlite3_close(b);
    sqlite3_close(a);
    CHECK(sql_value(path, "SELECT count(*) FROM t") == 3200);
}
