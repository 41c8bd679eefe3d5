// PostgresReviewStore: opening, the scorer list, the filtered review list
// and the trace page (review_store.h). Same order and meaning as
// SqliteReviewStore. Labels and calibration: review_store_labels.cpp.
#include "store/postgres/review_store.h"

#include <unordered_map>

#include "store/postgres/conn.h"
#include "store/postgres/open.h"
#include "store/postgres/schema.h"
#include "store/review_sql.h"

namespace assay {

using pg::PgParams;
using pg::PgResult;

PostgresReviewStore::PostgresReviewStore(std::unique_ptr<pg::PgConn> conn)
    : m_conn(std::move(conn)) {}

PostgresReviewStore::~PostgresReviewStore() = default;

Result<std::unique_ptr<PostgresReviewStore>> PostgresReviewStore::open(const std::string& uri) {
    auto conn = pg::connect_store(uri);
    if (!conn.ok()) {
        return conn.status();
    }
    return std::unique_ptr<PostgresReviewStore>(new PostgresReviewStore(std::move(conn).value()));
}

Result<std::vector<ScorerSummary>> PostgresReviewStore::scorers() {
    std::lock_guard lock(m_mu);
    auto r = m_conn->exec(
        "SELECT v.scorer, v.version, v.type, v.last_seen_ms, v.id, EXISTS (SELECT 1 FROM scores s "
        "WHERE s.scorer_version = v.id AND s.decision = 0) FROM scorer_versions v "
        "ORDER BY v.scorer COLLATE \"C\", v.last_seen_ms DESC, v.id DESC",
        "reading the scorer list");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<ScorerSummary> out;
    for (int i = 0; i < r->rows(); ++i) {
        ScorerSummary v;
        v.scorer = r->text(i, 0);
        v.version = r->text(i, 1);
        v.type = r->text(i, 2);
        v.last_seen_ms = r->integer(i, 3);
        v.has_scores = r->text(i, 5) == "t";
        // The judge work is counted only for versions with no score (what
        // the list must explain).
        if (!v.has_scores) {
            ASSAY_RETURN_IF_ERROR(judge_work(r->integer(i, 4), v));
        }
        out.push_back(std::move(v));
    }
    return out;
}

Result<ReviewList> PostgresReviewStore::list(const ReviewFilter& f, ReviewSort sort, int64_t offset,
                                             int64_t limit) {
    std::lock_guard lock(m_mu);
    auto v = resolve_version(f.scorer, f.scorer_version);
    if (!v.ok()) {
        return v.status();
    }
    ReviewList out;
    out.scorer = f.scorer;
    out.scorer_version = v->version;
    out.scorer_type = v->type;
    PgParams p;
    const ReviewWhere rw = review_where(
        f, v->id,
        {[&](const std::string& x) { return p.text(x); }, [&](int64_t x) { return p.integer(x); }},
        ReviewFilterShape::subquery);
    const std::string& where = rw.sql;
    // The trace filters are semi-joins on trace ids read from the filtered
    // columns' indexes alone; traces is joined only to sort by time.
    const bool by_time = sort == ReviewSort::newest || sort == ReviewSort::oldest;
    const std::string from =
        by_time ? " FROM scores s JOIN traces t ON t.id = s.trace" : " FROM scores s";
    // bottom: failures (passed 0), passes, then no pass/fail (ASC puts NULL
    // last), lowest value first, newest row first among equals: the order of
    // the index scores_review, so a page is a walk of it; top is its reverse.
    const char* order = sort == ReviewSort::bottom ? " ORDER BY s.passed, s.value, s.trace DESC"
                        : sort == ReviewSort::top ? " ORDER BY s.passed DESC, s.value DESC, s.trace"
                        : sort == ReviewSort::newest ? " ORDER BY t.ts_ms DESC, t.id DESC"
                                                     : " ORDER BY t.ts_ms, t.id";
    // Count and page in one read-only transaction, for SET LOCAL: without hash
    // joins the matching trace ids are probed in scores_version_trace (nested
    // loop) or merged with it in trace order, both index-only; a hash join of
    // a version's million entries with them cost 3-4 times as much, and
    // parallel workers each repeated the sort of the trace ids (README, the
    // review server benchmark).
    pg::PgTxn txn(*m_conn);
    ASSAY_RETURN_IF_ERROR(txn.begin());
    ASSAY_RETURN_IF_ERROR(m_conn
                              ->exec("SET LOCAL enable_hashjoin = off; "
                                     "SET LOCAL max_parallel_workers_per_gather = 0",
                                     "planning the review list")
                              .status());
    PgResult ids_r(nullptr);
    if (rw.trace_filter && !by_time && limit > 0) {
        // A trace filter, by score: every match from the trace side (the
        // trace ids, then their scores, index-only), counted by the window
        // and sorted for the page (top-N) in the same pass. OFFSET 0 keeps
        // the planner from walking scores_review for the page instead and
        // probing each trace row (matches can be far apart in that order).
        PgParams pp = p;  // p stays the filter's alone, for the count below
        const std::string page = " LIMIT " + pp.integer(limit) + " OFFSET " + pp.integer(offset);
        auto r = m_conn->exec(
            "SELECT s.trace, count(*) OVER () FROM (SELECT s.trace, s.passed, "
            "s.value" +
                from + where + " OFFSET 0) s" + order + page,
            pp, "reading the review list");
        if (!r.ok()) {
            return r.status();
        }
        ids_r = std::move(r).value();
        if (ids_r.rows() > 0) {
            out.total = ids_r.integer(0, 1);
        }
    }
    if (ids_r.rows() == 0) {
        // No trace filter (the count is an index-only range of
        // scores_version_trace), or a page past the end.
        auto c = m_conn->exec("SELECT count(*)" + from + where, p, "counting the review list");
        if (!c.ok()) {
            return c.status();
        }
        out.total = c->integer(0, 0);
        if (offset >= out.total || limit <= 0 || (rw.trace_filter && !by_time)) {
            return out;
        }
        const std::string page = " LIMIT " + p.integer(limit) + " OFFSET " + p.integer(offset);
        auto r = m_conn->exec("SELECT s.trace" + from + where + order + page, p,
                              "reading the review list");
        if (!r.ok()) {
            return r.status();
        }
        ids_r = std::move(r).value();
    }
    ASSAY_RETURN_IF_ERROR(txn.commit());
    std::vector<int64_t> ids;
    for (int i = 0; i < ids_r.rows(); ++i) {
        ids.push_back(ids_r.integer(i, 0));
    }
    auto rows = list_rows(ids, v->id);
    if (!rows.ok()) {
        return rows.status();
    }
    out.rows = std::move(rows).value();
    return out;
}

Result<std::vector<ReviewRow>> PostgresReviewStore::list_rows(const std::vector<int64_t>& ids,
                                                              int64_t version_id) {
    if (ids.empty()) {
        return std::vector<ReviewRow>();
    }
    std::string array = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
        array += (i ? "," : "") + std::to_string(ids[i]);
    }
    array += "}";
    PgParams p;
    const std::string sql =
        "SELECT s.trace, t.trace_id, s.value, s.passed, s.label, s.explanation, "
        "(SELECT j.reasoning FROM judgements j WHERE j.trace = s.trace AND j.scorer_version = "
        "s.scorer_version ORDER BY j.at_ms DESC, j.id DESC LIMIT 1), t.ts_ms, t.feature, "
        "t.tenant, t.prompt_version, t.model, t.raw, (SELECT count(*) FROM labels l WHERE "
        "l.trace = s.trace AND l.scorer_version = s.scorer_version) "
        "FROM scores s JOIN traces t ON t.id = s.trace WHERE s.scorer_version = " +
        p.integer(version_id) + " AND s.trace = ANY (" + p.text(array) + "::bigint[])";
    auto r = m_conn->exec(sql, p, "reading the review list rows");
    if (!r.ok()) {
        return r.status();
    }
    std::unordered_map<int64_t, ReviewRow> by_id;
    for (int i = 0; i < r->rows(); ++i) {
        ReviewRow row;
        row.trace_id = r->text(i, 1);
        row.value = r->real(i, 2);
        row.passed = r->opt_bool(i, 3);
        row.label = r->text(i, 4);
        row.explanation = r->text(i, 5);
        row.judge_reasoning = r->text(i, 6);
        row.ts_ms = r->integer(i, 7);
        row.feature = r->text(i, 8);
        row.tenant = r->text(i, 9);
        row.prompt_version = r->text(i, 10);
        row.model = r->text(i, 11);
        row.raw = r->text(i, 12);
        row.labels = r->integer(i, 13);
        by_id.emplace(r->integer(i, 0), std::move(row));
    }
    std::vector<ReviewRow> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
        auto it = by_id.find(id);
        if (it == by_id.end()) {
            // Deleted between the two statements (retention, erasure).
            continue;
        }
        out.push_back(std::move(it->second));
    }
    return out;
}

