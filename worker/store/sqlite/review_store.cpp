// SqliteReviewStore: ReviewStore over the SQLite file of the pipeline's store.
// Its own connection, parameterised SQL only; writes only to `labels`.
// Longer than ~400 lines on purpose: one job, the queries behind the review
// app's pages (one method each, sharing the version lookup and the
// connection's mutex); the filtered, paged list with its segment counts is
// most of it.
#include "store/review_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <variant>

#include "core/time_format.h"
#include "store/review_sql.h"
#include "store/sqlite/conn.h"
#include "store/store_location.h"

namespace assay {

Result<ReviewSort> parse_review_sort(const std::string& s) {
    if (s.empty() || s == "bottom") {
        return ReviewSort::bottom;
    }
    if (s == "top") {
        return ReviewSort::top;
    }
    if (s == "newest") {
        return ReviewSort::newest;
    }
    if (s == "oldest") {
        return ReviewSort::oldest;
    }
    return Status::invalid_argument("sort '" + s + "': expected bottom, top, newest or oldest");
}

namespace {

// Binds a list of values built alongside the SQL text (?1, ?2, ... in order).
struct Binds {
    std::vector<std::variant<std::string, int64_t>> values;
    std::string add(std::string v) {
        values.emplace_back(std::move(v));
        return "?" + std::to_string(values.size());
    }
    std::string add(int64_t v) {
        values.emplace_back(v);
        return "?" + std::to_string(values.size());
    }
    void apply(SqlStmt& q) const {
        for (size_t i = 0; i < values.size(); ++i) {
            int idx = static_cast<int>(i + 1);
            if (const auto* s = std::get_if<std::string>(&values[i])) {
                q.bind_text(idx, *s);
            } else {
                q.bind_int(idx, std::get<int64_t>(values[i]));
            }
        }
    }
};

class SqliteReviewStore final : public ReviewStore {
public:
    explicit SqliteReviewStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {
        auto q = m_c->prepare(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'judgements'");
        m_has_judgements = q.ok() && q->step() == SQLITE_ROW;
        auto jq = m_c->prepare(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'judge_queue'");
        m_has_judge_queue = jq.ok() && jq->step() == SQLITE_ROW;
    }

    Result<std::vector<ScorerSummary>> scorers() override {
        std::lock_guard lock(m_mu);
        auto q = m_c->prepare(
            "SELECT scorer, version, type, last_seen_ms, id FROM scorer_versions "
            "ORDER BY scorer, last_seen_ms DESC, id DESC");
        if (!q.ok()) {
            return error("preparing scorer list");
        }
        std::vector<ScorerSummary> out;
        std::vector<int64_t> ids;
        int rc = 0;
        while ((rc = q->step()) == SQLITE_ROW) {
            ScorerSummary v;
            v.scorer = q->col_text(0);
            v.version = q->col_text(1);
            v.type = q->col_text(2);
            v.last_seen_ms = q->col_int(3);
            ids.push_back(q->col_int(4));
            out.push_back(std::move(v));
        }
        if (rc != SQLITE_DONE) {
            return error("reading scorer list");
        }
        // One probe of scores_review per version; the judge work is counted
        // only for versions with no score (what the list must explain).
        auto has = m_c->prepare(
            "SELECT EXISTS (SELECT 1 FROM scores WHERE scorer_version = ?1 AND decision = 0)");
        if (!has.ok()) {
            return error("preparing score probe");
        }
        for (size_t i = 0; i < out.size(); ++i) {
            has->reset();
            has->bind_int(1, ids[i]);
            if (has->step() != SQLITE_ROW) {
                return error("probing scores");
            }
            out[i].has_scores = has->col_int(0) != 0;
            if (!out[i].has_scores) {
                ASSAY_RETURN_IF_ERROR(judge_work(ids[i], out[i]));
            }
        }
        return out;
    }

    Result<ReviewList> list(const ReviewFilter& f, ReviewSort sort, int64_t offset,
                            int64_t limit) override {
        std::lock_guard lock(m_mu);
        auto v = resolve_version(f.scorer, f.scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        ReviewList out;
        out.scorer = f.scorer;
        out.scorer_version = v->version;
        out.scorer_type = v->type;
        Binds b;
        const ReviewWhere rw = review_where(
            f, v->id,
            {[&](const std::string& x) { return b.add(x); }, [&](int64_t x) { return b.add(x); }});
        const std::string& where = rw.sql;
        const bool trace_filter = rw.trace_filter;
        // Counts per pass/fail segment in one pass (covering index
        // scores_review when no trace column is filtered).
        // Every score row has its trace: join only when a trace column is filtered.
        const std::string from =
            trace_filter ? " FROM scores s JOIN traces t ON t.id = s.trace" : " FROM scores s";
        int64_t seg_count[3] = {0, 0, 0};  // failed, passed, no pass/fail
        {
            auto c = m_c->prepare(
                "SELECT count(*) FILTER (WHERE s.passed = 0), count(*) FILTER (WHERE s.passed = "
                "1), "
                "count(*) FILTER (WHERE s.passed IS NULL)" +
                from + where);
            if (!c.ok()) {
                return error("preparing count");
            }
            b.apply(*c);
            if (c->step() != SQLITE_ROW) {
                return error("counting");
            }
            for (int i = 0; i < 3; ++i) {
                seg_count[i] = c->col_int(i);
            }
            out.total = seg_count[0] + seg_count[1] + seg_count[2];
        }
        // The page's trace row ids, in order. bottom walks the index
        // scores_review (scorer_version, decision, passed, value, trace DESC)
        // one segment at a time, so no sort of all matches is needed; top is
        // the exact reverse; newest/oldest walk the traces' time indexes.
        std::vector<int64_t> ids;
        auto collect = [&](const std::string& sql, int64_t seg_offset,
                           int64_t seg_limit) -> Status {
            auto q = m_c->prepare(sql + " LIMIT " + std::to_string(seg_limit) + " OFFSET " +
                                  std::to_string(seg_offset));
            if (!q.ok()) {
                return error("preparing list");
            }
            b.apply(*q);
            int rc = 0;
            while ((rc = q->step()) == SQLITE_ROW) {
                ids.push_back(q->col_int(0));
            }
            return rc == SQLITE_DONE ? Status() : error("reading list");
        };
        if (sort == ReviewSort::bottom || sort == ReviewSort::top) {
            const bool top = sort == ReviewSort::top;
            struct Seg {
                const char* cond;
                int64_t n;
            };
            std::vector<Seg> segs = {{" AND s.passed = 0", seg_count[0]},
                                     {" AND s.passed = 1", seg_count[1]},
                                     {" AND s.passed IS NULL", seg_count[2]}};
            if (top) {
                std::reverse(segs.begin(), segs.end());
            }
            int64_t skip = offset;
            int64_t want = limit;
            for (const auto& seg : segs) {
                if (want <= 0) {
                    break;
                }
                if (skip >= seg.n) {
                    skip -= seg.n;
                    continue;
                }
                // With many matches, walking the index in order and probing
                // each trace finds a page after a few hundred probes; with few
                // (a rare tenant, say), the planner's trace-driven plan and a
                // small sort are cheaper.
                const bool walk = trace_filter && seg.n >= 1000;
                const std::string seg_from = walk ? " FROM scores s INDEXED BY scores_review CROSS "
                                                    "JOIN traces t ON t.id = s.trace"
                                                  : from;
                std::string sql =
                    "SELECT s.trace" + seg_from + where + seg.cond +
                    (top ? " ORDER BY s.value DESC, s.trace" : " ORDER BY s.value, s.trace DESC");
                int64_t take = std::min(want, seg.n - skip);
                ASSAY_RETURN_IF_ERROR(collect(sql, skip, take));
                want -= take;
                skip = 0;
            }
        } else {
            const bool newest = sort == ReviewSort::newest;
            std::string sql =
                "SELECT t.id FROM traces t CROSS JOIN scores s ON s.trace = t.id" + where +
                (newest ? " ORDER BY t.ts_ms DESC, t.id DESC" : " ORDER BY t.ts_ms, t.id");
            ASSAY_RETURN_IF_ERROR(collect(sql, offset, limit));
        }
        std::string reasoning =
            m_has_judgements
                ? "(SELECT j.reasoning FROM judgements j WHERE j.trace = s.trace AND "
                  "j.scorer_version = s.scorer_version ORDER BY j.at_ms DESC, j.id DESC LIMIT 1)"
                : "NULL";
        auto q = m_c->prepare("SELECT t.trace_id, s.value, s.passed, s.label, s.explanation, " +
                              reasoning +
                              ", t.ts_ms, t.feature, t.tenant, t.prompt_version, t.model, t.raw, "
                              "(SELECT count(*) FROM labels l WHERE l.trace = s.trace AND "
                              "l.scorer_version = s.scorer_version) "
                              "FROM scores s JOIN traces t ON t.id = s.trace WHERE s.trace = ?1 "
                              "AND s.scorer_version = ?2");
        if (!q.ok()) {
            return error("preparing list rows");
        }
        for (int64_t id : ids) {
            q->reset();
            q->bind_int(1, id);
            q->bind_int(2, v->id);
            if (q->step() != SQLITE_ROW) {
                return error("reading list row");
            }
            ReviewRow r;
            r.trace_id = q->col_text(0);
            r.value = q->col_double(1);
            r.passed = q->col_opt_bool(2);
            r.label = q->col_text(3);
            r.explanation = q->col_text(4);
            r.judge_reasoning = q->col_text(5);
            r.ts_ms = q->col_int(6);
            r.feature = q->col_text(7);
            r.tenant = q->col_text(8);
            r.prompt_version = q->col_text(9);
            r.model = q->col_text(10);
            r.raw = q->col_text(11);
            r.labels = q->col_int(12);
            out.rows.push_back(std::move(r));
        }
        return out;
    }

    Result<TraceDetail> trace(const std::string& trace_id) override {
        std::lock_guard lock(m_mu);
        auto t = m_c->prepare("SELECT id, raw, ts_ms, received_ms FROM traces WHERE trace_id = ?1");
        if (!t.ok()) {
            return error("preparing trace lookup");
        }
        t->bind_text(1, trace_id);
        int rc = t->step();
        if (rc == SQLITE_DONE) {
            return Status::not_found("no trace '" + trace_id + "' in the store");
        }
        if (rc != SQLITE_ROW) {
            return error("reading trace");
        }
        TraceDetail out;
        const int64_t row = t->col_int(0);
        out.trace_id = trace_id;
        out.raw = t->col_text(1);
        out.ts_ms = t->col_int(2);
        out.received_ms = t->col_int(3);
        auto s = m_c->prepare(
            "SELECT v.id, v.scorer, v.version, v.type, d.name, s.value, s.passed, s.label, "
            "s.explanation, s.reason, s.at_ms FROM scores s "
            "JOIN scorer_versions v ON v.id = s.scorer_version "
            "LEFT JOIN decisions d ON d.code = s.decision "
            "WHERE s.trace = ?1 ORDER BY v.scorer, v.last_seen_ms DESC, v.id DESC");
        if (!s.ok()) {
            return error("preparing decisions");
        }
        s->bind_int(1, row);
        std::vector<int64_t> version_ids;
        while ((rc = s->step()) == SQLITE_ROW) {
            DecisionRecord d;
            version_ids.push_back(s->col_int(0));
            d.scorer = s->col_text(1);
            d.scorer_version = s->col_text(2);
            d.scorer_type = s->col_text(3);
            d.decision = s->col_text(4);
            d.value = s->col_opt_double(5);
            d.passed = s->col_opt_bool(6);
            d.label = s->col_text(7);
            d.explanation = s->col_text(8);
            d.reason = s->col_text(9);
            d.at_ms = s->col_int(10);
            out.decisions.push_back(std::move(d));
        }
        if (rc != SQLITE_DONE) {
            return error("reading decisions");
        }
        if (m_has_judgements) {
            for (size_t i = 0; i < out.decisions.size(); ++i) {
                auto j = judgements(row, version_ids[i]);
                if (!j.ok()) {
                    return j.status();
                }
                out.decisions[i].judgements = std::move(*j);
            }
        }
        auto l = m_c->prepare(
            "SELECT l.id, v.scorer, v.version, l.reviewer, l.verdict, l.score, l.note, l.at_ms, "
            "l.source FROM labels l JOIN scorer_versions v ON v.id = l.scorer_version "
            "WHERE l.trace = ?1 ORDER BY l.at_ms DESC, l.id DESC");
        if (!l.ok()) {
            return error("preparing labels");
        }
        l->bind_int(1, row);
        while ((rc = l->step()) == SQLITE_ROW) {
            LabelRecord r;
            r.id = l->col_int(0);
            r.trace_id = trace_id;
            r.scorer = l->col_text(1);
            r.scorer_version = l->col_text(2);
            r.reviewer = l->col_text(3);
            r.verdict = l->col_text(4);
            r.score = l->col_opt_double(5);
            r.note = l->col_text(6);
            r.at_ms = l->col_int(7);
            r.source = l->col_text(8);
            out.labels.push_back(std::move(r));
        }
        if (rc != SQLITE_DONE) {
            return error("reading labels");
        }
        return out;
    }

    Result<int64_t> add_label(const NewLabel& n) override {
        ASSAY_RETURN_IF_ERROR(check_new_label(n));
        std::lock_guard lock(m_mu);
        auto v = resolve_version(n.scorer, n.scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        auto t = m_c->prepare("SELECT id FROM traces WHERE trace_id = ?1");
        if (!t.ok()) {
            return error("preparing trace lookup");
        }
        t->bind_text(1, n.trace_id);
        int rc = t->step();
        if (rc == SQLITE_DONE) {
            return Status::not_found("no trace '" + n.trace_id + "' in the store");
        }
        if (rc != SQLITE_ROW) {
            return error("reading trace");
        }
        auto ins = m_c->prepare(
            "INSERT INTO labels (trace, scorer_version, reviewer, verdict, score, note, at_ms, "
            "source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (!ins.ok()) {
            return error("preparing label insert");
        }
        ins->bind_int(1, t->col_int(0));
        ins->bind_int(2, v->id);
        ins->bind_text(3, n.reviewer);
        ins->bind_text(4, n.verdict);
        if (n.verdict == "score") {
            ins->bind_double(5, *n.score);
        } else {
            ins->bind_null(5);
        }
        ins->bind_text(6, n.note);
        ins->bind_int(7, n.at_ms);
        ins->bind_text(8, n.source);
        if (ins->step() != SQLITE_DONE) {
            return error("storing label");
        }
        return static_cast<int64_t>(sqlite3_last_insert_rowid(m_c->raw()));
    }

    Result<VersionStrata> verdict_strata(const std::string& scorer,
                                         const std::string& scorer_version,
                                         bool count_unlabelled) override {
        std::lock_guard lock(m_mu);
        auto v = resolve_version(scorer, scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        VersionStrata out;
        out.version = v->version;
        // Counts from the covering index scores_review; the unlabelled ones
        // probe labels_trace per score.
        auto q = m_c->prepare(
            std::string(
                "SELECT count(*) FILTER (WHERE passed = 0), count(*) FILTER (WHERE passed = 1), "
                "count(*) FILTER (WHERE passed IS NULL)") +
            (count_unlabelled
                 ? ", " + unlabelled_filter("passed = 0") + ", " + unlabelled_filter("passed = 1") +
                       ", " + unlabelled_filter("passed IS NULL")
                 : std::string()) +
            " FROM scores s WHERE s.scorer_version = ?1 AND s.decision = 0");
        if (!q.ok()) {
            return error("preparing verdict counts");
        }
        q->bind_int(1, v->id);
        if (q->step() != SQLITE_ROW) {
            return error("counting verdicts");
        }
        const char* names[3] = {"fail", "pass", "none"};
        for (int i = 0; i < 3; ++i) {
            VerdictStratum st{names[i], q->col_int(i), count_unlabelled ? q->col_int(3 + i) : 0};
            if (st.scored > 0) {
                out.strata.push_back(std::move(st));
            }
        }
        return out;
    }

    Result<std::optional<std::string>> unlabelled_trace(const std::string& scorer,
                                                        const std::string& scorer_version,
                                                        const std::string& verdict,
                                                        int64_t index) override {
        std::lock_guard lock(m_mu);
        const char* cond = verdict == "fail"   ? " AND s.passed = 0"
                           : verdict == "pass" ? " AND s.passed = 1"
                           : verdict == "none" ? " AND s.passed IS NULL"
                                               : nullptr;
        if (cond == nullptr) {
            return Status::invalid_argument("verdict '" + verdict +
                                            "': expected fail, pass or none");
        }
        auto v = resolve_version(scorer, scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        // Walks scores_review in its order, skipping labelled traces.
        auto q = m_c->prepare(
            std::string("SELECT t.trace_id FROM scores s JOIN traces t ON t.id = s.trace "
                        "WHERE s.scorer_version = ?1 AND s.decision = 0") +
            cond + " AND NOT " + std::string(k_review_has_label) +
            " ORDER BY s.value, s.trace DESC LIMIT 1 OFFSET ?2");
        if (!q.ok()) {
            return error("preparing queue pick");
        }
        q->bind_int(1, v->id);
        q->bind_int(2, index);
        int rc = q->step();
        if (rc == SQLITE_DONE) {
            return std::optional<std::string>();
        }
        if (rc != SQLITE_ROW) {
            return error("reading queue pick");
        }
        return std::optional<std::string>(q->col_text(0));
    }

    Result<std::vector<CalibrationPair>> calibration_pairs(
        const std::string& scorer, const std::string& scorer_version) override {
        std::lock_guard lock(m_mu);
        Binds b;
        std::string sql =
            "SELECT t.trace_id, v.version, s.value, s.passed, s.label, l.id, l.reviewer, "
            "l.verdict, l.score, "
            "l.note, l.at_ms, l.source FROM labels l JOIN scorer_versions v ON v.id = "
            "l.scorer_version "
            "JOIN traces t ON t.id = l.trace "
            "JOIN scores s ON s.trace = l.trace AND s.scorer_version = l.scorer_version AND "
            "s.decision = 0 "
            "WHERE v.scorer = " +
            b.add(scorer);
        if (!scorer_version.empty()) {
            sql += " AND v.version = " + b.add(scorer_version);
        }
        sql += " ORDER BY l.at_ms, l.id";
        auto q = m_c->prepare(sql);
        if (!q.ok()) {
            return error("preparing calibration query");
        }
        b.apply(*q);
        std::vector<CalibrationPair> out;
        int rc = 0;
        while ((rc = q->step()) == SQLITE_ROW) {
            CalibrationPair p;
            p.trace_id = q->col_text(0);
            p.scorer_version = q->col_text(1);
            p.value = q->col_double(2);
            p.passed = q->col_opt_bool(3);
            p.choice = q->col_text(4);
            p.human.id = q->col_int(5);
            p.human.trace_id = p.trace_id;
            p.human.scorer = scorer;
            p.human.scorer_version = p.scorer_version;
            p.human.reviewer = q->col_text(6);
            p.human.verdict = q->col_text(7);
            p.human.score = q->col_opt_double(8);
            p.human.note = q->col_text(9);
            p.human.at_ms = q->col_int(10);
            p.human.source = q->col_text(11);
            out.push_back(std::move(p));
        }
        if (rc != SQLITE_DONE) {
            return error("reading calibration pairs");
        }
        return out;
    }

    Result<std::vector<TrendPoint>> trends(const std::string& scorer,
                                           const std::string& scorer_version,
                                           int64_t days) override {
        std::lock_guard lock(m_mu);
        auto v = resolve_version(scorer, scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        constexpr int64_t k_day_ms = 86400000;
        int64_t since_ms = 0;
        {
            auto m = m_c->prepare("SELECT max(ts_ms) FROM traces");
            if (!m.ok() || m->step() != SQLITE_ROW) {
                return error("reading the newest trace time");
            }
            if (!m->col_null(0)) {
                since_ms = (m->col_int(0) / k_day_ms - (days - 1)) * k_day_ms;
            }
        }
        // Walks traces_feature (feature, ts_ms) so that the groups come in
        // index order, probing each trace's score: no temporary sort.
        auto q = m_c->prepare(
            "SELECT coalesce(t.feature, ''), t.ts_ms / 86400000, count(*), avg(s.value), "
            "avg(s.passed), "
            "count(s.passed) FROM traces t INDEXED BY traces_feature CROSS JOIN scores s ON "
            "s.trace = t.id "
            "WHERE s.scorer_version = ?1 AND s.decision = 0 AND t.ts_ms >= ?2 "
            "GROUP BY 1, 2 ORDER BY 1, 2");
        if (!q.ok()) {
            return error("preparing trends");
        }
        q->bind_int(1, v->id);
        q->bind_int(2, since_ms);
        std::vector<TrendPoint> out;
        int rc = 0;
        while ((rc = q->step()) == SQLITE_ROW) {
            TrendPoint p;
            p.feature = q->col_text(0);
            p.day = format_rfc3339_ms(q->col_int(1) * k_day_ms).substr(0, 10);
            p.n = q->col_int(2);
            p.mean = q->col_double(3);
            if (q->col_int(5) > 0) {
                p.pass_rate = q->col_double(4);
            }
            out.push_back(std::move(p));
        }
        if (rc != SQLITE_DONE) {
            return error("reading trends");
        }
        return out;
    }

private:
    struct Version {
        int64_t id = 0;
        std::string version, type;
    };

    // count(*) of the scores matching `cond` that have no label for their version.
    static std::string unlabelled_filter(const std::string& cond) {
        return "count(*) FILTER (WHERE " + cond + " AND NOT " + std::string(k_review_has_label) +
               ")";
    }

    Status error(const std::string& what) const { return m_c->error(what); }

    Result<Version> resolve_version(const std::string& scorer, const std::string& version) {
        if (scorer.empty()) {
            return Status::invalid_argument("scorer: a scorer name is required");
        }
        auto q = m_c->prepare(
            version.empty() ? "SELECT id, version, type FROM scorer_versions WHERE scorer = ?1 "
                              "ORDER BY last_seen_ms DESC, id DESC LIMIT 1"
                            : "SELECT id, version, type FROM scorer_versions WHERE scorer = ?1 AND "
                              "version = ?2");
        if (!q.ok()) {
            return error("preparing version lookup");
        }
        q->bind_text(1, scorer);
        if (!version.empty()) {
            q->bind_text(2, version);
        }
        int rc = q->step();
        if (rc == SQLITE_DONE) {
            return Status::not_found(
                version.empty()
                    ? "no scorer named '" + scorer + "' has written to this store"
                    : "scorer '" + scorer + "' has no version '" + version + "' in this store");
        }
        if (rc != SQLITE_ROW) {
            return error("looking up scorer version");
        }
        return Version{q->col_int(0), q->col_text(1), q->col_text(2)};
    }

    // Pending judge tasks and recorded judge calls of one scorer version.
    Status judge_work(int64_t version_id, ScorerSummary& v) {
        if (m_has_judge_queue) {
            auto q = m_c->prepare("SELECT count(*) FROM judge_queue WHERE scorer_version = ?1");
            if (!q.ok()) {
                return error("preparing judge queue count");
            }
            q->bind_int(1, version_id);
            if (q->step() != SQLITE_ROW) {
                return error("counting the judge queue");
            }
            v.pending = q->col_int(0);
        }
        if (m_has_judgements) {
            auto q = m_c->prepare(
                "SELECT count(*), count(error_type), (SELECT error_type || ': ' || error_message "
                "FROM judgements WHERE scorer_version = ?1 AND error_type IS NOT NULL "
                "ORDER BY at_ms DESC, id DESC LIMIT 1) FROM judgements WHERE scorer_version = ?1");
            if (!q.ok()) {
                return error("preparing judge call count");
            }
            q->bind_int(1, version_id);
            if (q->step() != SQLITE_ROW) {
                return error("counting judge calls");
            }
            v.judge_calls = q->col_int(0);
            v.judge_errors = q->col_int(1);
            v.last_judge_error = q->col_text(2);
        }
        return {};
    }

    Result<std::vector<JudgementRecord>> judgements(int64_t trace_row, int64_t version_id) {
        auto q = m_c->prepare(
            "SELECT judge, model, rubric, rubric_version, rubric_hash, score, passed, choice, "
            "reasoning, "
            "input_tokens, output_tokens, cost_usd, latency_ms, attempts, cached, error_type, "
            "error_message, at_ms FROM judgements WHERE trace = ?1 AND scorer_version = ?2 "
            "ORDER BY at_ms, id");
        if (!q.ok()) {
            return error("preparing judgements");
        }
        q->bind_int(1, trace_row);
        q->bind_int(2, version_id);
        std::vector<JudgementRecord> out;
        int rc = 0;
        while ((rc = q->step()) == SQLITE_ROW) {
            JudgementRecord j;
            j.judge = q->col_text(0);
            j.model = q->col_text(1);
            j.rubric = q->col_text(2);
            j.rubric_version = q->col_text(3);
            j.rubric_hash = q->col_text(4);
            j.score = q->col_opt_double(5);
            j.passed = q->col_opt_bool(6);
            j.choice = q->col_text(7);
            j.reasoning = q->col_text(8);
            j.input_tokens = q->col_int(9);
            j.output_tokens = q->col_int(10);
            j.cost_usd = q->col_double(11);
            j.latency_ms = q->col_double(12);
            j.attempts = static_cast<int32_t>(q->col_int(13));
            j.cached = q->col_int(14) != 0;
            j.error_type = q->col_text(15);
            j.error_message = q->col_text(16);
            j.at_ms = q->col_int(17);
            out.push_back(std::move(j));
        }
        if (rc != SQLITE_DONE) {
            return error("reading judgements");
        }
        return out;
    }

    std::mutex m_mu;
    std::unique_ptr<SqliteConn> m_c;
    bool m_has_judgements = false;
    bool m_has_judge_queue = false;
};

}  // namespace

Result<std::unique_ptr<ReviewStore>> open_sqlite_review_store(const std::string& path) {
    ASSAY_RETURN_IF_ERROR(sqlite_only(path, "the SQLite review store"));
    // Migrates the file first (the labels table), WAL, busy timeout.
    auto c = SqliteConn::open(path);
    if (!c.ok()) {
        return c.status();
    }
    // A large page cache and reads through a memory map: the filtered counts
    // probe ~100k random pages, and a read() per page costs more than the
    // probe itself. Sorts for the list pages stay in memory.
    ASSAY_RETURN_IF_ERROR(
        (*c)->exec("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; "
                   "PRAGMA mmap_size = 2147418112"));
    return std::unique_ptr<ReviewStore>(std::make_unique<SqliteReviewStore>(std::move(c.value())));
}

}  // namespace assay
