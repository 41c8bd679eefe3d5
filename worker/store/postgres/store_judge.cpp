// PostgresStore: the LLM-judge methods of store.h, same meaning as
// SqliteStore's (sqlite/store_judge.cpp), for several workers sharing one
// database. Claims take queue rows FOR UPDATE SKIP LOCKED (two claimers never
// wait on or share a row) with a lease; an outcome locks its queue row FOR
// UPDATE and is written only while this claimant holds it (fencing). Rows of
// one write are sorted by key so concurrent writers lock in the same order.
// All SQL is parameterised. Over ~400 lines for one job: the judge queue's
// life cycle on PostgreSQL.
#include <algorithm>
#include <map>
#include <tuple>

#include "core/clock.h"
#include "store/judge_claimant.h"
#include "store/postgres/conn.h"
#include "store/postgres/multi_insert.h"
#include "store/postgres/store.h"

namespace assay {

using pg::PgParams;
using pg::PgResult;

namespace {

// A PostgreSQL array literal ("{"a","b"}") of `v`, for `= ANY($n::text[])`.
std::string text_array(const std::vector<std::string>& v) {
    std::string out = "{";
    for (size_t i = 0; i < v.size(); ++i) {
        out += i > 0 ? ",\"" : "\"";
        for (char c : v[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string int_array(const std::vector<int64_t>& v) {
    std::string out = "{";
    for (size_t i = 0; i < v.size(); ++i) {
        out += (i > 0 ? "," : "") + std::to_string(v[i]);
    }
    return out + "}";
}

PendingJudgeTask pending_task(const PgResult& r, int row, int first, const std::string& scorer,
                              const std::string& version) {
    PendingJudgeTask t;
    t.trace_id = r.text(row, first);
    t.scorer = scorer;
    t.scorer_version = version;
    t.raw = r.text(row, first + 1);
    t.enqueued_ms = r.integer(row, first + 2);
    t.attempts = static_cast<int32_t>(r.integer(row, first + 3));
    return t;
}

}  // namespace

Result<std::vector<PendingJudgeTask>> PostgresStore::claim_judge_tasks(
    const std::string& scorer, const std::string& scorer_version, int limit,
    const std::vector<std::string>& skip) {
    auto version = version_id(scorer, scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    const int64_t now = now_ms();
    const int64_t until = now + m_judge_lease_ms;
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    {  // Renew this claimant's claims (its in-flight tasks) and budget reservations.
        PgParams p;
        const std::string sql = "UPDATE judge_queue SET claimed_until_ms = " + p.integer(until) +
                                " WHERE scorer_version = " + p.integer(*version) +
                                " AND claimed_by = " + p.text(m_claimant);
        ASSAY_RETURN_IF_ERROR(m_conn->exec(sql, p, "renewing judge claims").status());
        PgParams r;
        const std::string keep = "UPDATE judge_reservations SET expires_ms = " + r.integer(until) +
                                 " WHERE claimant = " + r.text(m_claimant);
        ASSAY_RETURN_IF_ERROR(m_conn->exec(keep, r, "renewing budget reservations").status());
    }
    std::vector<PendingJudgeTask> out;
    if (limit <= 0) {
        ASSAY_RETURN_IF_ERROR(txn.commit());
        return out;
    }
    // Unexpired claims of other claimants of this host whose process is gone.
    std::vector<std::string> dead;
    {
        const std::string host_prefix = m_claimant.substr(0, m_claimant.find(':') + 1);
        PgParams p;
        const std::string prefix = p.text(host_prefix) + "::text";
        const std::string sql =
            "SELECT DISTINCT claimed_by FROM judge_queue WHERE scorer_version = " +
            p.integer(*version) + " AND claimed_by <> " + p.text(m_claimant) +
            " AND claimed_until_ms >= " + p.integer(now) + " AND left(claimed_by, length(" +
            prefix + ")) = " + prefix;
        auto r = m_conn->exec(sql, p, "reading judge claimants");
        if (!r.ok()) {
            return r.status();
        }
        for (int i = 0; i < r->rows(); ++i) {
            std::string holder = r->text(i, 0);
            if (judge_claimant_dead_here(holder)) {
                dead.push_back(std::move(holder));
            }
        }
    }
    PgParams p;
    const std::string v = p.integer(*version);
    const std::string me = p.text(m_claimant);
    const std::string sql =
        "WITH c AS (SELECT q.trace FROM judge_queue q JOIN traces t ON t.id = q.trace "
        "WHERE q.scorer_version = " +
        v + " AND (q.claimed_by IS NULL OR q.claimed_by = " + me +
        " OR q.claimed_until_ms IS NULL OR q.claimed_until_ms < " + p.integer(now) +
        " OR q.claimed_by = ANY(" + p.text(text_array(dead)) +
        "::text[])) AND NOT (t.trace_id = ANY(" + p.text(text_array(skip)) +
        "::text[])) ORDER BY q.enqueued_ms, q.trace LIMIT " + p.integer(limit) +
        " FOR UPDATE OF q SKIP LOCKED) "
        "UPDATE judge_queue q SET claimed_by = " +
        me + ", claimed_until_ms = " + p.integer(until) +
        " FROM c, traces t WHERE q.scorer_version = " + v +
        " AND q.trace = c.trace AND t.id = q.trace "
        "RETURNING q.enqueued_ms, q.trace, t.trace_id, t.raw, q.enqueued_ms, q.attempts";
    auto r = m_conn->exec(sql, p, "claiming judge tasks");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<std::tuple<int64_t, int64_t, int>> order;  // (enqueued_ms, trace, row)
    for (int i = 0; i < r->rows(); ++i) {
        order.emplace_back(r->integer(i, 0), r->integer(i, 1), i);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [enq, trace, row] : order) {
        out.push_back(pending_task(*r, row, 2, scorer, scorer_version));
    }
    ASSAY_RETURN_IF_ERROR(txn.commit());
    return out;
}

Result<std::vector<PendingJudgeTask>> PostgresStore::queued_judge_tasks(
    const std::string& scorer, const std::string& scorer_version) {
    auto version = version_id(scorer, scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    PgParams p;
    const std::string sql =
        "SELECT t.trace_id, t.raw, q.enqueued_ms, q.attempts FROM judge_queue q "
        "JOIN traces t ON t.id = q.trace WHERE q.scorer_version = " +
        p.integer(*version) + " ORDER BY q.enqueued_ms, q.trace";
    auto r = m_conn->exec(sql, p, "reading the judge queue");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<PendingJudgeTask> out;
    out.reserve(static_cast<size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        out.push_back(pending_task(*r, i, 0, scorer, scorer_version));
    }
    return out;
}

Status PostgresStore::write_judge_locked(const JudgeOutcome& o, const TraceIds& locked,
                                         std::string& lost, WriteBatch& scores) {
    auto trace = trace_row_id(o.trace_id, -1, {}, locked);
    if (!trace.ok()) {
        return trace.status();
    }
    auto version = version_id(o.scorer, o.scorer_version);
    if (!version.ok()) {
        return version.status();
    }
    {  // The fence: the queue row, locked, must still be this claimant's.
        PgParams p;
        const std::string sql =
            "SELECT coalesce(claimed_by, '') FROM judge_queue WHERE trace = " + p.integer(*trace) +
            " AND scorer_version = " + p.integer(*version) + " FOR UPDATE";
        auto r = m_conn->exec(sql, p, "checking the judge claim");
        if (!r.ok()) {
            return r.status();
        }
        if (r->rows() == 0 || r->text(0, 0) != m_claimant) {
            lost = judge_lease_lost(o, r->rows() > 0, r->rows() > 0 ? r->text(0, 0) : "");
            return {};  // fenced off: nothing is written
        }
    }
    if (o.score) {
        scores.scores.push_back(*o.score);
        scores.scores.back().batch_index = -1;
        scores.scores.back().trace_id = o.trace_id;
    }
    PgParams p;
    const std::string key =
        " WHERE trace = " + p.integer(*trace) + " AND scorer_version = " + p.integer(*version);
    const std::string sql = o.score ? "DELETE FROM judge_queue" + key
                                    : "UPDATE judge_queue SET attempts = attempts + 1, "
                                      "claimed_by = NULL, claimed_until_ms = NULL" +
                                          key;
    ASSAY_RETURN_IF_ERROR(m_conn->exec(sql, p, "updating the judge queue").status());
    ASSAY_RETURN_IF_ERROR(write_judgements(*trace, *version, o));
    ASSAY_RETURN_IF_ERROR(write_cache_and_spend(o.cache, o.spend));
    return release_budget_locked(o.settle);
}

Status PostgresStore::write_judgements(int64_t trace, int64_t version, const JudgeOutcome& o) {
    return pg::multi_insert(
        *m_conn,
        "INSERT INTO judgements (trace, scorer_version, judge, model, rubric, rubric_version, "
        "rubric_hash, score, passed, choice, reasoning, input_tokens, output_tokens, cost_usd, "
        "latency_ms, attempts, cached, error_type, error_message, at_ms, reasoning_tokens, "
        "cached_input_tokens)",
        "", 22, o.judgements.size(),
        [&](size_t i, PgParams& p) {
            const JudgementRecord& r = o.judgements[i];
            std::string s = "(" + p.integer(trace);
            for (const std::string& v : {p.integer(version),
                                         p.text(r.judge),
                                         p.text(r.model),
                                         p.text(r.rubric),
                                         p.text(r.rubric_version),
                                         p.text(r.rubric_hash),
                                         p.opt(r.score),
                                         p.opt(r.passed),
                                         p.text_or_null(r.choice),
                                         p.text_or_null(r.reasoning),
                                         p.integer(r.input_tokens),
                                         p.integer(r.output_tokens),
                                         p.real(r.cost_usd),
                                         p.real(r.latency_ms),
                                         p.integer(r.attempts),
                                         p.integer(r.cached ? 1 : 0),
                                         p.text_or_null(r.error_type),
                                         p.text_or_null(r.error_message),
                                         p.integer(r.at_ms),
                                         p.integer(r.reasoning_tokens),
                                         p.integer(r.cached_input_tokens)}) {
                s += ", " + v;
            }
            return s + ")";
        },
        "storing judgements for trace '" + o.trace_id + "'");
}

Status PostgresStore::write_cache_and_spend(const std::vector<JudgeCacheEntry>& cache,
                                            const std::vector<JudgeSpend>& spend) {
    std::map<std::string, const JudgeCacheEntry*> entries;  // the first of a hash is kept
    for (const JudgeCacheEntry& e : cache) {
        entries.emplace(e.request_hash, &e);
    }
    std::vector<const JudgeCacheEntry*> c;
    for (const auto& [hash, e] : entries) {
        c.push_back(e);
    }
    ASSAY_RETURN_IF_ERROR(pg::multi_insert(
        *m_conn,
        "INSERT INTO judge_cache (request_hash, judge, model, reply, input_tokens, output_tokens, "
        "at_ms)",
        "ON CONFLICT (request_hash) DO NOTHING", 7, c.size(),
        [&](size_t i, PgParams& p) {
            const JudgeCacheEntry& e = *c[i];
            return "(" + p.text(e.request_hash) + ", " + p.text(e.judge) + ", " + p.text(e.model) +
                   ", " + p.text(e.reply) + ", " + p.integer(e.input_tokens) + ", " +
                   p.integer(e.output_tokens) + ", " + p.integer(e.at_ms) + ")";
        },
        "storing judge cache entries"));
    std::map<std::pair<std::string, std::string>, JudgeSpend> sum;  // one row per key
    for (const JudgeSpend& d : spend) {
        JudgeSpend& s = sum[{d.judge, d.day}];
        s.judge = d.judge;
        s.day = d.day;
        s.calls += d.calls;
        s.input_tokens += d.input_tokens;
        s.output_tokens += d.output_tokens;
        s.cost_usd += d.cost_usd;
        s.cache_hits += d.cache_hits;
        s.reasoning_tokens += d.reasoning_tokens;
        s.cached_input_tokens += d.cached_input_tokens;
    }
    std::vector<const JudgeSpend*> list;
    for (const auto& [key, d] : sum) {
        list.push_back(&d);
    }
    return pg::multi_insert(
        *m_conn,
        "INSERT INTO judge_spend AS s (judge, day, calls, input_tokens, output_tokens, cost_usd, "
        "cache_hits, reasoning_tokens, cached_input_tokens)",
        "ON CONFLICT (judge, day) DO UPDATE SET calls = s.calls + excluded.calls, "
        "input_tokens = s.input_tokens + excluded.input_tokens, "
        "output_tokens = s.output_tokens + excluded.output_tokens, "
        "reasoning_tokens = s.reasoning_tokens + excluded.reasoning_tokens, "
        "cached_input_tokens = s.cached_input_tokens + excluded.cached_input_tokens, "
        "cost_usd = s.cost_usd + excluded.cost_usd, cache_hits = s.cache_hits + "
        "excluded.cache_hits",
        9, list.size(),
        [&](size_t i, PgParams& p) {
            const JudgeSpend& d = *list[i];
            return "(" + p.text(d.judge) + ", " + p.text(d.day) + ", " + p.integer(d.calls) + ", " +
                   p.integer(d.input_tokens) + ", " + p.integer(d.output_tokens) + ", " +
                   p.real(d.cost_usd) + ", " + p.integer(d.cache_hits) + ", " +
                   p.integer(d.reasoning_tokens) + ", " + p.integer(d.cached_input_tokens) + ")";
        },
        "updating judge spend");
}

Status PostgresStore::release_budget_locked(const std::vector<int64_t>& ids) {
    if (ids.empty()) {
        return {};
    }
    PgParams p;
    const std::string sql =
        "DELETE FROM judge_reservations WHERE id = ANY(" + p.text(int_array(ids)) + "::bigint[])";
    return m_conn->exec(sql, p, "settling budget reservations").status();
}

Result<std::vector<JudgeWrite>> PostgresStore::write_judge_outcomes(
    const std::vector<JudgeOutcome>& outcomes) {
    std::vector<JudgeWrite> out;
    if (outcomes.empty()) {
        return out;
    }
    // The scores go through write_scores' COPY staging table.
    ASSAY_RETURN_IF_ERROR(ensure_staging());
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    // The traces first (store.h: scores have no foreign key), before the
    // queue rows, in the order an erasure takes them.
    std::vector<std::string> trace_ids;
    trace_ids.reserve(outcomes.size());
    for (const JudgeOutcome& o : outcomes) {
        trace_ids.push_back(o.trace_id);
    }
    auto locked = lock_traces(std::move(trace_ids));
    if (!locked.ok()) {
        return locked.status();
    }
    WriteBatch scores;  // every stored outcome's score, written once (one COPY)
    for (const JudgeOutcome& o : outcomes) {
        std::string lost;
        ASSAY_RETURN_IF_ERROR(write_judge_locked(o, *locked, lost, scores));
        out.push_back(JudgeWrite{lost.empty(), std::move(lost)});
    }
    if (!scores.scores.empty()) {
        ASSAY_RETURN_IF_ERROR(write_scores(scores, {}, *locked));
    }
    ASSAY_RETURN_IF_ERROR(txn.commit());
    return out;
}

Status PostgresStore::record_llm_calls(const std::vector<JudgeCacheEntry>& cache,
                                       const std::vector<JudgeSpend>& spend) {
    if (cache.empty() && spend.empty()) {
        return {};
    }
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    ASSAY_RETURN_IF_ERROR(write_cache_and_spend(cache, spend));
    return txn.commit();
}

Result<std::optional<JudgeCacheEntry>> PostgresStore::judge_cache_get(
    const std::string& request_hash) {
    PgParams p;
    const std::string sql =
        "SELECT judge, model, reply, input_tokens, output_tokens, at_ms FROM judge_cache "
        "WHERE request_hash = " +
        p.text(request_hash);
    auto r = m_conn->exec(sql, p, "reading the judge cache");
    if (!r.ok()) {
        return r.status();
    }
    if (r->rows() == 0) {
        return std::optional<JudgeCacheEntry>();
    }
    return std::optional<JudgeCacheEntry>(
        JudgeCacheEntry{request_hash, r->text(0, 0), r->text(0, 1), r->text(0, 2), r->integer(0, 3),
                        r->integer(0, 4), r->integer(0, 5)});
}

Result<JudgeSpend> PostgresStore::judge_spend(const std::string& judge, const std::string& day) {
    PgParams p;
    const std::string sql =
        "SELECT calls, input_tokens, output_tokens, cost_usd, cache_hits FROM judge_spend "
        "WHERE judge = " +
        p.text(judge) + " AND day = " + p.text(day);
    auto r = m_conn->exec(sql, p, "reading judge spend");
    if (!r.ok()) {
        return r.status();
    }
    JudgeSpend out;
    out.judge = judge;
    out.day = day;
    if (r->rows() > 0) {
        out.calls = r->integer(0, 0);
        out.input_tokens = r->integer(0, 1);
        out.output_tokens = r->integer(0, 2);
        out.cost_usd = r->real(0, 3);
        out.cache_hits = r->integer(0, 4);
    }
    return out;
}

Result<JudgeStatusReport> PostgresStore::judge_status(const std::string& day, int recent_errors) {
    JudgeStatusReport out;
    auto q = m_conn->exec(
        "SELECT v.scorer, v.version, count(*), min(q.enqueued_ms) FROM judge_queue q "
        "JOIN scorer_versions v ON v.id = q.scorer_version GROUP BY v.id, v.scorer, v.version "
        "ORDER BY v.scorer COLLATE \"C\", v.version COLLATE \"C\"",
        "reading judge queue depth");
    if (!q.ok()) {
        return q.status();
    }
    for (int i = 0; i < q->rows(); ++i) {
        out.queue.push_back({q->text(i, 0), q->text(i, 1), q->integer(i, 2), q->integer(i, 3)});
    }
    PgParams sp;
    const std::string spend_sql =
        "SELECT judge, day, calls, input_tokens, output_tokens, cost_usd, cache_hits, "
        "reasoning_tokens, cached_input_tokens FROM judge_spend WHERE day = " +
        sp.text(day) + " ORDER BY judge COLLATE \"C\"";
    auto s = m_conn->exec(spend_sql, sp, "reading judge spend");
    if (!s.ok()) {
        return s.status();
    }
    for (int i = 0; i < s->rows(); ++i) {
        out.spend.push_back({s->text(i, 0), s->text(i, 1), s->integer(i, 2), s->integer(i, 3),
                             s->integer(i, 4), s->real(i, 5), s->integer(i, 6), s->integer(i, 7),
                             s->integer(i, 8)});
    }
    const std::string cols =
        "SELECT t.trace_id, v.scorer, j.judge, coalesce(j.error_type, ''), "
        "coalesce(j.error_message, ''), j.at_ms FROM judgements j "
        "JOIN traces t ON t.id = j.trace JOIN scorer_versions v ON v.id = j.scorer_version ";
    auto rows = [](const PgResult& r, std::vector<JudgeErrorRow>& into) {
        for (int i = 0; i < r.rows(); ++i) {
            into.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                            r.integer(i, 5)});
        }
    };
    PgParams ep;
    const std::string errors_sql = cols +
                                   "WHERE j.error_type IS NOT NULL ORDER BY j.id DESC LIMIT " +
                                   ep.integer(recent_errors);
    auto e = m_conn->exec(errors_sql, ep, "reading judge errors");
    if (!e.ok()) {
        return e.status();
    }
    rows(*e, out.recent_errors);
    auto l = m_conn->exec(cols +
                              "WHERE j.id IN (SELECT max(id) FROM judgements GROUP BY judge) "
                              "ORDER BY j.judge COLLATE \"C\"",
                          "reading last judgements");
    if (!l.ok()) {
        return l.status();
    }
    rows(*l, out.last_by_judge);
    return out;
}

Result<std::vector<BackfillCandidate>> PostgresStore::backfill_candidates(const BackfillQuery& q) {
    PgParams vp;
    const std::string vsql = "SELECT id FROM scorer_versions WHERE scorer = " + vp.text(q.scorer) +
                             " AND version = " + vp.text(q.scorer_version);
    auto v = m_conn->exec(vsql, vp, "looking up scorer version");
    if (!v.ok()) {
        return v.status();
    }
    if (v->rows() == 0) {
        return Status::not_found("scorer '" + q.scorer + "' version '" + q.scorer_version +
                                 "' is not in the store");
    }
    // Decisions 0 scored, 3 skipped_missing_input and 4 pending are final or
    // in progress: those traces are never judged twice.
    PgParams p;
    std::string sql =
        "SELECT t.trace_id, t.raw FROM traces t WHERE NOT EXISTS (SELECT 1 FROM "
        "scores s WHERE s.trace = t.id AND s.scorer_version = " +
        p.integer(v->integer(0, 0)) + " AND s.decision IN (0, 3, 4))";
    if (q.since_ms) {
        sql += " AND t.ts_ms >= " + p.integer(*q.since_ms);
    }
    if (!q.feature.empty()) {
        sql += " AND t.feature = " + p.text(q.feature);
    }
    sql += " ORDER BY t.ts_ms, t.id";
    if (q.limit > 0) {
        sql += " LIMIT " + p.integer(q.limit);
    }
    auto r = m_conn->exec(sql, p, "running backfill query");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<BackfillCandidate> out;
    out.reserve(static_cast<size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        out.push_back({r->text(i, 0), r->text(i, 1)});
    }
    return out;
}

}  // namespace assay
