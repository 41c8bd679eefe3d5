// SqliteStore: the LLM-judge queries (store.h, "LLM judges"). Kept apart from
// the hot trace/score path in store.cpp. All SQL is parameterised. Slightly
// over ~400 lines: one job, the judge queue's life cycle (claims with lease
// renewal and dead-claimant recovery, the outcome written in one
// transaction, spend and cache).
#include <sqlite3.h>

#include <chrono>

#include "core/clock.h"
#include "store/judge_claimant.h"
#include "store/sqlite/score_row.h"
#include "store/sqlite/stmt.h"
#include "store/sqlite/store.h"

namespace assay {

namespace {

using sqlite_detail::Stmt;

const char* k_insert_judgement = R"sql(
INSERT INTO judgements (trace, scorer_version, judge, model, rubric, rubric_version, rubric_hash,
  score, passed, choice, reasoning, input_tokens, output_tokens, cost_usd, latency_ms, attempts,
  cached, error_type, error_message, at_ms, reasoning_tokens, cached_input_tokens)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
  ?21, ?22)
)sql";

const char* k_insert_cache = R"sql(
INSERT INTO judge_cache (request_hash, judge, model, reply, input_tokens, output_tokens, at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (request_hash) DO NOTHING
)sql";

const char* k_add_spend = R"sql(
INSERT INTO judge_spend (judge, day, calls, input_tokens, output_tokens, cost_usd, cache_hits,
  reasoning_tokens, cached_input_tokens)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (judge, day) DO UPDATE SET calls = calls + excluded.calls,
  input_tokens = input_tokens + excluded.input_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
  cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
  cost_usd = cost_usd + excluded.cost_usd, cache_hits = cache_hits + excluded.cache_hits
)sql";

}  // namespace

Result<std::vector<PendingJudgeTask>> SqliteStore::claim_judge_tasks(
    const std::string& scorer, const std::string& scorer_version, int limit,
    const std::vector<std::string>& skip) {
    auto version = version_id(scorer, scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    std::vector<PendingJudgeTask> out;
    const int64_t now = now_ms();
    const int64_t until = now + m_judge_lease_ms;
    ASSAY_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
        // Renew this claimant's claims (its in-flight tasks) first.
        Stmt renew;
        if (renew.prepare(m_db,
                          "UPDATE judge_queue SET claimed_until_ms = ?3 "
                          "WHERE scorer_version = ?1 AND claimed_by = ?2") != SQLITE_OK) {
            return error("preparing judge claim renewal");
        }
        renew.bind_int(1, *version);
        renew.bind_text(2, m_claimant);
        renew.bind_int(3, until);
        if (renew.step() != SQLITE_DONE) {
            return error("renewing judge claims");
        }
        Stmt keep;  // and its budget reservations (calls in flight)
        if (keep.prepare(m_db,
                         "UPDATE judge_reservations SET expires_ms = ?2 WHERE claimant = ?1") !=
            SQLITE_OK) {
            return error("preparing budget reservation renewal");
        }
        keep.bind_text(1, m_claimant);
        keep.bind_int(2, until);
        if (keep.step() != SQLITE_DONE) {
            return error("renewing budget reservations");
        }
        // Candidates: unclaimed, ours, expired, or held by another claimant
        // that may be a dead process of this host (checked below).
        Stmt sel;
        if (sel.prepare(
                m_db,
                "SELECT q.trace, t.trace_id, t.raw, q.enqueued_ms, q.attempts, q.claimed_by, "
                "coalesce(q.claimed_until_ms, 0) "
                "FROM judge_queue q JOIN traces t ON t.id = q.trace "
                "WHERE q.scorer_version = ?1 AND (q.claimed_by IS NULL OR q.claimed_by = ?2 "
                "OR q.claimed_until_ms IS NULL OR q.claimed_until_ms < ?3 "
                "OR substr(q.claimed_by, 1, length(?4)) = ?4) "
                "ORDER BY q.enqueued_ms, q.trace") != SQLITE_OK) {
            return error("preparing judge queue claim");
        }
        const std::string host_prefix = m_claimant.substr(0, m_claimant.find(':') + 1);
        sel.bind_int(1, *version);
        sel.bind_text(2, m_claimant);
        sel.bind_int(3, now);
        sel.bind_text(4, host_prefix);
        std::vector<int64_t> rows;
        int rc = 0;
        while (static_cast<int>(out.size()) < limit && (rc = sel.step()) == SQLITE_ROW) {
            std::string id = sel.col_text(1);
            bool skipped = false;
            for (const auto& s : skip) {
                skipped = skipped || s == id;
            }
            if (skipped) {
                continue;
            }
            const std::string holder = sel.col_text(5);
            // A live same-host claimant's unexpired claim is left alone.
            const bool claimable = holder.empty() || holder == m_claimant || sel.col_int(6) < now ||
                                   judge_claimant_dead_here(holder);
            if (!claimable) {
                continue;
            }
            rows.push_back(sel.col_int(0));
            PendingJudgeTask t;
            t.trace_id = std::move(id);
            t.scorer = scorer;
            t.scorer_version = scorer_version;
            t.raw = sel.col_text(2);
            t.enqueued_ms = sel.col_int(3);
            t.attempts = static_cast<int32_t>(sel.col_int(4));
            out.push_back(std::move(t));
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW && rc != SQLITE_OK) {  // OK: limit 0, no step
            return error("reading the judge queue");
        }
        sel.reset();
        Stmt claim;
        if (!rows.empty() &&
            claim.prepare(m_db,
                          "UPDATE judge_queue SET claimed_by = ?3, claimed_until_ms = ?4 "
                          "WHERE trace = ?1 AND scorer_version = ?2") != SQLITE_OK) {
            return error("preparing judge claim");
        }
        for (int64_t row : rows) {
            claim.reset();
            claim.bind_int(1, row);
            claim.bind_int(2, *version);
            claim.bind_text(3, m_claimant);
            claim.bind_int(4, until);
            if (claim.step() != SQLITE_DONE) {
                return error("claiming judge tasks");
            }
        }
        return {};
    }();
    if (st.ok()) {
        st = exec("COMMIT");
        if (st.ok()) {
            return out;
        }
    }
    (void)exec("ROLLBACK");  // best effort: the error being returned matters more
    return st;
}

