// The store's LLM-judge queries on real SQLite files: queue reads, atomic
// outcomes, the cache, spend, status and backfill candidates.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/trace_json.h"
#include "sql_value.h"
#include "store/judge_claimant.h"
#include "store/sqlite/store.h"
#include "temp_dir.h"

using namespace assay;
using assay::testing::sql_value;
using assay::testing::TempDir;

namespace {

Trace stored(const std::string& id, int64_t ts, const std::string& feature = "") {
    auto t = parse_trace(
        std::string_view(R"({"trace_id": ")" + id + R"(", "input": "q", "output": "a"})"), {}, ts);
    REQUIRE(t.ok());
    t->metadata.feature = feature;
    return std::move(t).value();
}

ScoreRow row(const std::string& id, Decision d) {
    ScoreRow r;
    r.trace_id = id;
    r.scorer = "helpful";
    r.scorer_version = "1.x";
    r.decision = d;
    r.at_ms = 5;
    if (d == Decision::scored) {
        r.score = Score{4, true, "pass", "judge primary: fine"};
    }
    return r;
}

// A store at `path` with judge scorer "helpful" registered in versions 1.x
// and 2.y.
Result<std::unique_ptr<SqliteStore>> open_two_versions(const std::string& path) {
    auto s = SqliteStore::open({path});
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers(
                    {{"helpful", "1.x", "judge", "{}"}, {"helpful", "2.y", "judge", "{}"}})
                .ok());
    return s;
}

void exec_sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

std::set<std::string> ids(const Result<std::vector<PendingJudgeTask>>& r) {
    REQUIRE(r.ok());
    std::set<std::string> out;
    for (const auto& t : *r) {
        out.insert(t.trace_id);
    }
    return out;
}

}  // namespace

TEST_CASE("store judge: queue read, atomic outcome, cache, spend and status") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto s = SqliteStore::open({path});
    REQUIRE(s.ok());
    REQUIRE((*s)->register_scorers({{"helpful", "1.x", "judge", "{}"}}).ok());
    WriteBatch b;
    b.traces = {stored("t1", 1000), stored("t2", 2000)};
    b.scores = {row("t1", Decision::pending), row("t2", Decision::pending)};
    b.scores[0].batch_index = 0;
    b.scores[1].batch_index = 1;
    b.judge_tasks = {{"t1", "helpful", "1.x", 10, 0}, {"t2", "helpful", "1.x", 20, 1}};
    REQUIRE((*s)->write(b).ok());

    auto q = (*s)->claim_judge_tasks("helpful", "1.x", 10, {"t1"});
    REQUIRE(q.ok());
    REQUIRE(q->size() == 1);
    CHECK((*q)[0].trace_id == "t2");
    CHECK((*q)[0].raw.find("\"t2\"") != std::string::npos);

    // An outcome for an unknown trace stores nothing.
    JudgeOutcome bad;
    bad.trace_id = "nope";
    bad.scorer = "helpful";
    bad.scorer_version = "1.x";
    bad.spend = {{"primary", "2026-11-17", 1, 10, 2, 0.5, 0}};
    CHECK((*s)->write_judge_outcome(bad).code() == StatusCode::not_found);
    CHECK(sql_value(path, "SELECT count(*) FROM judge_spend") == 0);

    JudgeOutcome o;
    o.trace_id = "t1";
    o.scorer = "helpful";
    o.scorer_version = "1.x";
    o.score = row("t1", Decision::scored);
    JudgementRecord rec;
    rec.judge = "primary";
    rec.model = "m";
    rec.rubric = "helpfulness";
    rec.rubric_version = "1";
    rec.rubric_hash = std::string(64, 'a');
    rec.score = 4;
    rec.passed = true;
    rec.attempts = 1;
    o.judgements = {rec};
    o.cache = {{"h1", "primary", "m", R"({"reasoning":"ok","score":4})", 10, 2, 5}};
    o.spend = {{"primary", "2026-11-17", 1, 10, 2, 0.25, 0}};
    REQUIRE((*s)->write_judge_outcome(o).ok());
    o.judgements.clear();
    o.cache[0].reply = "other";  // an existing hash is kept
    REQUIRE((*s)->write_judge_outcome(o).ok());
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue") == 1);
    CHECK(sql_value(path,
                    "SELECT count(*) FROM scores_view WHERE decision = 'scored' AND value = 4") ==
          1);
    auto hit = (*s)->judge_cache_get("h1");
    REQUIRE(hit.ok());
    REQUIRE(hit->has_value());
    CHECK((*hit)->reply == R"({"reasoning":"ok","score":4})");
    CHECK_FALSE((*(*s)->judge_cache_get("h2")).has_value());
    auto spend = (*s)->judge_spend("primary", "2026-11-17");
    REQUIRE(spend.ok());
    CHECK(spend->calls == 2);
    CHECK(spend->cost_usd == doctest::Approx(0.5));

    // Leaving t2 pending bumps its attempts; an error row is on record.
    JudgeOutcome p;
    p.trace_id = "t2";
    p.scorer = "helpful";
    p.scorer_version = "1.x";
    JudgementRecord err = rec;
    err.score.reset();
    err.passed.reset();
    err.error_type = "auth";
    err.error_message = "judge 'primary': HTTP 401";
    p.judgements = {err};
    REQUIRE((*s)->write_judge_outcome(p).ok());
    CHECK(sql_value(path, "SELECT attempts FROM judge_queue_view WHERE trace_id = 't2'") == 1);
    auto st = (*s)->judge_status("2026-11-17", 5);
    REQUIRE(st.ok());
    REQUIRE(st->queue.size() == 1);
    CHECK(st->queue[0].pending == 1);
    REQUIRE(st->spend.size() == 1);
    REQUIRE(st->recent_errors.size() == 1);
    CHECK(st->recent_errors[0].trace_id == "t2");
    REQUIRE(st->last_by_judge.size() == 1);
    CHECK(st->last_by_judge[0].error_type == "auth");

    // A judgement row is a score or an error, never both or neither.
    JudgeOutcome neither = p;
    neither.judgements[0].error_type.clear();
    CHECK_FALSE((*s)->write_judge_outcome(neither).ok());
    CHECK(sql_value(path, "SELECT attempts FROM judge_queue_view WHERE trace_id = 't2'") == 1);
}

