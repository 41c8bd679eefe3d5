// What only the PostgreSQL backend does: the schema_version table and its
// migrations, the password and connection rules, bytea dead letters. The
// Store behaviour both backends share is tested once for both, in
// test_store_sqlite.cpp (TEST_CASE_TEMPLATE). Cases named "<postgres>" run
// under the `unit.postgres` ctest, which starts a private server.
#include <doctest/doctest.h>

#include <thread>

#include "core/trace_json.h"
#include "store/postgres/conn.h"
#include "store/postgres/schema.h"
#include "store/postgres/store.h"
#include "store_backends.h"

using namespace assay;
using assay::testing::PostgresTestDb;

TEST_CASE("postgres store: an empty database is migrated once and reopened <postgres>") {
    PostgresTestDb db;
    const int newest = static_cast<int>(pg::postgres_migrations().size());
    {
        auto s = PostgresStore::open(db.options());
        REQUIRE_MESSAGE(s.ok(), s.status().message());
        CHECK(*(*s)->schema_version() == newest);
    }
    auto again = PostgresStore::open(db.options());
    REQUIRE(again.ok());
    CHECK(db.value("SELECT count(*) FROM schema_version") == newest);
    CHECK(db.value("SELECT max(version) FROM schema_version") == newest);
    CHECK(db.value("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                   "('traces','scores','dead_letters','sampler_counters','judge_queue',"
                   "'scorer_versions','judgements','labels','aggregates','alerts')") == 10);
}

TEST_CASE("postgres store: workers opening a new database at once migrate it once <postgres>") {
    PostgresTestDb db;
    std::vector<Status> results(4);
    std::vector<std::thread> threads;
    for (auto& r : results) {
        threads.emplace_back([&db, &r] {
            auto s = PostgresStore::open(db.options());
            r = s.ok() ? Status() : s.status();
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& r : results) {
        CHECK_MESSAGE(r.ok(), r.message());
    }
    CHECK(db.value("SELECT count(*) FROM schema_version") ==
          static_cast<int64_t>(pg::postgres_migrations().size()));
}

TEST_CASE("postgres store: refuses a schema newer than it knows, naming both versions <postgres>") {
    PostgresTestDb db;
    REQUIRE(PostgresStore::open(db.options()).ok());
    db.value("INSERT INTO schema_version (version, applied_ms) VALUES (999, 0)");
    auto s = PostgresStore::open(db.options());
    REQUIRE_FALSE(s.ok());
    const std::string& m = s.status().message();
    CHECK(m.find("schema version 999, newer than this assay supports (" +
                 std::to_string(pg::postgres_migrations().size()) + ")") != std::string::npos);
    CHECK(m.find(db.location()) != std::string::npos);  // where: the (masked) URI
}

TEST_CASE("postgres store: a database at version 4 gets changed_hours from its scores <postgres>") {
    PostgresTestDb db;
    const int64_t h0 = 1795600800000LL;  // 2026-11-25T09:00:00Z
    {
        auto s = PostgresStore::open(db.options());
        REQUIRE(s.ok());
        REQUIRE((*s)->register_scorers({{"len", "1", "length", "{}"}}).ok());
        WriteBatch b;
        Trace t;
        t.trace_id = "old-1";
        t.timestamp_ms = h0 + 5;
        t.raw = "{}";
        b.traces = {t};
        ScoreRow r;
        r.scorer = "len";
        r.scorer_version = "1";
        r.decision = Decision::scored;
        r.score = Score{1.0, true, "", ""};
        r.batch_index = 0;
        r.at_ms = 7;
        b.scores = {r};
        REQUIRE((*s)->write(b).ok());
    }
    // Back to schema version 4: no changed_hours, the index scores_at; nor
    // what later migrations added (gate_marks, the alert delivery claims, otlp_claims, and
    // migration 8's indexes as before it, migration 10's foreign key of scores.decision,
    // migration 11's foreign keys to traces and scorer_versions, migration 12's
    // otlp_spans.span_count, with a pending row of one span written then).
    db.value(
        "ALTER TABLE scores DROP CONSTRAINT scores_decision_known, ADD FOREIGN KEY (decision) "
        "REFERENCES decisions(code), ADD CONSTRAINT scores_trace_fkey FOREIGN KEY (trace) "
        "REFERENCES traces(id), ADD CONSTRAINT scores_scorer_version_fkey FOREIGN KEY "
        "(scorer_version) REFERENCES scorer_versions(id); "
        "DROP TABLE changed_hours; DROP TABLE otlp_claims; CREATE INDEX scores_at ON "
        "scores(at_ms); "
        "DROP TABLE gate_marks; ALTER TABLE alerts DROP COLUMN delivery_claimed_by, "
        "DROP COLUMN delivery_claimed_until_ms; "
        "DROP INDEX scores_version_trace; DROP INDEX traces_ts; DROP INDEX traces_user; "
        "CREATE INDEX traces_ts ON traces(ts_ms); CREATE INDEX traces_user ON traces(user_id); "
        "ALTER TABLE otlp_spans DROP COLUMN span_count; "
        "INSERT INTO otlp_spans (trace_key, span_id, received_ms, span_json) "
        "VALUES ('pending', 's', 5, '{}'); "
        "DELETE FROM schema_version WHERE version >= 5");
    auto s = PostgresStore::open(db.options());
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(*(*s)->schema_version() == static_cast<int>(pg::postgres_migrations().size()));
    CHECK(db.value("SELECT count(*) FROM changed_hours") == 1);
    CHECK(db.value("SELECT changed_ms FROM changed_hours WHERE hour_ms = " + std::to_string(h0)) ==
          7);
    // Migration 12: the pending row holds one span.
    CHECK(db.value("SELECT span_count FROM otlp_spans WHERE trace_key = 'pending'") == 1);
    CHECK(db.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'scores_at'") == 0);
    // Migration 8: the review list's index by version and trace; traces_user
    // partial.
    CHECK(db.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'scores_version_trace'") ==
          1);
    // Migration 10: the decision code checked by a CHECK, not a foreign key.
    CHECK(db.value("SELECT count(*) FROM pg_constraint WHERE conrelid = 'scores'::regclass AND "
                   "contype = 'f' AND confrelid = 'decisions'::regclass") == 0);
    CHECK(db.value("SELECT count(*) FROM pg_constraint WHERE conname = 'scores_decision_known'") ==
          1);
    // An unknown decision code is still refused (raises 'accepted' if not).
    db.value(
        "DO $$ BEGIN INSERT INTO scores (trace, scorer_version, decision, at_ms) SELECT trace, "
        "scorer_version, 7, 1 FROM scores; RAISE EXCEPTION 'accepted'; EXCEPTION WHEN "
        "check_violation THEN NULL; END $$");
    CHECK(db.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'traces_user' AND "
                   "indexdef LIKE '%WHERE (user_id IS NOT NULL)'") == 1);
    // Migration 11: scores has no foreign key left (the writer keeps them:
    // test_store_postgres_write.cpp); judge_queue, judgements and labels keep theirs.
    CHECK(db.value("SELECT count(*) FROM pg_constraint WHERE conrelid = 'scores'::regclass AND "
                   "contype = 'f'") == 0);
    CHECK(db.value("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = "
                   "'traces'::regclass") == 3);
    CHECK(db.value("SELECT count(*) FROM scores_view WHERE trace_id = 'old-1'") == 1);
}

TEST_CASE("postgres store: dead letters keep any bytes <postgres>") {
    PostgresTestDb db;
    auto s = open_store(db.options());
    REQUIRE(s.ok());
    WriteBatch b;
    const std::string raw("{\"a\":\"\xff\xfe\"}\0tail", 14);
    b.dead_letters = {{1, "file:x.jsonl", 7, "line 7: invalid UTF-8 at byte 6", raw, raw.size()},
                      {2, "stdin", 0, "invalid JSON", "{", 1}};
    REQUIRE((*s)->write(b).ok());
    CHECK(db.value("SELECT count(*) FROM dead_letters") == 2);
    CHECK(db.value("SELECT length(raw) FROM dead_letters WHERE line = 7") == 14);
    CHECK(db.value("SELECT get_byte(raw, 6) FROM dead_letters WHERE line = 7") == 0xff);
    CHECK(db.value("SELECT get_byte(raw, 10) FROM dead_letters WHERE line = 7") == 0);
    CHECK(db.value("SELECT count(*) FROM dead_letters WHERE line IS NULL") == 1);
}

// A parser's message may quote the invalid bytes it stopped at; a UTF8
// database refused such a message, and with it the whole batch, so the worker
// stopped committing (found by e2e.worker.postgres's fuzz mix).
TEST_CASE("postgres store: a message or source that is not UTF-8 is stored escaped <postgres>") {
    PostgresTestDb db;
    auto s = open_store(db.options());
    REQUIRE(s.ok());
    WriteBatch b;
    b.dead_letters = {{1, "zmq:\xFFpull", 0, "invalid JSON: last read: '\xC4'", "\xC4'", 2}};
    auto t = parse_trace(std::string_view(R"({"trace_id":"ok-1","output":"a"})"), {}, 5);
    REQUIRE(t.ok());
    b.traces.push_back(*t);
    REQUIRE((*s)->write(b).ok());
    CHECK(db.value("SELECT count(*) FROM traces") == 1);
    CHECK(db.value("SELECT count(*) FROM dead_letters WHERE error = "
                   "'invalid JSON: last read: ''\\xC4''' AND source = 'zmq:\\xFFpull'") == 1);
    CHECK(db.value("SELECT get_byte(raw, 0) FROM dead_letters") == 0xC4);  // raw stays as sent
}

TEST_CASE(
    "postgres store: a lost connection is `unavailable`, and the next call reconnects "
    "<postgres>") {
    PostgresTestDb db;
    auto s = open_store(db.options());
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"len", "1", "length", "{}"}}).ok());
    auto batch = [](const std::string& id) {
        WriteBatch b;
        Trace t;
        t.trace_id = id;
        t.raw = "{}";
        b.traces.push_back(t);
        ScoreRow r;
        r.scorer = "len";
        r.scorer_version = "1";
        r.decision = Decision::scored;
        r.score = Score{1.0, true, "", ""};
        r.batch_index = 0;
        b.scores.push_back(r);
        return b;
    };
    REQUIRE((*s)->write(batch("a")).ok());
    // The server ends the store's session (as a restart or a cut would).
    auto kill_sessions = [&] {
        return db.value(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    };
    REQUIRE(kill_sessions() == 1);
    // libpq learns of the loss on the next statement: that write fails as
    // `unavailable` (the pipeline retries it), the one after reconnects and
    // sets the session up again (its COPY staging tables too).
    Status first = (*s)->write(batch("b"));
    if (!first.ok()) {
        CHECK_MESSAGE(first.code() == StatusCode::unavailable, first.message());
        Status again = (*s)->write(batch("b"));
        REQUIRE_MESSAGE(again.ok(), again.message());
    }
    CHECK(db.value("SELECT count(*) FROM traces") == 2);
    CHECK(db.value("SELECT count(*) FROM scores") == 2);
    // Reads reconnect the same way.
    REQUIRE(kill_sessions() == 1);
    auto c = (*s)->counts();
    if (!c.ok()) {
        CHECK(c.status().code() == StatusCode::unavailable);
        c = (*s)->counts();
    }
    REQUIRE_MESSAGE(c.ok(), c.status().message());
    CHECK(c->traces == 2);
    REQUIRE((*s)->write(batch("c")).ok());
    CHECK(db.value("SELECT count(*) FROM traces") == 3);
}