Status SqliteStore::write_judge_locked(const JudgeOutcome& o, std::string& lost) {
    auto trace = trace_row_id(o.trace_id, -1, {});
    if (!trace.ok()) {
        return trace.status();
    }
    auto version = version_id(o.scorer, o.scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    ASSAY_RETURN_IF_ERROR(check_claim_locked(*trace, *version, o, lost));
    if (!lost.empty()) {
        return {};  // fenced off: nothing is written
    }
    if (o.score) {
        const ScoreRow& r = *o.score;
        Stmt sc;
        if (sc.prepare(m_db, sqlite_detail::k_upsert_score) != SQLITE_OK) {
            return error("preparing judge score");
        }
        sqlite_detail::bind_score_row(sc, *trace, *version, r);
        if (sc.step() != SQLITE_DONE) {
            return error("storing judge score for trace '" + o.trace_id + "'");
        }
        Stmt mh;
        if (mh.prepare(m_db, sqlite_detail::k_mark_trace_hour) != SQLITE_OK) {
            return error("preparing the changed hour");
        }
        mh.bind_int(1, *trace);
        mh.bind_int(2, r.at_ms);
        if (mh.step() != SQLITE_DONE) {
            return error("recording the changed hour of trace '" + o.trace_id + "'");
        }
    }
    Stmt q;
    const char* queue_sql =
        o.score ? "DELETE FROM judge_queue WHERE trace = ?1 AND scorer_version = ?2"
                : "UPDATE judge_queue SET attempts = attempts + 1, claimed_by = NULL, "
                  "claimed_until_ms = NULL WHERE trace = ?1 AND scorer_version = ?2";
    if (q.prepare(m_db, queue_sql) != SQLITE_OK) {
        return error("preparing judge queue update");
    }
    q.bind_int(1, *trace);
    q.bind_int(2, *version);
    if (q.step() != SQLITE_DONE) {
        return error("updating the judge queue");
    }
    Stmt j;
    if (!o.judgements.empty() && j.prepare(m_db, k_insert_judgement) != SQLITE_OK) {
        return error("preparing judgement insert");
    }
    for (const JudgementRecord& r : o.judgements) {
        j.reset();
        j.bind_int(1, *trace);
        j.bind_int(2, *version);
        j.bind_text(3, r.judge);
        j.bind_text(4, r.model);
        j.bind_text(5, r.rubric);
        j.bind_text(6, r.rubric_version);
        j.bind_text(7, r.rubric_hash);
        j.bind_opt(8, r.score);
        j.bind_opt(9, r.passed);
        j.bind_text_or_null(10, r.choice);
        j.bind_text_or_null(11, r.reasoning);
        j.bind_int(12, r.input_tokens);
        j.bind_int(13, r.output_tokens);
        j.bind_double(14, r.cost_usd);
        j.bind_double(15, r.latency_ms);
        j.bind_int(16, r.attempts);
        j.bind_int(17, r.cached ? 1 : 0);
        j.bind_text_or_null(18, r.error_type);
        j.bind_text_or_null(19, r.error_message);
        j.bind_int(20, r.at_ms);
        j.bind_int(21, r.reasoning_tokens);
        j.bind_int(22, r.cached_input_tokens);
        if (j.step() != SQLITE_DONE) {
            return error("storing judgement of '" + r.judge + "' for trace '" + o.trace_id + "'");
        }
    }
    ASSAY_RETURN_IF_ERROR(write_cache_and_spend_locked(o.cache, o.spend));
    return release_budget_locked(o.settle);
}

Status SqliteStore::check_claim_locked(int64_t trace, int64_t version, const JudgeOutcome& o,
                                       std::string& lost) {
    Stmt c;
    if (c.prepare(m_db,
                  "SELECT coalesce(claimed_by, '') FROM judge_queue "
                  "WHERE trace = ?1 AND scorer_version = ?2") != SQLITE_OK) {
        return error("preparing judge claim check");
    }
    c.bind_int(1, trace);
    c.bind_int(2, version);
    const int rc = c.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return error("checking the judge claim");
    }
    const std::string holder = rc == SQLITE_ROW ? c.col_text(0) : std::string();
    if (rc == SQLITE_ROW && holder == m_claimant) {
        return {};
    }
    lost = judge_lease_lost(o, rc == SQLITE_ROW, holder);
    return {};
}

