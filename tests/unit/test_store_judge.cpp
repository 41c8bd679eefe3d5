// The store's LLM-judge queries on both backends (a real SQLite file, a
// real PostgreSQL database; store_backends.h): queue reads, claims with a
// lease, fenced atomic outcomes, the cache, spend, budget reservations,
// status and backfill candidates.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/trace_json.h"
#include "store/judge_claimant.h"
#include "store_backends.h"

using namespace assay;
using assay::testing::PostgresBackend;
using assay::testing::SqliteBackend;
using assay::testing::TestDb;

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

// A store on `db` with judge scorer "helpful" registered in versions 1.x
// and 2.y.
std::unique_ptr<Store> open_two_versions(const TestDb& db, StoreOptions o = {}) {
    o.sqlite_path = db.location();
    auto s = open_store(o);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    REQUIRE((*s)->register_scorers(
                    {{"helpful", "1.x", "judge", "{}"}, {"helpful", "2.y", "judge", "{}"}})
                .ok());
    return std::move(s).value();
}

// n stored traces "t1".."tn" (ts 1000 * i), each pending with a judge task
// of helpful 1.x enqueued at 10 * i.
WriteBatch queued(int n) {
    WriteBatch w;
    for (int i = 0; i < n; ++i) {
        const std::string id = "t" + std::to_string(i + 1);
        w.traces.push_back(stored(id, 1000 * (i + 1)));
        w.scores.push_back(row(id, Decision::pending));
        w.scores.back().batch_index = i;
        w.judge_tasks.push_back({id, "helpful", "1.x", 10 * (i + 1), i});
    }
    return w;
}

// A scored outcome of helpful 1.x for `id`: one judgement, one cache entry
// and `cost` of spend on 2026-11-17.
JudgeOutcome scored_outcome(const std::string& id, double cost) {
    JudgeOutcome o;
    o.trace_id = id;
    o.scorer = "helpful";
    o.scorer_version = "1.x";
    o.score = row(id, Decision::scored);
    JudgementRecord rec;
    rec.judge = "primary";
    rec.model = "m";
    rec.rubric = "helpfulness";
    rec.rubric_version = "1";
    rec.rubric_hash = std::string(64, 'a');
    rec.score = 4;
    rec.passed = true;
    rec.attempts = 1;
    rec.cost_usd = cost;
    o.judgements = {rec};
    o.cache = {{"h-" + id, "primary", "m", R"({"reasoning":"ok","score":4})", 10, 2, 5}};
    o.spend = {{"primary", "2026-11-17", 1, 10, 2, cost, 0}};
    return o;
}

