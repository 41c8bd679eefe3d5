#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>

#include "core/trace_json.h"
#include "sql_value.h"
#include "store/span_store.h"
#include "store/sqlite/monitor_stores.h"
#include "store/sqlite/store.h"
#include "store_backends.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::sql_value;
using assay::testing::TempDir;

namespace {

std::unique_ptr<SqliteStore> migrated(const std::string& path) {
    StoreOptions o;
    o.sqlite_path = path;
    auto s = SqliteStore::open(o);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    return std::move(*s);
}

// The span store on the (migrated) database at `path`.
std::unique_ptr<SpanStore> span_store_on(const std::string& path) {
    auto s = open_sqlite_span_store(path, 1000);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    return std::move(*s);
}

}  // namespace

TEST_CASE("span store: refuses a file without the otlp_spans table") {
    TempDir dir;
    const std::string db = dir.file("empty.db");
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
    sqlite3_exec(raw, "CREATE TABLE x(a)", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    auto s = open_sqlite_span_store(db, 1000);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::invalid_argument);
    CHECK(s.status().message().find("otlp_spans") != std::string::npos);
    CHECK_FALSE(open_sqlite_span_store(dir.file("missing/nope.db"), 1000).ok());
}

TEST_CASE_TEMPLATE(
    "span store: put upserts by trace and span id, load orders by arrival, erase by trace", B,
    testing::SqliteBackend, testing::PostgresBackend) {
    auto db = B::make();
    auto main_store = open_store(db->options());
    REQUIRE_MESSAGE(main_store.ok(), main_store.status().message());
    auto s = open_span_store(db->location(), 1000);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    SpanStore& spans = **s;

    REQUIRE(
        spans
            .put({{"t1", "s2", 20, "second"}, {"t1", "s1", 10, "first"}, {"t2", "s1", 15, "other"}})
            .ok());
    CHECK(*spans.count() == 3);
    // A retried export replaces the earlier copy of the same span.
    REQUIRE(spans.put({{"t1", "s2", 30, "second, retried"}}).ok());
    CHECK(*spans.count() == 3);
    auto rows = spans.load();
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 3);
    CHECK((*rows)[0].span_json == "first");
    CHECK((*rows)[1].trace_key == "t2");
    CHECK((*rows)[2].span_json == "second, retried");
    CHECK((*rows)[2].received_ms == 30);

    REQUIRE(spans.erase({"t1"}).ok());
    CHECK(*spans.count() == 1);
    CHECK(db->value("SELECT count(*) FROM otlp_spans WHERE trace_key = 't2'") == 1);
    // A span twice in one put: one row, the last copy, where it first came.
    REQUIRE(
        spans.put({{"t3", "a", 50, "one"}, {"t3", "b", 50, "two"}, {"t3", "a", 50, "three"}}).ok());
    auto dup = spans.load();
    REQUIRE(dup.ok());
    REQUIRE(dup->size() == 3);
    CHECK((*dup)[1].span_json == "three");
    CHECK((*dup)[2].span_json == "two");
    REQUIRE(spans.erase({"t3"}).ok());
    REQUIRE(spans.erase({}).ok());
    REQUIRE(spans.erase({"t2", "never-seen"}).ok());
    CHECK(*spans.count() == 0);
}

TEST_CASE("span store: erase deletes every listed trace across statement chunks, no other") {
    // erase() deletes 64 traces per statement: 150 traces (two full chunks and
    // a short one, with a repeated and an unknown key) go; the others stay.
    TempDir dir;
    const std::string db = dir.file("chunks.db");
    auto main_store = migrated(db);
    auto store = span_store_on(db);
    SpanStore& spans = *store;
    std::vector<PendingSpanRow> rows;
    for (int t = 0; t < 200; ++t) {
        for (int k = 0; k < 2; ++k) {
            rows.push_back({"t" + std::to_string(t), "s" + std::to_string(k), t, "{}"});
        }
    }
    REQUIRE(spans.put(rows).ok());
    CHECK(*spans.count() == 400);
    std::vector<std::string> gone;
    for (int t = 0; t < 150; ++t) {
        gone.push_back("t" + std::to_string(t));
    }
    gone.push_back("t3");
    gone.push_back("never-seen");
    REQUIRE(spans.erase(gone).ok());
    CHECK(*spans.count() == 100);
    CHECK(sql_value(db, "SELECT count(*) FROM otlp_spans WHERE received_ms < 150") == 0);
    CHECK(sql_value(db, "SELECT count(DISTINCT trace_key) FROM otlp_spans") == 50);
    // A single key (a chunk of one, the rest of its slots repeating it).
    REQUIRE(spans.erase({"t199"}).ok());
    CHECK(*spans.count() == 98);
    CHECK(sql_value(db, "SELECT count(*) FROM otlp_spans WHERE trace_key = 't198'") == 2);
}

