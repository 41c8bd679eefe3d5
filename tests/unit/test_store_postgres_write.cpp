// The PostgreSQL write path's own guarantees (store/postgres/store.h): score
// rows have no foreign keys (migration 11), so a writer that names a stored
// trace locks it first and an erasure racing it leaves no score row behind.
// Cases named "<postgres>" run under the `unit.postgres` ctest.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/trace_json.h"
#include "store/maintenance_store.h"
#include "store/postgres/store.h"
#include "store_backends.h"

using namespace assay;
using assay::testing::PostgresTestDb;

namespace {

// A raw libpq session for holding locks in a test (one statement at a time).
class Session {
public:
    explicit Session(const std::string& uri) : m_c(PQconnectdb(uri.c_str())) {
        REQUIRE_MESSAGE(PQstatus(m_c) == CONNECTION_OK, PQerrorMessage(m_c));
    }
    ~Session() { PQfinish(m_c); }
    void run(const std::string& sql) {
        PGresult* r = PQexec(m_c, sql.c_str());
        const auto st = PQresultStatus(r);
        const std::string why = PQresultErrorMessage(r);
        PQclear(r);
        REQUIRE_MESSAGE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK), sql << ": " << why);
    }

private:
    PGconn* m_c;
};

Trace trace(const std::string& id, const std::string& user = "") {
    auto t = parse_trace(
        std::string_view(R"({"trace_id": ")" + id + R"(", "input": "q", "output": "a"})"), {},
        1000);
    REQUIRE(t.ok());
    t->metadata.user_id = user;
    return std::move(t).value();
}

// A decision of scorer helpful 1 (scored 4 when `d` is scored) for `id`.
ScoreRow score(const std::string& id, Decision d, int32_t batch_index = -1) {
    std::optional<Score> value;
    if (d == Decision::scored) {
        value = Score{4, true, "pass", "fine"};
    }
    return ScoreRow{id, "helpful", "1", d, value, "", 5, batch_index};
}

std::unique_ptr<Store> open_registered(const PostgresTestDb& db) {
    auto s = open_store(db.options());
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    REQUIRE((*s)->register_scorers({{"helpful", "1", "judge", "{}"}}).ok());
    return std::move(s).value();
}

// Backends of this database waiting for a lock.
int64_t lock_waiters(const PostgresTestDb& db) {
    return db.value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "wait_event_type = 'Lock'");
}