Result<TraceDetail> PostgresReviewStore::trace(const std::string& trace_id) {
    std::lock_guard lock(m_mu);
    PgParams p;
    auto t = m_conn->exec(
        "SELECT id, raw, ts_ms, received_ms FROM traces WHERE trace_id = " + p.text(trace_id), p,
        "reading trace");
    if (!t.ok()) {
        return t.status();
    }
    if (t->rows() == 0) {
        return Status::not_found("no trace '" + trace_id + "' in the store");
    }
    TraceDetail out;
    const int64_t row = t->integer(0, 0);
    out.trace_id = trace_id;
    out.raw = t->text(0, 1);
    out.ts_ms = t->integer(0, 2);
    out.received_ms = t->integer(0, 3);
    PgParams sp;
    auto s = m_conn->exec(
        "SELECT v.id, v.scorer, v.version, v.type, d.name, s.value, s.passed, s.label, "
        "s.explanation, s.reason, s.at_ms FROM scores s "
        "JOIN scorer_versions v ON v.id = s.scorer_version "
        "LEFT JOIN decisions d ON d.code = s.decision WHERE s.trace = " +
            sp.integer(row) + " ORDER BY v.scorer COLLATE \"C\", v.last_seen_ms DESC, v.id DESC",
        sp, "reading decisions");
    if (!s.ok()) {
        return s.status();
    }
    for (int i = 0; i < s->rows(); ++i) {
        DecisionRecord d;
        d.scorer = s->text(i, 1);
        d.scorer_version = s->text(i, 2);
        d.scorer_type = s->text(i, 3);
        d.decision = s->text(i, 4);
        d.value = s->opt_real(i, 5);
        d.passed = s->opt_bool(i, 6);
        d.label = s->text(i, 7);
        d.explanation = s->text(i, 8);
        d.reason = s->text(i, 9);
        d.at_ms = s->integer(i, 10);
        auto j = judgements(row, s->integer(i, 0));
        if (!j.ok()) {
            return j.status();
        }
        d.judgements = std::move(j).value();
        out.decisions.push_back(std::move(d));
    }
    PgParams lp;
    auto l = m_conn->exec(
        "SELECT l.id, v.scorer, v.version, l.reviewer, l.verdict, l.score, l.note, l.at_ms, "
        "l.source FROM labels l JOIN scorer_versions v ON v.id = l.scorer_version WHERE l.trace "
        "= " +
            lp.integer(row) + " ORDER BY l.at_ms DESC, l.id DESC",
        lp, "reading labels");
    if (!l.ok()) {
        return l.status();
    }
    for (int i = 0; i < l->rows(); ++i) {
        LabelRecord r;
        r.id = l->integer(i, 0);
        r.trace_id = trace_id;
        r.scorer = l->text(i, 1);
        r.scorer_version = l->text(i, 2);
        r.reviewer = l->text(i, 3);
        r.verdict = l->text(i, 4);
        r.score = l->opt_real(i, 5);
        r.note = l->text(i, 6);
        r.at_ms = l->integer(i, 7);
        r.source = l->text(i, 8);
        out.labels.push_back(std::move(r));
    }
    return out;
}