TEST_CASE(
    "postgres store: workers writing overlapping batches at once store each trace once "
    "<postgres>") {
    PostgresTestDb db;
    const std::vector<ScorerVersionInfo> versions = {{"len", "1", "length", "{}"}};
    constexpr int k_workers = 3, k_batches = 20, k_per_batch = 50, k_ids = 400;
    std::vector<Status> results(k_workers);
    std::vector<std::thread> threads;
    for (int w = 0; w < k_workers; ++w) {
        threads.emplace_back([&, w] {
            auto s = open_store(db.options());
            if (!s.ok() || !(*s)->register_scorers(versions).ok()) {
                results[static_cast<size_t>(w)] = Status::internal("open");
                return;
            }
            for (int b = 0; b < k_batches; ++b) {
                WriteBatch batch;
                for (int i = 0; i < k_per_batch; ++i) {
                    // Each worker walks the same ids in a different order.
                    const int id = (w * 131 + b * k_per_batch + i * (w + 1)) % k_ids;
                    Trace t;
                    t.trace_id = "t" + std::to_string(id);
                    t.raw = "{}";
                    batch.traces.push_back(t);
                    ScoreRow r;
                    r.scorer = "len";
                    r.scorer_version = "1";
                    r.decision = Decision::scored;
                    r.score = Score{1.0, true, "", ""};
                    r.batch_index = i;
                    batch.scores.push_back(r);
                    batch.counters.push_back({"len", "2026-12-05", 1, 1, 1, 0});
                }
                Status st = (*s)->write(batch);
                if (!st.ok()) {
                    results[static_cast<size_t>(w)] = st;
                    return;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& r : results) {
        CHECK_MESSAGE(r.ok(), r.message());
    }
    const int64_t distinct = db.value("SELECT count(DISTINCT trace_id) FROM traces");
    CHECK(db.value("SELECT count(*) FROM traces") == distinct);
    CHECK(db.value("SELECT count(*) FROM scores") == distinct);
    CHECK(distinct > k_per_batch);
    CHECK(db.value("SELECT seen FROM sampler_counters") == k_workers * k_batches * k_per_batch);
}

TEST_CASE("postgres store: a password in the URI is refused and never shown") {
    StoreOptions o;
    o.sqlite_path = "postgresql://assay:hunter2@127.0.0.1:1/assay";
    auto s = open_store(o);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::invalid_argument);
    CHECK(s.status().message().find("hunter2") == std::string::npos);
    CHECK(s.status().message().find("postgresql://assay:***@127.0.0.1:1/assay") !=
          std::string::npos);
    CHECK(s.status().message().find("PGPASSWORD") != std::string::npos);
}

TEST_CASE("postgres store: an unreachable server is `unavailable`, naming where") {
    StoreOptions o;
    o.sqlite_path = "postgresql://assay@127.0.0.1:1/assay?connect_timeout=2";
    auto s = open_store(o);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::unavailable);
    CHECK(s.status().message().rfind(
              "cannot connect to PostgreSQL store 'postgresql://assay@127.0.0.1:1/assay", 0) == 0);
}

// A worker stopped (SIGSTOP) or cut off inside a transaction kept its judge
// queue rows locked, so the other workers' SKIP LOCKED claims skipped them
// even after their lease ran out (e2e.judges_faults.postgres): the server now
// ends a session idle in a transaction for 5 s, unless a timeout is set.
TEST_CASE("postgres conn: sessions idle in a transaction end after 5 s unless set <postgres>") {
    PostgresTestDb db;
    const std::string show = "SELECT current_setting('idle_in_transaction_session_timeout')";
    auto c = pg::PgConn::connect(db.location());
    REQUIRE_MESSAGE(c.ok(), c.status().message());
    auto r = (*c)->exec(show, "reading the setting");
    REQUIRE(r.ok());
    CHECK(r->text(0, 0) == "5s");
    const char sep = db.location().find('?') == std::string::npos ? '?' : '&';
    auto kept = pg::PgConn::connect(db.location() + sep +
                                    "options=-c%20idle_in_transaction_session_timeout%3D60000");
    REQUIRE_MESSAGE(kept.ok(), kept.status().message());
    r = (*kept)->exec(show, "reading the setting");
    REQUIRE(r.ok());
    CHECK(r->text(0, 0) == "1min");
}