// Until `n` backends wait for a lock or `done` is set (at most 10 s).
void wait_for_waiters(const PostgresTestDb& db, int64_t n, const std::atomic<bool>& done) {
    for (int i = 0; i < 1000 && !done && lock_waiters(db) < n; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

const char* k_orphans =
    "SELECT count(*) FROM scores s WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.id = "
    "s.trace)";

}  // namespace

// An erasure that has deleted a trace's scores but not yet the trace (held
// here on the trace's judge-queue row) while a backfill writes a score for
// that trace: the writer waits on the trace row, finds it gone and writes
// nothing (not_found, as for a trace never stored); without the lock it
// wrote the row and the erasure left it orphaned.
TEST_CASE("postgres store: a score for a trace being erased is not written <postgres>") {
    PostgresTestDb db;
    auto s = open_registered(db);
    {
        WriteBatch b;
        b.traces = {trace("u-1", "alice")};
        b.scores = {score("u-1", Decision::pending, 0)};
        b.judge_tasks = {{"u-1", "helpful", "1", 10, 0}};
        REQUIRE(s->write(b).ok());
    }
    Session holder(db.location());
    holder.run("BEGIN");
    holder.run("SELECT 1 FROM judge_queue FOR UPDATE");

    auto erasing = open_maintenance_store(db.location());
    REQUIRE(erasing.ok());
    std::atomic<bool> erased{false};
    Result<EraseReport> report = Status::internal("not run");
    std::thread eraser([&] {
        report = (*erasing)->erase("user", "alice");
        erased = true;
    });
    wait_for_waiters(db, 1, erased);  // it holds the trace, its scores deleted
    REQUIRE(lock_waiters(db) == 1);

    std::atomic<bool> written{false};
    Status st;
    std::thread writer([&] {
        WriteBatch b;  // what `assay backfill` writes: a decision for a stored trace
        b.scores = {score("u-1", Decision::sampled_out)};
        st = s->write(b);
        written = true;
    });
    wait_for_waiters(db, 2, written);
    holder.run("COMMIT");
    eraser.join();
    writer.join();
    REQUIRE_MESSAGE(report.ok(), report.status().message());
    CHECK(report->traces == 1);
    CHECK(st.code() == StatusCode::not_found);
    CHECK(st.message().find("'u-1'") != std::string::npos);
    CHECK(db.value("SELECT count(*) FROM traces") == 0);
    CHECK(db.value("SELECT count(*) FROM scores") == 0);
    CHECK(db.value(k_orphans) == 0);
}

// The judge path: an outcome for a trace erased after its claim stores
// nothing and is refused not_found (as before the foreign key was dropped).
TEST_CASE("postgres store: a judge outcome for an erased trace stores nothing <postgres>") {
    PostgresTestDb db;
    auto s = open_registered(db);
    WriteBatch b;
    b.traces = {trace("u-1", "alice"), trace("k-1", "bob")};
    b.scores = {score("u-1", Decision::pending, 0), score("k-1", Decision::pending, 1)};
    b.judge_tasks = {{"u-1", "helpful", "1", 10, 0}, {"k-1", "helpful", "1", 10, 1}};
    REQUIRE(s->write(b).ok());
    auto claimed = s->claim_judge_tasks("helpful", "1", 10, {});
    REQUIRE(claimed.ok());
    REQUIRE(claimed->size() == 2);
    auto erasing = open_maintenance_store(db.location());
    REQUIRE(erasing.ok());
    REQUIRE((*erasing)->erase("user", "alice").ok());
    JudgeOutcome o;
    o.trace_id = "u-1";
    o.scorer = "helpful";
    o.scorer_version = "1";
    o.score = score("u-1", Decision::scored);
    auto w = s->write_judge_outcome(o);
    CHECK(w.status().code() == StatusCode::not_found);
    CHECK(db.value("SELECT count(*) FROM scores") == 1);  // k-1's pending row
    CHECK(db.value(k_orphans) == 0);
    o.trace_id = "k-1";  // the other trace is written as ever
    o.score->trace_id = "k-1";
    w = s->write_judge_outcome(o);
    REQUIRE_MESSAGE(w.ok(), w.status().message());
    CHECK(w->stored);
    CHECK(db.value("SELECT count(*) FROM scores_view WHERE trace_id = 'k-1' AND decision = "
                   "'scored'") == 1);
}

namespace {

// Traces `ids` (latency `latency` each), each scored `value` and with a
// judge task; a dead letter and a counter.
WriteBatch batch_of(const std::vector<std::string>& ids, double latency, double value) {
    WriteBatch b;
    for (const std::string& id : ids) {
        b.traces.push_back(trace(id));
        b.traces.back().latency_ms = latency;
        b.traces.back().metadata.feature = "f-" + id;
        const auto i = static_cast<int32_t>(b.traces.size() - 1);
        b.scores.push_back(score(id, Decision::scored, i));
        b.scores.back().score->value = value;
        b.judge_tasks.push_back({id, "helpful", "1", 10, i});
    }
    b.dead_letters = {{1, "stdin", 0, "invalid JSON", "{", 1}};
    b.counters = {{"helpful", "2026-12-06", static_cast<int64_t>(ids.size()), 0, 0, 0}};
    return b;
}

// Rows of `id` as stored: its id, its latency and feature, its score's value.
struct Stored {
    int64_t id, latency, value, features;
};
Stored stored(const PostgresTestDb& db, const std::string& id) {
    const std::string t = "(SELECT id FROM traces WHERE trace_id = '" + id + "')";
    return {db.value("SELECT " + t),
            db.value("SELECT latency_ms::bigint FROM traces WHERE trace_id = '" + id + "'"),
            db.value("SELECT value::bigint FROM scores WHERE trace = " + t),
            db.value("SELECT count(*) FROM traces WHERE trace_id = '" + id + "' AND feature = 'f-" +
                     id + "'")};
}

// Every table the batch writes, counted exactly.
void check_counts(const PostgresTestDb& db, int64_t traces, int64_t batches) {
    CHECK(db.value("SELECT count(*) FROM traces") == traces);
    CHECK(db.value("SELECT count(*) FROM scores") == traces);
    CHECK(db.value("SELECT count(*) FROM judge_queue") == traces);
    CHECK(db.value("SELECT count(*) FROM dead_letters") == batches);
    CHECK(db.value("SELECT count(DISTINCT trace) FROM scores") == traces);
    CHECK(db.value(k_orphans) == 0);
}

}  // namespace

// The traces of a batch go straight into `traces` when none is stored yet
// (copied under a savepoint); else the savepoint is rolled back and the batch
// upserted as before. Either way the rows end the same.
TEST_CASE(
    "postgres store: a batch of new traces is stored whole, ids in trace id order <postgres>") {
    PostgresTestDb db;
    auto s = open_registered(db);
    REQUIRE(s->write(batch_of({"c", "a", "b"}, 10, 1)).ok());
    check_counts(db, 3, 1);
    CHECK(
        db.value("SELECT count(*) FROM traces WHERE latency_ms = 10 AND raw LIKE '%\"output\"%'") ==
        3);
    CHECK(stored(db, "a").id < stored(db, "b").id);  // as the upsert in trace id order gave them
    CHECK(stored(db, "b").id < stored(db, "c").id);
    CHECK(stored(db, "c").features == 1);
    CHECK(db.value("SELECT sum(seen) FROM sampler_counters") == 3);
    // A trace id twice in one batch: the last one wins, stored once.
    WriteBatch twice = batch_of({"d", "d"}, 10, 1);
    twice.traces[1].latency_ms = 30;
    REQUIRE(s->write(twice).ok());
    CHECK(db.value("SELECT count(*) FROM traces WHERE trace_id = 'd'") == 1);
    CHECK(stored(db, "d").latency == 30);
}

TEST_CASE("postgres store: a batch sent again updates its rows in place <postgres>") {
    PostgresTestDb db;
    auto s = open_registered(db);
    REQUIRE(s->write(batch_of({"a", "b"}, 10, 1)).ok());
    const Stored a = stored(db, "a"), b = stored(db, "b");
    REQUIRE(s->write(batch_of({"a", "b"}, 20, 3)).ok());
    check_counts(db, 2, 2);
    CHECK(stored(db, "a").id == a.id);
    CHECK(stored(db, "b").id == b.id);
    CHECK(stored(db, "a").latency == 20);
    CHECK(stored(db, "b").value == 3);
    CHECK(db.value("SELECT sum(seen) FROM sampler_counters") == 4);
    // Rows past libpq's first chunks (1 MiB each): the server refuses the copy
    // while rows are still being sent, and the batch is upserted all the same.
    std::vector<std::string> many;
    for (int i = 0; i < 400; ++i) {
        many.push_back("m" + std::to_string(i));
    }
    WriteBatch big = batch_of(many, 10, 1);
    for (Trace& t : big.traces) {
        t.raw += std::string(12000, ' ');
    }
    REQUIRE(s->write(big).ok());
    big.traces[0].latency_ms = 40;
    const Status again = s->write(big);
    REQUIRE_MESSAGE(again.ok(), again.message());
    check_counts(db, 402, 4);
    CHECK(stored(db, "m0").latency == 40);
}

TEST_CASE(
    "postgres store: a batch where another worker stored some traces first ends as one upsert "
    "<postgres>") {
    PostgresTestDb db;
    auto s = open_registered(db);
    auto other = open_registered(db);
    REQUIRE(other->write(batch_of({"b"}, 10, 1)).ok());
    const int64_t b_id = stored(db, "b").id;
    // "d" is being stored by a third session, not yet committed: the upsert
    // waits for it, then finds it stored.
    Session third(db.location());
    third.run("BEGIN");
    third.run("INSERT INTO traces (trace_id, ts_ms, received_ms, raw) VALUES ('d', 1, 1, '{}')");
    std::atomic<bool> done{false};
    Status st;
    std::thread writer([&] {
        st = s->write(batch_of({"a", "b", "c", "d"}, 20, 3));
        done = true;
    });
    wait_for_waiters(db, 1, done);
    third.run("COMMIT");
    writer.join();
    REQUIRE_MESSAGE(st.ok(), st.message());
    check_counts(db, 4, 2);
    CHECK(stored(db, "b").id == b_id);
    for (const char* id : {"a", "b", "c", "d"}) {
        CAPTURE(id);
        CHECK(stored(db, id).latency == 20);
        CHECK(stored(db, id).value == 3);
        CHECK(stored(db, id).features == 1);
    }
    CHECK(db.value("SELECT sum(seen) FROM sampler_counters") == 5);
}