Result<PostgresReviewStore::Version> PostgresReviewStore::resolve_version(
    const std::string& scorer, const std::string& version) {
    if (scorer.empty()) {
        return Status::invalid_argument("scorer: a scorer name is required");
    }
    PgParams p;
    std::string sql =
        "SELECT id, version, type FROM scorer_versions WHERE scorer = " + p.text(scorer);
    sql += version.empty() ? " ORDER BY last_seen_ms DESC, id DESC LIMIT 1"
                           : " AND version = " + p.text(version);
    auto r = m_conn->exec(sql, p, "looking up scorer version");
    if (!r.ok()) {
        return r.status();
    }
    if (r->rows() == 0) {
        return Status::not_found(version.empty()
                                     ? "no scorer named '" + scorer + "' has written to this store"
                                     : "scorer '" + scorer + "' has no version '" + version +
                                           "' in this store");
    }
    return Version{r->integer(0, 0), r->text(0, 1), r->text(0, 2)};
}

Status PostgresReviewStore::judge_work(int64_t version_id, ScorerSummary& v) {
    PgParams p;
    const std::string id = p.integer(version_id);
    auto r = m_conn->exec(
        "SELECT (SELECT count(*) FROM judge_queue WHERE scorer_version = " + id +
            "), count(*), count(error_type), (SELECT error_type || ': ' || error_message FROM "
            "judgements WHERE scorer_version = " +
            id + " AND error_type IS NOT NULL ORDER BY at_ms DESC, id DESC LIMIT 1) FROM " +
            "judgements WHERE scorer_version = " + id,
        p, "counting judge work");
    if (!r.ok()) {
        return r.status();
    }
    v.pending = r->integer(0, 0);
    v.judge_calls = r->integer(0, 1);
    v.judge_errors = r->integer(0, 2);
    v.last_judge_error = r->text(0, 3);
    return {};
}