Status SqliteStore::write_cache_and_spend_locked(const std::vector<JudgeCacheEntry>& cache,
                                                 const std::vector<JudgeSpend>& spend) {
    Stmt c;
    if (!cache.empty() && c.prepare(m_db, k_insert_cache) != SQLITE_OK) {
        return error("preparing judge cache insert");
    }
    for (const JudgeCacheEntry& e : cache) {
        c.reset();
        c.bind_text(1, e.request_hash);
        c.bind_text(2, e.judge);
        c.bind_text(3, e.model);
        c.bind_text(4, e.reply);
        c.bind_int(5, e.input_tokens);
        c.bind_int(6, e.output_tokens);
        c.bind_int(7, e.at_ms);
        if (c.step() != SQLITE_DONE) {
            return error("storing judge cache entry");
        }
    }
    Stmt s;
    if (!spend.empty() && s.prepare(m_db, k_add_spend) != SQLITE_OK) {
        return error("preparing judge spend update");
    }
    for (const JudgeSpend& d : spend) {
        s.reset();
        s.bind_text(1, d.judge);
        s.bind_text(2, d.day);
        s.bind_int(3, d.calls);
        s.bind_int(4, d.input_tokens);
        s.bind_int(5, d.output_tokens);
        s.bind_double(6, d.cost_usd);
        s.bind_int(7, d.cache_hits);
        s.bind_int(8, d.reasoning_tokens);
        s.bind_int(9, d.cached_input_tokens);
        if (s.step() != SQLITE_DONE) {
            return error("updating judge spend");
        }
    }
    return {};
}

Status SqliteStore::in_write_txn(const std::function<Status()>& body) {
    ASSAY_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status st = body();
    if (st.ok()) {
        st = exec("COMMIT");
        if (st.ok()) {
            return {};
        }
    }
    (void)exec("ROLLBACK");  // best effort: the error being returned matters more
    return st;
}