TEST_CASE("store judge: backfill candidates skip final decisions of the same version") {
    TempDir dir;
    const std::string path = dir.file("b.db");
    auto s = open_two_versions(path);
    WriteBatch b;
    b.traces = {stored("a", 1000, "chat"), stored("b", 2000, "chat"), stored("c", 3000, "search"),
                stored("d", 4000, "chat"), stored("e", 5000, "chat")};
    b.scores = {row("a", Decision::scored), row("b", Decision::skipped_budget),
                row("d", Decision::pending), row("e", Decision::skipped_missing_input)};
    b.scores[0].batch_index = 0;
    b.scores[1].batch_index = 1;
    b.scores[2].batch_index = 3;
    b.scores[3].batch_index = 4;
    REQUIRE((*s)->write(b).ok());
    auto ids = [&](BackfillQuery q) {
        auto r = (*s)->backfill_candidates(q);
        REQUIRE(r.ok());
        std::string out;
        for (const auto& c : *r) {
            out += c.trace_id;
        }
        return out;
    };
    BackfillQuery q;
    q.scorer = "helpful";
    q.scorer_version = "1.x";
    CHECK(ids(q) == "bc");
    q.feature = "chat";
    CHECK(ids(q) == "b");
    q.feature.clear();
    q.since_ms = 2500;
    CHECK(ids(q) == "c");
    q.since_ms.reset();
    q.limit = 1;
    CHECK(ids(q) == "b");
    q.limit = 0;
    q.scorer_version = "2.y";  // another version: everything
    CHECK(ids(q) == "abcde");
    q.scorer_version = "9";
    CHECK((*s)->backfill_candidates(q).status().code() == StatusCode::not_found);
}

TEST_CASE("store judge: queued tasks are listed oldest first without claiming them") {
    TempDir dir;
    const std::string path = dir.file("q.db");
    auto s = open_two_versions(path);
    WriteBatch b;
    b.traces = {stored("t1", 1000), stored("t2", 2000), stored("t3", 3000)};
    b.judge_tasks = {{"t2", "helpful", "1.x", 10, 1},
                     {"t1", "helpful", "1.x", 20, 0},
                     {"t3", "helpful", "2.y", 5, 2}};
    REQUIRE((*s)->write(b).ok());
    REQUIRE((*s)->claim_judge_tasks("helpful", "1.x", 1, {}).ok());  // t2 is claimed: still listed
    auto q = (*s)->queued_judge_tasks("helpful", "1.x");
    REQUIRE(q.ok());
    REQUIRE(q->size() == 2);
    CHECK((*q)[0].trace_id == "t2");
    CHECK((*q)[1].trace_id == "t1");
    CHECK((*q)[1].raw.find("\"t1\"") != std::string::npos);
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue WHERE claimed_by IS NOT NULL") == 1);
    CHECK((*s)->queued_judge_tasks("helpful", "9").status().code() == StatusCode::invalid_argument);
}