TEST_CASE("span store: put is atomic — a failing batch leaves nothing behind") {
    TempDir dir;
    const std::string db = dir.file("b.db");
    auto main_store = migrated(db);
    auto s = open_sqlite_span_store(db, 1000);
    REQUIRE(s.ok());
    // Make every insert of span 'bad' fail after 'good' was written in the
    // same transaction.
    sqlite3* raw = nullptr;
    sqlite3_open(db.c_str(), &raw);
    REQUIRE(
        sqlite3_exec(raw,
                     "CREATE TRIGGER no_bad BEFORE INSERT ON otlp_spans WHEN NEW.span_id = 'bad' "
                     "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    Status st = (*s)->put({{"t", "good", 1, "{}"}, {"t", "bad", 1, "{}"}});
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("refused") != std::string::npos);
    CHECK(*(*s)->count() == 0);
}

TEST_CASE_TEMPLATE(
    "span store: trace_stored sees the traces table; dead letters land in dead_letters", B,
    testing::SqliteBackend, testing::PostgresBackend) {
    auto db = B::make();
    auto opened = open_store(db->options());
    REQUIRE_MESSAGE(opened.ok(), opened.status().message());
    auto& main_store = *opened;
    auto s = open_span_store(db->location(), 1000);
    REQUIRE(s.ok());
    CHECK_FALSE(*(*s)->trace_stored("tr_1"));
    auto t =
        parse_trace(std::string_view(R"({"trace_id":"tr_1","input":"q","output":"a"})"), {}, 5);
    REQUIRE(t.ok());
    WriteBatch b;
    b.traces.push_back(*t);
    REQUIRE(main_store->write(b).ok());
    CHECK(*(*s)->trace_stored("tr_1"));

    REQUIRE((*s)->dead_letter(42, "otlp:http", "otlp: bad", std::string("x\0y", 3), 1000).ok());
    CHECK(db->value("SELECT count(*) FROM dead_letters WHERE source = 'otlp:http' AND error = "
                    "'otlp: bad' AND raw_bytes = 1000 AND length(raw) = 3") == 1);
}

TEST_CASE(
    "span store: its commits leave the WAL to the background checkpoint, not SQLite's "
    "autocheckpoint") {
    // SQLite's autocheckpoint (1,000 pages: 16 MB with the store's 16 KiB
    // pages) would copy the WAL into the file in every commit of this
    // connection once the WAL is past it (the main store's writer lets it
    // grow to 64 MiB), holding up the requests that wait to store their
    // spans. The WAL is checkpointed off the commits at about 64 MiB instead
    // (wal_checkpointer.h).
    TempDir dir;
    const std::string db = dir.file("wal.db");
    migrated(db).reset();  // closed: its close checkpoints the schema into the file
    auto s = span_store_on(db);
    const auto file_bytes = [&] { return std::filesystem::file_size(db); };
    const uintmax_t before = file_bytes();
    const std::string body(12000, 'x');
    for (int batch = 0; batch < 20; ++batch) {  // ~24 MB: 1,500 pages and more
        std::vector<PendingSpanRow> rows;
        for (int i = 0; i < 100; ++i) {
            rows.push_back({"t" + std::to_string(batch), std::to_string(i), batch, body});
        }
        REQUIRE((*s).put(rows).ok());
    }
    CHECK(std::filesystem::file_size(db + "-wal") > 20'000'000);
    CHECK(file_bytes() < before + 1'000'000);
    CHECK(*s->count() == 2000);
    s.reset();  // the close checkpoints what is left
    CHECK(sql_value(db, "SELECT count(*) FROM otlp_spans") == 2000);
}