Result<std::vector<JudgeWrite>> SqliteStore::write_judge_outcomes(
    const std::vector<JudgeOutcome>& outcomes) {
    std::vector<JudgeWrite> out;
    if (outcomes.empty()) {
        return out;
    }
    const Status st = in_write_txn([&] {
        out.clear();
        for (const JudgeOutcome& o : outcomes) {
            std::string lost;
            ASSAY_RETURN_IF_ERROR(write_judge_locked(o, lost));
            out.push_back(JudgeWrite{lost.empty(), std::move(lost)});
        }
        return Status{};
    });
    if (!st.ok()) {
        return st;
    }
    return out;
}

Status SqliteStore::record_llm_calls(const std::vector<JudgeCacheEntry>& cache,
                                     const std::vector<JudgeSpend>& spend) {
    if (cache.empty() && spend.empty()) {
        return {};
    }
    return in_write_txn([&] { return write_cache_and_spend_locked(cache, spend); });
}

Result<std::optional<JudgeCacheEntry>> SqliteStore::judge_cache_get(
    const std::string& request_hash) {
    Stmt st;
    if (st.prepare(
            m_db,
            "SELECT judge, model, reply, input_tokens, output_tokens, at_ms FROM judge_cache "
            "WHERE request_hash = ?1") != SQLITE_OK) {
        return error("preparing judge cache lookup");
    }
    st.bind_text(1, request_hash);
    int rc = st.step();
    if (rc == SQLITE_DONE) {
        return std::optional<JudgeCacheEntry>();
    }
    if (rc != SQLITE_ROW) {
        return error("reading the judge cache");
    }
    JudgeCacheEntry e;
    e.request_hash = request_hash;
    e.judge = st.col_text(0);
    e.model = st.col_text(1);
    e.reply = st.col_text(2);
    e.input_tokens = st.col_int(3);
    e.output_tokens = st.col_int(4);
    e.at_ms = st.col_int(5);
    return std::optional<JudgeCacheEntry>(std::move(e));
}

Result<JudgeSpend> SqliteStore::judge_spend(const std::string& judge, const std::string& day) {
    Stmt st;
    if (st.prepare(
            m_db,
            "SELECT calls, input_tokens, output_tokens, cost_usd, cache_hits FROM judge_spend "
            "WHERE judge = ?1 AND day = ?2") != SQLITE_OK) {
        return error("preparing judge spend lookup");
    }
    st.bind_text(1, judge);
    st.bind_text(2, day);
    JudgeSpend out;
    out.judge = judge;
    out.day = day;
    int rc = st.step();
    if (rc == SQLITE_ROW) {
        out.calls = st.col_int(0);
        out.input_tokens = st.col_int(1);
        out.output_tokens = st.col_int(2);
        out.cost_usd = st.col_double(3);
        out.cache_hits = st.col_int(4);
    } else if (rc != SQLITE_DONE) {
        return error("reading judge spend");
    }
    return out;
}

Result<JudgeStatusReport> SqliteStore::judge_status(const std::string& day, int recent_errors) {
    JudgeStatusReport out;
    Stmt q;
    if (q.prepare(m_db,
                  "SELECT v.scorer, v.version, count(*), min(q.enqueued_ms) FROM judge_queue q "
                  "JOIN scorer_versions v ON v.id = q.scorer_version "
                  "GROUP BY q.scorer_version ORDER BY v.scorer, v.version") != SQLITE_OK) {
        return error("preparing judge queue depth");
    }
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) {
        out.queue.push_back({q.col_text(0), q.col_text(1), q.col_int(2), q.col_int(3)});
    }
    if (rc != SQLITE_DONE) {
        return error("reading judge queue depth");
    }
    Stmt s;
    if (s.prepare(m_db,
                  "SELECT judge, day, calls, input_tokens, output_tokens, cost_usd, cache_hits, "
                  "reasoning_tokens, cached_input_tokens "
                  "FROM judge_spend WHERE day = ?1 ORDER BY judge") != SQLITE_OK) {
        return error("preparing judge spend read");
    }
    s.bind_text(1, day);
    while ((rc = s.step()) == SQLITE_ROW) {
        out.spend.push_back({s.col_text(0), s.col_text(1), s.col_int(2), s.col_int(3), s.col_int(4),
                             s.col_double(5), s.col_int(6), s.col_int(7), s.col_int(8)});
    }
    if (rc != SQLITE_DONE) {
        return error("reading judge spend");
    }
    Stmt e;
    if (e.prepare(
            m_db,
            "SELECT trace_id, scorer, judge, error_type, error_message, at_ms FROM judgements_view "
            "WHERE error_type IS NOT NULL ORDER BY id DESC LIMIT ?1") != SQLITE_OK) {
        return error("preparing judge error read");
    }
    e.bind_int(1, recent_errors);
    while ((rc = e.step()) == SQLITE_ROW) {
        out.recent_errors.push_back({e.col_text(0), e.col_text(1), e.col_text(2), e.col_text(3),
                                     e.col_text(4), e.col_int(5)});
    }
    if (rc != SQLITE_DONE) {
        return error("reading judge errors");
    }
    Stmt l;
    if (l.prepare(
            m_db,
            "SELECT trace_id, scorer, judge, error_type, error_message, at_ms FROM judgements_view "
            "WHERE id IN (SELECT max(id) FROM judgements GROUP BY judge) ORDER BY judge") !=
        SQLITE_OK) {
        return error("preparing last judgement read");
    }
    while ((rc = l.step()) == SQLITE_ROW) {
        out.last_by_judge.push_back({l.col_text(0), l.col_text(1), l.col_text(2), l.col_text(3),
                                     l.col_text(4), l.col_int(5)});
    }
    if (rc != SQLITE_DONE) {
        return error("reading last judgements");
    }
    return out;
}