TEST_CASE("store judge: claims keep two connections to one file from taking the same task") {
    TempDir dir;
    const std::string path = dir.file("claims.db");
    const std::string me = make_judge_claimant();
    const std::string host = me.substr(0, me.find(':'));
    const std::string pid = std::to_string(getpid());
    StoreOptions oa{path};
    oa.judge_claimant = host + ":" + pid + ":a";
    oa.judge_lease_ms = 100;  // tiny: expires during the test
    StoreOptions ob{path};
    ob.judge_claimant = host + ":" + pid + ":b";
    auto a = SqliteStore::open(oa);
    auto b = SqliteStore::open(ob);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE((*a)->register_scorers({{"helpful", "1.x", "judge", "{}"}}).ok());
    REQUIRE((*b)->register_scorers({{"helpful", "1.x", "judge", "{}"}}).ok());
    WriteBatch w;
    w.traces = {stored("t1", 1000), stored("t2", 2000), stored("t3", 3000), stored("t4", 4000)};
    for (int i = 0; i < 4; ++i) {
        const std::string id = "t" + std::to_string(i + 1);
        w.scores.push_back(row(id, Decision::pending));
        w.scores.back().batch_index = i;
        w.judge_tasks.push_back({id, "helpful", "1.x", 10 * (i + 1), i});
    }
    REQUIRE((*a)->write(w).ok());

    // A claims the two oldest; B gets only the others, A's stay A's.
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 2, {})) ==
          std::set<std::string>{"t1", "t2"});
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue_view WHERE claimed_by = '" +
                              oa.judge_claimant + "' AND claimed_until_ms IS NOT NULL") == 2);
    CHECK(ids((*b)->claim_judge_tasks("helpful", "1.x", 10, {})) ==
          std::set<std::string>{"t3", "t4"});
    CHECK(ids((*b)->claim_judge_tasks("helpful", "1.x", 10, {"t3", "t4"})).empty());
    // A's own claims come back to A unless they are in its skip (in-flight) set.
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 10, {"t1"})) ==
          std::set<std::string>{"t2"});
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 10, {"t1", "t2"})).empty());

    // A's 100 ms lease runs out: B may take t1 and t2; then A gets nothing.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(ids((*b)->claim_judge_tasks("helpful", "1.x", 10, {"t3", "t4"})) ==
          std::set<std::string>{"t1", "t2"});
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 10, {})).empty());
    CHECK(sql_value(path, "SELECT count(*) FROM judge_queue WHERE claimed_by = '" +
                              ob.judge_claimant + "'") == 4);

    // A claim by a dead process of this host is taken at once, even with a
    // lease far in the future; another host's claim is not.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        _exit(0);
    }
    int wstatus = 0;
    REQUIRE(waitpid(child, &wstatus, 0) == child);
    const std::string dead = host + ":" + std::to_string(child) + ":x";
    CHECK(judge_claimant_dead_here(dead));
    CHECK_FALSE(judge_claimant_dead_here(ob.judge_claimant));
    CHECK_FALSE(judge_claimant_dead_here("other-host-name:" + std::to_string(child) + ":x"));
    exec_sql(path, "UPDATE judge_queue SET claimed_by = '" + dead +
                       "', claimed_until_ms = 99999999999999 WHERE trace = (SELECT id FROM traces "
                       "WHERE trace_id = 't1')");
    exec_sql(path, "UPDATE judge_queue SET claimed_by = 'other-host-name:" + std::to_string(child) +
                       ":x', claimed_until_ms = 99999999999999 "
                       "WHERE trace = (SELECT id FROM traces WHERE trace_id = 't2')");
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t1"});
    CHECK(
        sql_value(path,
                  "SELECT count(*) FROM judge_queue_view WHERE trace_id = 't1' AND claimed_by = '" +
                      oa.judge_claimant + "'") == 1);

    // Leaving a task pending clears its claim: the other connection may take it.
    JudgeOutcome pending;
    pending.trace_id = "t3";
    pending.scorer = "helpful";
    pending.scorer_version = "1.x";
    REQUIRE((*b)->write_judge_outcome(pending).ok());
    CHECK(sql_value(
              path,
              "SELECT count(*) FROM judge_queue_view WHERE trace_id = 't3' AND claimed_by IS NULL "
              "AND claimed_until_ms IS NULL AND attempts = 1") == 1);
    CHECK(ids((*a)->claim_judge_tasks("helpful", "1.x", 10, {"t1"})) ==
          std::set<std::string>{"t3"});
}