// write_judge_outcome stored it / was fenced off (stored nothing).
bool stored(const Result<JudgeWrite>& w) {
    if (!w.ok()) {
        MESSAGE(w.status().message());
    }
    return w.ok() && w->stored;
}
bool lost(const Result<JudgeWrite>& w) {
    return w.ok() && !w->stored && w->lease_lost.find("lease lost") != std::string::npos;
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

TEST_CASE_TEMPLATE("store judge: queue read, atomic outcome, cache, spend and status", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_two_versions(*db);
    WriteBatch b;
    b.traces = {stored("t1", 1000), stored("t2", 2000)};
    b.scores = {row("t1", Decision::pending), row("t2", Decision::pending)};
    b.scores[0].batch_index = 0;
    b.scores[1].batch_index = 1;
    b.judge_tasks = {{"t1", "helpful", "1.x", 10, 0}, {"t2", "helpful", "1.x", 20, 1}};
    REQUIRE(s->write(b).ok());

    auto q = s->claim_judge_tasks("helpful", "1.x", 10, {"t1"});
    REQUIRE(q.ok());
    REQUIRE(q->size() == 1);
    CHECK((*q)[0].trace_id == "t2");
    CHECK((*q)[0].raw.find("\"t2\"") != std::string::npos);
    CHECK(ids(s->claim_judge_tasks("helpful", "1.x", 10, {"t2"})) == std::set<std::string>{"t1"});

    // An outcome for an unknown trace stores nothing.
    JudgeOutcome bad;
    bad.trace_id = "nope";
    bad.scorer = "helpful";
    bad.scorer_version = "1.x";
    bad.spend = {{"primary", "2026-11-17", 1, 10, 2, 0.5, 0}};
    CHECK(s->write_judge_outcome(bad).status().code() == StatusCode::not_found);
    CHECK(db->value("SELECT count(*) FROM judge_spend") == 0);

    JudgeOutcome o = scored_outcome("t1", 0.25);
    o.cache[0].request_hash = "h1";
    JudgementRecord rec = o.judgements[0];
    REQUIRE(stored(s->write_judge_outcome(o)));
    // The task is gone: a second write is fenced off and stores nothing.
    CHECK(lost(s->write_judge_outcome(o)));
    CHECK(db->value("SELECT count(*) FROM judgements") == 1);
    o.cache[0].reply = "other";  // an existing hash is kept
    REQUIRE(s->record_llm_calls(o.cache, o.spend).ok());
    CHECK(db->value("SELECT count(*) FROM judge_queue") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE decision = 'scored' AND value = 4") ==
          1);
    auto hit = s->judge_cache_get("h1");
    REQUIRE(hit.ok());
    REQUIRE(hit->has_value());
    CHECK((*hit)->reply == R"({"reasoning":"ok","score":4})");
    CHECK_FALSE((*s->judge_cache_get("h2")).has_value());
    auto spend = s->judge_spend("primary", "2026-11-17");
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
    REQUIRE(stored(s->write_judge_outcome(p)));
    CHECK(db->value("SELECT attempts FROM judge_queue_view WHERE trace_id = 't2'") == 1);
    auto st = s->judge_status("2026-11-17", 5);
    REQUIRE(st.ok());
    REQUIRE(st->queue.size() == 1);
    CHECK(st->queue[0].pending == 1);
    REQUIRE(st->spend.size() == 1);
    CHECK(st->spend[0].cost_usd == doctest::Approx(0.5));
    REQUIRE(st->recent_errors.size() == 1);
    CHECK(st->recent_errors[0].trace_id == "t2");
    CHECK(st->recent_errors[0].error_type == "auth");
    REQUIRE(st->last_by_judge.size() == 1);
    CHECK(st->last_by_judge[0].error_type == "auth");

    // A judgement row is a score or an error, never both or neither.
    CHECK(ids(s->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t2"});
    JudgeOutcome neither = p;
    neither.judgements[0].error_type.clear();
    CHECK_FALSE(s->write_judge_outcome(neither).ok());
    CHECK(db->value("SELECT attempts FROM judge_queue_view WHERE trace_id = 't2'") == 1);
}

TEST_CASE_TEMPLATE("store judge: backfill candidates skip final decisions of the same version", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_two_versions(*db);
    WriteBatch b;
    b.traces = {stored("a", 1000, "chat"), stored("b", 2000, "chat"), stored("c", 3000, "search"),
                stored("d", 4000, "chat"), stored("e", 5000, "chat")};
    b.scores = {row("a", Decision::scored), row("b", Decision::skipped_budget),
                row("d", Decision::pending), row("e", Decision::skipped_missing_input)};
    b.scores[0].batch_index = 0;
    b.scores[1].batch_index = 1;
    b.scores[2].batch_index = 3;
    b.scores[3].batch_index = 4;
    REQUIRE(s->write(b).ok());
    auto ids = [&](BackfillQuery q) {
        auto r = s->backfill_candidates(q);
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
    CHECK(s->backfill_candidates(q).status().code() == StatusCode::not_found);
}

TEST_CASE_TEMPLATE("store judge: queued tasks are listed oldest first without claiming them", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    auto s = open_two_versions(*db);
    WriteBatch b;
    b.traces = {stored("t1", 1000), stored("t2", 2000), stored("t3", 3000)};
    b.judge_tasks = {{"t2", "helpful", "1.x", 10, 1},
                     {"t1", "helpful", "1.x", 20, 0},
                     {"t3", "helpful", "2.y", 5, 2}};
    REQUIRE(s->write(b).ok());
    REQUIRE(s->claim_judge_tasks("helpful", "1.x", 1, {}).ok());  // t2 is claimed: still listed
    auto q = s->queued_judge_tasks("helpful", "1.x");
    REQUIRE(q.ok());
    REQUIRE(q->size() == 2);
    CHECK((*q)[0].trace_id == "t2");
    CHECK((*q)[1].trace_id == "t1");
    CHECK((*q)[1].raw.find("\"t1\"") != std::string::npos);
    CHECK(db->value("SELECT count(*) FROM judge_queue WHERE claimed_by IS NOT NULL") == 1);
    CHECK(s->queued_judge_tasks("helpful", "9").status().code() == StatusCode::invalid_argument);
}

TEST_CASE_TEMPLATE(
    "store judge: claims keep two connections to one store from taking the same task", B,
    SqliteBackend, PostgresBackend) {
    auto db = B::make();
    const std::string me = make_judge_claimant();
    const std::string host = me.substr(0, me.find(':'));
    const std::string pid = std::to_string(getpid());
    StoreOptions oa;
    oa.judge_claimant = host + ":" + pid + ":a";
    // Short, so that it expires during the test, but long enough for the
    // claims before the sleep on a loaded machine (100 ms was not).
    oa.judge_lease_ms = 1500;
    StoreOptions ob;
    ob.judge_claimant = host + ":" + pid + ":b";
    auto a = open_two_versions(*db, oa);
    auto b = open_two_versions(*db, ob);
    REQUIRE(a->write(queued(4)).ok());

    // A claims the two oldest; B gets only the others, A's stay A's.
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 2, {})) == std::set<std::string>{"t1", "t2"});
    CHECK(db->value("SELECT count(*) FROM judge_queue_view WHERE claimed_by = '" +
                    oa.judge_claimant + "' AND claimed_until_ms IS NOT NULL") == 2);
    CHECK(ids(b->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t3", "t4"});
    CHECK(ids(b->claim_judge_tasks("helpful", "1.x", 10, {"t3", "t4"})).empty());
    // A's own claims come back to A unless they are in its skip (in-flight) set.
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {"t1"})) == std::set<std::string>{"t2"});
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {"t1", "t2"})).empty());

    // A's lease runs out: B may take t1 and t2; then A gets nothing.
    std::this_thread::sleep_for(std::chrono::milliseconds(1700));
    CHECK(ids(b->claim_judge_tasks("helpful", "1.x", 10, {"t3", "t4"})) ==
          std::set<std::string>{"t1", "t2"});
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {})).empty());
    CHECK(db->value("SELECT count(*) FROM judge_queue WHERE claimed_by = '" + ob.judge_claimant +
                    "'") == 4);

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
    db->value("UPDATE judge_queue SET claimed_by = '" + dead +
              "', claimed_until_ms = 99999999999999 WHERE trace = (SELECT id FROM traces "
              "WHERE trace_id = 't1')");
    db->value("UPDATE judge_queue SET claimed_by = 'other-host-name:" + std::to_string(child) +
              ":x', claimed_until_ms = 99999999999999 "
              "WHERE trace = (SELECT id FROM traces WHERE trace_id = 't2')");
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t1"});
    CHECK(
        db->value("SELECT count(*) FROM judge_queue_view WHERE trace_id = 't1' AND claimed_by = '" +
                  oa.judge_claimant + "'") == 1);

    // Leaving a task pending clears its claim: the other connection may take it.
    JudgeOutcome pending;
    pending.trace_id = "t3";
    pending.scorer = "helpful";
    pending.scorer_version = "1.x";
    REQUIRE(stored(b->write_judge_outcome(pending)));
    CHECK(db->value(
              "SELECT count(*) FROM judge_queue_view WHERE trace_id = 't3' AND claimed_by IS NULL "
              "AND claimed_until_ms IS NULL AND attempts = 1") == 1);
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {"t1"})) == std::set<std::string>{"t3"});
}