Result<std::vector<PendingJudgeTask>> SqliteStore::queued_judge_tasks(
    const std::string& scorer, const std::string& scorer_version) {
    auto version = version_id(scorer, scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    Stmt sel;
    if (sel.prepare(m_db,
                    "SELECT t.trace_id, t.raw, q.enqueued_ms, q.attempts "
                    "FROM judge_queue q JOIN traces t ON t.id = q.trace "
                    "WHERE q.scorer_version = ?1 ORDER BY q.enqueued_ms, q.trace") != SQLITE_OK) {
        return error("preparing judge queue listing");
    }
    sel.bind_int(1, *version);
    std::vector<PendingJudgeTask> out;
    int rc = 0;
    while ((rc = sel.step()) == SQLITE_ROW) {
        PendingJudgeTask t;
        t.trace_id = sel.col_text(0);
        t.scorer = scorer;
        t.scorer_version = scorer_version;
        t.raw = sel.col_text(1);
        t.enqueued_ms = sel.col_int(2);
        t.attempts = static_cast<int32_t>(sel.col_int(3));
        out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) {
        return error("reading the judge queue");
    }
    return out;
}

Result<std::vector<BackfillCandidate>> SqliteStore::backfill_candidates(const BackfillQuery& q) {
    Stmt v;
    if (v.prepare(m_db, "SELECT id FROM scorer_versions WHERE scorer = ?1 AND version = ?2") !=
        SQLITE_OK) {
        return error("preparing scorer version lookup");
    }
    v.bind_text(1, q.scorer);
    v.bind_text(2, q.scorer_version);
    int rc = v.step();
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? Status::not_found("scorer '" + q.scorer + "' version '" +
                                                     q.scorer_version + "' is not in the store")
                                 : error("looking up scorer version");
    }
    const int64_t version = v.col_int(0);
    // Decisions 0 scored, 3 skipped_missing_input and 4 pending are final or
    // in progress: those traces are never judged twice.
    Stmt st;
    if (st.prepare(m_db,
                   "SELECT t.trace_id, t.raw FROM traces t "
                   "WHERE (?1 IS NULL OR t.ts_ms >= ?1) AND (?2 = '' OR t.feature = ?2) "
                   "AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.trace = t.id "
                   "AND s.scorer_version = ?3 AND s.decision IN (0, 3, 4)) "
                   "ORDER BY t.ts_ms, t.id LIMIT ?4") != SQLITE_OK) {
        return error("preparing backfill query");
    }
    st.bind_opt(1, q.since_ms);
    st.bind_text(2, q.feature);
    st.bind_int(3, version);
    st.bind_int(4, q.limit > 0 ? q.limit : -1);
    std::vector<BackfillCandidate> out;
    while ((rc = st.step()) == SQLITE_ROW) {
        out.push_back({st.col_text(0), st.col_text(1)});
    }
    if (rc != SQLITE_DONE) {
        return error("running backfill query");
    }
    return out;
}

}  // namespace assay