Result<std::vector<JudgementRecord>> PostgresReviewStore::judgements(int64_t trace_row,
                                                                     int64_t version_id) {
    PgParams p;
    const std::string sql =
        "SELECT judge, model, rubric, rubric_version, rubric_hash, score, passed, choice, "
        "reasoning, input_tokens, output_tokens, cost_usd, latency_ms, attempts, cached, "
        "error_type, error_message, at_ms FROM judgements WHERE trace = " +
        p.integer(trace_row) + " AND scorer_version = " + p.integer(version_id) +
        " ORDER BY at_ms, id";
    auto r = m_conn->exec(sql, p, "reading judgements");
    if (!r.ok()) {
        return r.status();
    }
    std::vector<JudgementRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
        JudgementRecord j;
        j.judge = r->text(i, 0);
        j.model = r->text(i, 1);
        j.rubric = r->text(i, 2);
        j.rubric_version = r->text(i, 3);
        j.rubric_hash = r->text(i, 4);
        j.score = r->opt_real(i, 5);
        j.passed = r->opt_bool(i, 6);
        j.choice = r->text(i, 7);
        j.reasoning = r->text(i, 8);
        j.input_tokens = r->integer(i, 9);
        j.output_tokens = r->integer(i, 10);
        j.cost_usd = r->real(i, 11);
        j.latency_ms = r->real(i, 12);
        j.attempts = static_cast<int32_t>(r->integer(i, 13));
        j.cached = r->integer(i, 14) != 0;
        j.error_type = r->text(i, 15);
        j.error_message = r->text(i, 16);
        j.at_ms = r->integer(i, 17);
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace assay