TEST_CASE_TEMPLATE("store judge: a worker that lost its lease cannot write over the new owner", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    StoreOptions oa;
    oa.judge_claimant = "host-a:1:a";
    oa.judge_lease_ms = 100;
    StoreOptions ob;
    ob.judge_claimant = "host-b:1:b";
    auto a = open_two_versions(*db, oa);
    auto b = open_two_versions(*db, ob);
    REQUIRE(a->write(queued(2)).ok());
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t1", "t2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // A stalls past its lease
    CHECK(ids(b->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t1", "t2"});

    // A wakes up: its result and its "leave pending" are both refused, and
    // nothing of them is stored.
    const auto reserved = a->reserve_judge_budget("primary", "2026-11-17", 0.1, 10);
    REQUIRE(reserved.ok());
    REQUIRE(reserved->granted);
    JudgeOutcome late = scored_outcome("t1", 0.3);
    late.settle = {reserved->id};
    const auto w = a->write_judge_outcome(late);
    REQUIRE(w.ok());
    CHECK_FALSE(w->stored);
    CHECK(w->lease_lost.find("lease lost") != std::string::npos);
    CHECK(w->lease_lost.find("host-b:1:b") != std::string::npos);
    JudgeOutcome release;
    release.trace_id = "t2";
    release.scorer = "helpful";
    release.scorer_version = "1.x";
    CHECK(lost(a->write_judge_outcome(release)));
    CHECK(db->value("SELECT count(*) FROM judgements") == 0);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE decision = 'scored'") == 0);
    CHECK(db->value("SELECT count(*) FROM judge_cache") == 0);
    CHECK(db->value("SELECT count(*) FROM judge_spend") == 0);
    CHECK(db->value("SELECT count(*) FROM judge_reservations") == 1);  // not settled
    CHECK(db->value("SELECT count(*) FROM judge_queue WHERE attempts = 0 AND claimed_by = '" +
                    ob.judge_claimant + "'") == 2);

    // B's write lands; afterwards A is still refused (the task left the queue).
    JudgeOutcome mine = scored_outcome("t1", 0.2);
    mine.score->score->value = 2;
    REQUIRE(stored(b->write_judge_outcome(mine)));
    CHECK(lost(a->write_judge_outcome(late)));
    CHECK(db->value("SELECT count(*) FROM judgements") == 1);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE trace_id = 't1' AND value = 2") == 1);
    CHECK(db->value("SELECT calls FROM judge_spend") == 1);
    // An expired claim nobody took is still its holder's to write.
    auto c = open_two_versions(*db, oa);
    CHECK(db->value("UPDATE judge_queue SET claimed_by = '" + oa.judge_claimant +
                    "', claimed_until_ms = 1") == -1);
    REQUIRE(stored(c->write_judge_outcome(release)));
    CHECK(db->value("SELECT attempts FROM judge_queue_view WHERE trace_id = 't2'") == 1);
}

TEST_CASE_TEMPLATE("store judge: budget reservations are granted within the budget and settled", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    StoreOptions oa;
    oa.judge_claimant = "host-a:1:a";
    oa.judge_lease_ms = 300;
    auto a = open_two_versions(*db, oa);
    StoreOptions ob;
    ob.judge_claimant = "host-b:1:b";
    auto b = open_two_versions(*db, ob);
    REQUIRE(a->write(queued(1)).ok());

    auto r1 = a->reserve_judge_budget("primary", "2026-11-17", 0.4, 1.0);
    auto r2 = b->reserve_judge_budget("primary", "2026-11-17", 0.4, 1.0);
    auto r3 = a->reserve_judge_budget("primary", "2026-11-17", 0.4, 1.0);
    REQUIRE(r1.ok());
    REQUIRE(r2.ok());
    REQUIRE(r3.ok());
    CHECK(r1->granted);
    CHECK(r2->granted);
    CHECK_FALSE(r3->granted);
    CHECK(r3->spent == doctest::Approx(0));
    CHECK(r3->reserved == doctest::Approx(0.8));
    CHECK(a->reserve_judge_budget("other", "2026-11-17", 0.4, 1.0)->granted);    // per judge
    CHECK(a->reserve_judge_budget("primary", "2026-11-18", 0.4, 1.0)->granted);  // per day

    // The outcome replaces r1's estimate (0.4) by the actual cost (0.1).
    REQUIRE(ids(a->claim_judge_tasks("helpful", "1.x", 10, {})) == std::set<std::string>{"t1"});
    JudgeOutcome o = scored_outcome("t1", 0.1);
    o.settle = {r1->id};
    REQUIRE(stored(a->write_judge_outcome(o)));
    auto r4 = b->reserve_judge_budget("primary", "2026-11-17", 0.5, 1.0);
    REQUIRE(r4.ok());
    CHECK(r4->granted);  // 0.1 + 0.4 + 0.5
    CHECK(r4->spent == doctest::Approx(0.1));
    CHECK_FALSE(b->reserve_judge_budget("primary", "2026-11-17", 0.01, 1.0)->granted);
    REQUIRE(b->release_judge_budget({r4->id, 999999}).ok());
    CHECK(b->reserve_judge_budget("primary", "2026-11-17", 0.01, 1.0)->granted);

    // A renews its reservations with every claim; once it stops (a dead
    // worker) they lapse after the lease and free the budget.
    CHECK(a->reserve_judge_budget("primary", "2026-11-17", 0.3, 2.0)->granted);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE(a->claim_judge_tasks("helpful", "1.x", 0, {}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto kept = b->reserve_judge_budget("primary", "2026-11-17", 0.0, 2.0);
    REQUIRE(kept.ok());
    CHECK(kept->reserved == doctest::Approx(0.4 + 0.01 + 0.3));  // r2, b's 0.01, A's 0.3
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto lapsed = b->reserve_judge_budget("primary", "2026-11-17", 0.0, 2.0);
    REQUIRE(lapsed.ok());
    CHECK(lapsed->reserved == doctest::Approx(0.4 + 0.01));
}

TEST_CASE_TEMPLATE("store judge: workers racing for the budget never exceed it", B, SqliteBackend,
                   PostgresBackend) {
    auto db = B::make();
    constexpr int k_workers = 3;
    std::vector<std::unique_ptr<Store>> stores;
    for (int i = 0; i < k_workers; ++i) {
        StoreOptions o;
        o.judge_claimant = "host:" + std::to_string(i + 1) + ":w";
        stores.push_back(open_two_versions(*db, o));
    }
    std::vector<int> granted(k_workers, 0);
    std::vector<int> failed(k_workers, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < k_workers; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 40; ++n) {
                auto r = stores[static_cast<size_t>(i)]->reserve_judge_budget(
                    "primary", "2026-11-17", 0.07, 1.0);
                if (!r.ok()) {
                    ++failed[static_cast<size_t>(i)];
                } else if (r->granted) {
                    ++granted[static_cast<size_t>(i)];
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    int total = 0;
    for (int i = 0; i < k_workers; ++i) {
        CHECK(failed[static_cast<size_t>(i)] == 0);
        total += granted[static_cast<size_t>(i)];
    }
    CHECK(total == 14);  // floor(1.0 / 0.07): filled exactly, never past
    CHECK(db->value("SELECT count(*) FROM judge_reservations") == 14);
    CHECK(db->value("SELECT count(DISTINCT claimant) FROM judge_reservations") >= 1);
}

TEST_CASE("store judge: three connections claiming at once never share a task <postgres>") {
    testing::PostgresTestDb db;
    constexpr int k_tasks = 300;
    constexpr int k_workers = 3;
    {
        auto s = open_two_versions(db);
        REQUIRE(s->write(queued(k_tasks)).ok());
    }
    std::vector<std::unique_ptr<Store>> stores;
    for (int i = 0; i < k_workers; ++i) {
        StoreOptions o;
        o.judge_claimant = "host:" + std::to_string(i + 1) + ":w";
        stores.push_back(open_two_versions(db, o));
    }
    std::vector<std::vector<std::string>> got(k_workers);
    std::vector<std::string> errors(k_workers);
    std::vector<std::thread> threads;
    for (int i = 0; i < k_workers; ++i) {
        threads.emplace_back([&, i] {
            Store& s = *stores[static_cast<size_t>(i)];
            while (true) {
                auto batch = s.claim_judge_tasks("helpful", "1.x", 7, {});
                if (!batch.ok()) {
                    errors[static_cast<size_t>(i)] = batch.status().message();
                    return;
                }
                if (batch->empty()) {
                    return;
                }
                for (const auto& t : *batch) {
                    got[static_cast<size_t>(i)].push_back(t.trace_id);
                    auto w = s.write_judge_outcome(scored_outcome(t.trace_id, 0.01));
                    if (!w.ok() || !w->stored) {
                        errors[static_cast<size_t>(i)] =
                            w.ok() ? w->lease_lost : w.status().message();
                        return;
                    }
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> all;
    size_t returned = 0;
    for (int i = 0; i < k_workers; ++i) {
        CHECK_MESSAGE(errors[static_cast<size_t>(i)].empty(), errors[static_cast<size_t>(i)]);
        returned += got[static_cast<size_t>(i)].size();
        all.insert(got[static_cast<size_t>(i)].begin(), got[static_cast<size_t>(i)].end());
    }
    CHECK(returned == k_tasks);  // no task returned twice
    CHECK(all.size() == k_tasks);
    CHECK(db.value("SELECT count(*) FROM judge_queue") == 0);
    CHECK(db.value("SELECT count(*) FROM judgements") == k_tasks);
    CHECK(db.value("SELECT calls FROM judge_spend") == k_tasks);
}

TEST_CASE_TEMPLATE("store judge: a batch of outcomes is fenced per outcome in one transaction", B,
                   SqliteBackend, PostgresBackend) {
    auto db = B::make();
    StoreOptions oa;
    oa.judge_claimant = "host-a:1:a";
    StoreOptions ob;
    ob.judge_claimant = "host-b:1:b";
    auto a = open_two_versions(*db, oa);
    auto b = open_two_versions(*db, ob);
    REQUIRE(a->write(queued(3)).ok());
    CHECK(ids(a->claim_judge_tasks("helpful", "1.x", 10, {})) ==
          std::set<std::string>{"t1", "t2", "t3"});
    // t2 is B's now (A's lease ran out and B took it over).
    db->value(
        "UPDATE judge_queue SET claimed_by = 'host-b:1:b' WHERE trace = (SELECT id FROM traces "
        "WHERE trace_id = 't2')");

    const auto w = a->write_judge_outcomes(
        {scored_outcome("t1", 0.1), scored_outcome("t2", 0.2), scored_outcome("t3", 0.4)});
    REQUIRE_MESSAGE(w.ok(), w.status().message());
    REQUIRE(w->size() == 3);
    CHECK((*w)[0].stored);
    CHECK((*w)[0].lease_lost.empty());
    CHECK_FALSE((*w)[1].stored);
    CHECK((*w)[1].lease_lost.find("lease lost") != std::string::npos);
    CHECK((*w)[1].lease_lost.find("host-b:1:b") != std::string::npos);
    CHECK((*w)[2].stored);
    // The good ones landed; the fenced one wrote nothing.
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE decision = 'scored'") == 2);
    CHECK(db->value("SELECT count(*) FROM scores_view WHERE decision = 'scored' AND trace_id = "
                    "'t2'") == 0);
    CHECK(db->value("SELECT count(*) FROM judgements") == 2);
    CHECK(db->value("SELECT count(*) FROM judge_cache WHERE request_hash = 'h-t2'") == 0);
    CHECK(db->value("SELECT count(*) FROM judge_cache") == 2);
    CHECK(db->value("SELECT count(*) FROM judge_queue") == 1);
    CHECK(db->value("SELECT count(*) FROM judge_queue_view WHERE trace_id = 't2' AND claimed_by = "
                    "'host-b:1:b' AND attempts = 0") == 1);
    auto spend = a->judge_spend("primary", "2026-11-17");
    REQUIRE(spend.ok());
    CHECK(spend->calls == 2);
    CHECK(spend->cost_usd == doctest::Approx(0.5));

    // One outcome the store refuses (an unknown trace): nothing of the batch
    // is stored, not even B's good release of t2.
    JudgeOutcome release;
    release.trace_id = "t2";
    release.scorer = "helpful";
    release.scorer_version = "1.x";
    JudgeOutcome bad = release;
    bad.trace_id = "nope";
    CHECK(b->write_judge_outcomes({release, bad}).status().code() == StatusCode::not_found);
    CHECK(db->value("SELECT count(*) FROM judge_queue_view WHERE trace_id = 't2' AND claimed_by = "
                    "'host-b:1:b' AND attempts = 0") == 1);
    const auto alone = b->write_judge_outcomes({release});
    REQUIRE(alone.ok());
    REQUIRE(alone->size() == 1);
    CHECK((*alone)[0].stored);
    CHECK(db->value("SELECT count(*) FROM judge_queue_view WHERE trace_id = 't2' AND claimed_by "
                    "IS NULL AND attempts = 1") == 1);
    CHECK(b->write_judge_outcomes({})->empty());
}
