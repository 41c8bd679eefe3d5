// SqliteReviewStore: ReviewStore over the SQLite file of the pipeline's store.
// Its own connection, parameterised SQL only; writes only to `labels`.
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <variant>

#include "ingest/trace_parser.h"
#include "store/review_store.h"
#include "store/sqlite_store.h"

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

// One prepared statement, finalised on destruction. Text is bound by copy
// (SQLITE_TRANSIENT) so callers may pass temporaries.
class Query {
public:
    Query(sqlite3* db, const std::string& sql) { m_rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &m_s, nullptr); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    ~Query() { sqlite3_finalize(m_s); }
    bool ok() const { return m_rc == SQLITE_OK; }
    sqlite3_stmt* get() const { return m_s; }
    void text(int i, const std::string& v) {
        sqlite3_bind_text(m_s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void integer(int i, int64_t v) { sqlite3_bind_int64(m_s, i, v); }
    void real(int i, double v) { sqlite3_bind_double(m_s, i, v); }
    void null(int i) { sqlite3_bind_null(m_s, i); }
    int step() { return sqlite3_step(m_s); }
    std::string s(int i) const {
        auto* p = sqlite3_column_text(m_s, i);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(m_s, i)))
                 : std::string();
    }
    bool is_null(int i) const { return sqlite3_column_type(m_s, i) == SQLITE_NULL; }
    int64_t i64(int i) const { return sqlite3_column_int64(m_s, i); }
    double d(int i) const { return sqlite3_column_double(m_s, i); }
    std::optional<double> opt_d(int i) const { return is_null(i) ? std::nullopt : std::optional<double>(d(i)); }
    std::optional<bool> opt_b(int i) const { return is_null(i) ? std::nullopt : std::optional<bool>(i64(i) != 0); }

private:
    sqlite3_stmt* m_s = nullptr;
    int m_rc = SQLITE_ERROR;
};

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
    void apply(Query& q) const {
        for (size_t i = 0; i < values.size(); ++i) {
            int idx = static_cast<int>(i + 1);
            if (const auto* s = std::get_if<std::string>(&values[i])) {
                q.text(idx, *s);
            } else {
                q.integer(idx, std::get<int64_t>(values[i]));
            }
        }
    }
};

class SqliteReviewStore final : public ReviewStore {
public:
    SqliteReviewStore(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {
        Query q(m_db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'judgements'");
        m_has_judgements = q.ok() && q.step() == SQLITE_ROW;
    }
    ~SqliteReviewStore() override { sqlite3_close_v2(m_db); }

    Result<std::vector<ScorerSummary>> scorers() override {
        std::lock_guard lock(m_mu);
        Query q(m_db, "SELECT scorer, version, type, last_seen_ms FROM scorer_versions "
                      "ORDER BY scorer, last_seen_ms DESC, id DESC");
        if (!q.ok()) {
            return error("preparing scorer list");
        }
        std::vector<ScorerSummary> out;
        int rc = 0;
        while ((rc = q.step()) == SQLITE_ROW) {
            out.push_back({q.s(0), q.s(1), q.s(2), q.i64(3)});
        }
        if (rc != SQLITE_DONE) {
            return error("reading scorer list");
        }
        return out;
    }

    Result<ReviewList> list(const ReviewFilter& f, ReviewSort sort, int64_t offset, int64_t limit) override {
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
        std::string where = " WHERE s.scorer_version = " + b.add(v->id) + " AND s.decision = 0";
        auto eq = [&](const char* col, const std::string& val) {
            if (!val.empty()) {
                where += std::string(" AND t.") + col + " = " + b.add(val);
            }
        };
        eq("feature", f.feature);
        eq("tenant", f.tenant);
        eq("prompt_version", f.prompt_version);
        eq("model", f.model);
        if (f.since_ms) {
            where += " AND t.ts_ms >= " + b.add(*f.since_ms);
        }
        if (f.until_ms) {
            where += " AND t.ts_ms < " + b.add(*f.until_ms);
        }
        if (f.passed) {
            where += *f.passed ? " AND s.passed = 1" : " AND s.passed = 0";
        }
        if (f.labelled) {
            where += std::string(*f.labelled ? " AND " : " AND NOT ") +
                     "EXISTS (SELECT 1 FROM labels l WHERE l.trace = s.trace AND l.scorer_version = s.scorer_version)";
        }
        // Counts per pass/fail segment in one pass (covering index
        // scores_review when no trace column is filtered).
        // Every score row has its trace: join only when a trace column is filtered.
        const bool trace_filter = !f.feature.empty() || !f.tenant.empty() || !f.prompt_version.empty() ||
                                  !f.model.empty() || f.since_ms || f.until_ms;
        const std::string from = trace_filter ? " FROM scores s JOIN traces t ON t.id = s.trace" : " FROM scores s";
        int64_t seg_count[3] = {0, 0, 0};  // failed, passed, no pass/fail
        {
            Query c(m_db, "SELECT count(*) FILTER (WHERE s.passed = 0), count(*) FILTER (WHERE s.passed = 1), "
                          "count(*) FILTER (WHERE s.passed IS NULL)" + from + where);
            if (!c.ok()) {
                return error("preparing count");
            }
            b.apply(c);
            if (c.step() != SQLITE_ROW) {
                return error("counting");
            }
            for (int i = 0; i < 3; ++i) {
                seg_count[i] = c.i64(i);
            }
            out.total = seg_count[0] + seg_count[1] + seg_count[2];
        }
        // The page's trace row ids, in order. bottom walks the index
        // scores_review (scorer_version, decision, passed, value, trace DESC)
        // one segment at a time, so no sort of all matches is needed; top is
        // the exact reverse; newest/oldest walk the traces' time indexes.
        std::vector<int64_t> ids;
        auto collect = [&](const std::string& sql, int64_t seg_offset, int64_t seg_limit) -> Status {
            Query q(m_db, sql + " LIMIT " + std::to_string(seg_limit) + " OFFSET " + std::to_string(seg_offset));
            if (!q.ok()) {
                return error("preparing list");
            }
            b.apply(q);
            int rc = 0;
            while ((rc = q.step()) == SQLITE_ROW) {
                ids.push_back(q.i64(0));
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
                const std::string seg_from =
                    walk ? " FROM scores s INDEXED BY scores_review CROSS JOIN traces t ON t.id = s.trace" : from;
                std::string sql = "SELECT s.trace" + seg_from + where + seg.cond +
                                  (top ? " ORDER BY s.value DESC, s.trace" : " ORDER BY s.value, s.trace DESC");
                int64_t take = std::min(want, seg.n - skip);
                ASSAY_RETURN_IF_ERROR(collect(sql, skip, take));
                want -= take;
                skip = 0;
            }
        } else {
            const bool newest = sort == ReviewSort::newest;
            std::string sql = "SELECT t.id FROM traces t CROSS JOIN scores s ON s.trace = t.id" + where +
                              (newest ? " ORDER BY t.ts_ms DESC, t.id DESC" : " ORDER BY t.ts_ms, t.id");
            ASSAY_RETURN_IF_ERROR(collect(sql, offset, limit));
        }
        std::string reasoning =
            m_has_judgements ? "(SELECT j.reasoning FROM judgements j WHERE j.trace = s.trace AND "
                               "j.scorer_version = s.scorer_version ORDER BY j.at_ms DESC, j.id DESC LIMIT 1)"
                             : "NULL";
        Query q(m_db, "SELECT t.trace_id, s.value, s.passed, s.label, s.explanation, " + reasoning +
                          ", t.ts_ms, t.feature, t.tenant, t.prompt_version, t.model, t.raw, "
                          "(SELECT count(*) FROM labels l WHERE l.trace = s.trace AND "
                          "l.scorer_version = s.scorer_version) "
                          "FROM scores s JOIN traces t ON t.id = s.trace WHERE s.trace = ?1 AND s.scorer_version = ?2");
        if (!q.ok()) {
            return error("preparing list rows");
        }
        for (int64_t id : ids) {
            sqlite3_reset(q.get());
            q.integer(1, id);
            q.integer(2, v->id);
            if (q.step() != SQLITE_ROW) {
                return error("reading list row");
            }
            ReviewRow r;
            r.trace_id = q.s(0);
            r.value = q.d(1);
            r.passed = q.opt_b(2);
            r.label = q.s(3);
            r.explanation = q.s(4);
            r.judge_reasoning = q.s(5);
            r.ts_ms = q.i64(6);
            r.feature = q.s(7);
            r.tenant = q.s(8);
            r.prompt_version = q.s(9);
            r.model = q.s(10);
            r.raw = q.s(11);
            r.labels = q.i64(12);
            out.rows.push_back(std::move(r));
        }
        return out;
    }

    Result<TraceDetail> trace(const std::string& trace_id) override {
        std::lock_guard lock(m_mu);
        Query t(m_db, "SELECT id, raw, ts_ms, received_ms FROM traces WHERE trace_id = ?1");
        if (!t.ok()) {
            return error("preparing trace lookup");
        }
        t.text(1, trace_id);
        int rc = t.step();
        if (rc == SQLITE_DONE) {
            return Status::not_found("no trace '" + trace_id + "' in the store");
        }
        if (rc != SQLITE_ROW) {
            return error("reading trace");
        }
        TraceDetail out;
        const int64_t row = t.i64(0);
        out.trace_id = trace_id;
        out.raw = t.s(1);
        out.ts_ms = t.i64(2);
        out.received_ms = t.i64(3);
        Query s(m_db, "SELECT v.id, v.scorer, v.version, v.type, d.name, s.value, s.passed, s.label, "
                      "s.explanation, s.reason, s.at_ms FROM scores s "
                      "JOIN scorer_versions v ON v.id = s.scorer_version "
                      "LEFT JOIN decisions d ON d.code = s.decision "
                      "WHERE s.trace = ?1 ORDER BY v.scorer, v.last_seen_ms DESC, v.id DESC");
        if (!s.ok()) {
            return error("preparing decisions");
        }
        s.integer(1, row);
        std::vector<int64_t> version_ids;
        while ((rc = s.step()) == SQLITE_ROW) {
            DecisionRecord d;
            version_ids.push_back(s.i64(0));
            d.scorer = s.s(1);
            d.scorer_version = s.s(2);
            d.scorer_type = s.s(3);
            d.decision = s.s(4);
            d.value = s.opt_d(5);
            d.passed = s.opt_b(6);
            d.label = s.s(7);
            d.explanation = s.s(8);
            d.reason = s.s(9);
            d.at_ms = s.i64(10);
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
        Query l(m_db, "SELECT l.id, v.scorer, v.version, l.reviewer, l.verdict, l.score, l.note, l.at_ms "
                      "FROM labels l JOIN scorer_versions v ON v.id = l.scorer_version "
                      "WHERE l.trace = ?1 ORDER BY l.at_ms DESC, l.id DESC");
        if (!l.ok()) {
            return error("preparing labels");
        }
        l.integer(1, row);
        while ((rc = l.step()) == SQLITE_ROW) {
            LabelRecord r;
            r.id = l.i64(0);
            r.trace_id = trace_id;
            r.scorer = l.s(1);
            r.scorer_version = l.s(2);
            r.reviewer = l.s(3);
            r.verdict = l.s(4);
            r.score = l.opt_d(5);
            r.note = l.s(6);
            r.at_ms = l.i64(7);
            out.labels.push_back(std::move(r));
        }
        if (rc != SQLITE_DONE) {
            return error("reading labels");
        }
        return out;
    }

    Result<int64_t> add_label(const NewLabel& n) override {
        if (n.verdict != "agree" && n.verdict != "disagree" && n.verdict != "score") {
            return Status::invalid_argument("verdict '" + n.verdict + "': expected agree, disagree or score");
        }
        if (n.verdict == "score" && !n.score) {
            return Status::invalid_argument("verdict 'score' needs a score");
        }
        if (n.reviewer.empty()) {
            return Status::invalid_argument("reviewer: a name is required");
        }
        std::lock_guard lock(m_mu);
        auto v = resolve_version(n.scorer, n.scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        Query t(m_db, "SELECT id FROM traces WHERE trace_id = ?1");
        if (!t.ok()) {
            return error("preparing trace lookup");
        }
        t.text(1, n.trace_id);
        int rc = t.step();
        if (rc == SQLITE_DONE) {
            return Status::not_found("no trace '" + n.trace_id + "' in the store");
        }
        if (rc != SQLITE_ROW) {
            return error("reading trace");
        }
        Query ins(m_db, "INSERT INTO labels (trace, scorer_version, reviewer, verdict, score, note, at_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!ins.ok()) {
            return error("preparing label insert");
        }
        ins.integer(1, t.i64(0));
        ins.integer(2, v->id);
        ins.text(3, n.reviewer);
        ins.text(4, n.verdict);
        if (n.verdict == "score") {
            ins.real(5, *n.score);
        } else {
            ins.null(5);
        }
        ins.text(6, n.note);
        ins.integer(7, n.at_ms);
        if (ins.step() != SQLITE_DONE) {
            return error("storing label");
        }
        return static_cast<int64_t>(sqlite3_last_insert_rowid(m_db));
    }

    Result<std::vector<CalibrationPair>> calibration_pairs(const std::string& scorer,
                                                           const std::string& scorer_version) override {
        std::lock_guard lock(m_mu);
        Binds b;
        std::string sql =
            "SELECT t.trace_id, v.version, s.value, s.passed, s.label, l.id, l.reviewer, l.verdict, l.score, "
            "l.note, l.at_ms FROM labels l JOIN scorer_versions v ON v.id = l.scorer_version "
            "JOIN traces t ON t.id = l.trace "
            "JOIN scores s ON s.trace = l.trace AND s.scorer_version = l.scorer_version AND s.decision = 0 "
            "WHERE v.scorer = " + b.add(scorer);
        if (!scorer_version.empty()) {
            sql += " AND v.version = " + b.add(scorer_version);
        }
        sql += " ORDER BY l.at_ms, l.id";
        Query q(m_db, sql);
        if (!q.ok()) {
            return error("preparing calibration query");
        }
        b.apply(q);
        std::vector<CalibrationPair> out;
        int rc = 0;
        while ((rc = q.step()) == SQLITE_ROW) {
            CalibrationPair p;
            p.trace_id = q.s(0);
            p.scorer_version = q.s(1);
            p.value = q.d(2);
            p.passed = q.opt_b(3);
            p.choice = q.s(4);
            p.human.id = q.i64(5);
            p.human.trace_id = p.trace_id;
            p.human.scorer = scorer;
            p.human.scorer_version = p.scorer_version;
            p.human.reviewer = q.s(6);
            p.human.verdict = q.s(7);
            p.human.score = q.opt_d(8);
            p.human.note = q.s(9);
            p.human.at_ms = q.i64(10);
            out.push_back(std::move(p));
        }
        if (rc != SQLITE_DONE) {
            return error("reading calibration pairs");
        }
        return out;
    }

    Result<std::vector<TrendPoint>> trends(const std::string& scorer, const std::string& scorer_version,
                                           int64_t days) override {
        std::lock_guard lock(m_mu);
        auto v = resolve_version(scorer, scorer_version);
        if (!v.ok()) {
            return v.status();
        }
        constexpr int64_t k_day_ms = 86400000;
        int64_t since_ms = 0;
        {
            Query m(m_db, "SELECT max(ts_ms) FROM traces");
            if (!m.ok() || m.step() != SQLITE_ROW) {
                return error("reading the newest trace time");
            }
            if (!m.is_null(0)) {
                since_ms = (m.i64(0) / k_day_ms - (days - 1)) * k_day_ms;
            }
        }
        // Walks traces_feature (feature, ts_ms) so that the groups come in
        // index order, probing each trace's score: no temporary sort.
        Query q(m_db, "SELECT coalesce(t.feature, ''), t.ts_ms / 86400000, count(*), avg(s.value), avg(s.passed), "
                      "count(s.passed) FROM traces t INDEXED BY traces_feature CROSS JOIN scores s ON s.trace = t.id "
                      "WHERE s.scorer_version = ?1 AND s.decision = 0 AND t.ts_ms >= ?2 "
                      "GROUP BY 1, 2 ORDER BY 1, 2");
        if (!q.ok()) {
            return error("preparing trends");
        }
        q.integer(1, v->id);
        q.integer(2, since_ms);
        std::vector<TrendPoint> out;
        int rc = 0;
        while ((rc = q.step()) == SQLITE_ROW) {
            TrendPoint p;
            p.feature = q.s(0);
            p.day = format_rfc3339_ms(q.i64(1) * k_day_ms).substr(0, 10);
            p.n = q.i64(2);
            p.mean = q.d(3);
            if (q.i64(5) > 0) {
                p.pass_rate = q.d(4);
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

    Status error(const std::string& what) const {
        return Status::io_error("sqlite '" + m_path + "': " + what + ": " + sqlite3_errmsg(m_db));
    }

    Result<Version> resolve_version(const std::string& scorer, const std::string& version) {
        if (scorer.empty()) {
            return Status::invalid_argument("scorer: a scorer name is required");
        }
        Query q(m_db, version.empty()
                          ? "SELECT id, version, type FROM scorer_versions WHERE scorer = ?1 "
                            "ORDER BY last_seen_ms DESC, id DESC LIMIT 1"
                          : "SELECT id, version, type FROM scorer_versions WHERE scorer = ?1 AND version = ?2");
        if (!q.ok()) {
            return error("preparing version lookup");
        }
        q.text(1, scorer);
        if (!version.empty()) {
            q.text(2, version);
        }
        int rc = q.step();
        if (rc == SQLITE_DONE) {
            return Status::not_found(version.empty()
                                         ? "no scorer named '" + scorer + "' has written to this store"
                                         : "scorer '" + scorer + "' has no version '" + version + "' in this store");
        }
        if (rc != SQLITE_ROW) {
            return error("looking up scorer version");
        }
        return Version{q.i64(0), q.s(1), q.s(2)};
    }

    Result<std::vector<JudgementRecord>> judgements(int64_t trace_row, int64_t version_id) {
        Query q(m_db, "SELECT judge, model, rubric, rubric_version, rubric_hash, score, passed, choice, reasoning, "
                      "input_tokens, output_tokens, cost_usd, latency_ms, attempts, cached, error_type, "
                      "error_message, at_ms FROM judgements WHERE trace = ?1 AND scorer_version = ?2 "
                      "ORDER BY at_ms, id");
        if (!q.ok()) {
            return error("preparing judgements");
        }
        q.integer(1, trace_row);
        q.integer(2, version_id);
        std::vector<JudgementRecord> out;
        int rc = 0;
        while ((rc = q.step()) == SQLITE_ROW) {
            JudgementRecord j;
            j.judge = q.s(0);
            j.model = q.s(1);
            j.rubric = q.s(2);
            j.rubric_version = q.s(3);
            j.rubric_hash = q.s(4);
            j.score = q.opt_d(5);
            j.passed = q.opt_b(6);
            j.choice = q.s(7);
            j.reasoning = q.s(8);
            j.input_tokens = q.i64(9);
            j.output_tokens = q.i64(10);
            j.cost_usd = q.d(11);
            j.latency_ms = q.d(12);
            j.attempts = static_cast<int32_t>(q.i64(13));
            j.cached = q.i64(14) != 0;
            j.error_type = q.s(15);
            j.error_message = q.s(16);
            j.at_ms = q.i64(17);
            out.push_back(std::move(j));
        }
        if (rc != SQLITE_DONE) {
            return error("reading judgements");
        }
        return out;
    }

    std::mutex m_mu;
    sqlite3* m_db;
    std::string m_path;
    bool m_has_judgements = false;
};

}  // namespace

Result<std::unique_ptr<ReviewStore>> open_sqlite_review_store(const std::string& path) {
    {
        // Creates nothing new for an existing file, but applies pending
        // migrations (the labels table) before this connection reads.
        StoreOptions opts;
        opts.sqlite_path = path;
        auto migrated = SqliteStore::open(opts);
        if (!migrated.ok()) {
            return migrated.status();
        }
    }
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return Status::io_error("cannot open store '" + path + "': " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA cache_size = -65536", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "PRAGMA temp_store = MEMORY", nullptr, nullptr, nullptr);
    // Reads through a memory map: the filtered counts probe ~100k random
    // pages, and a read() per page costs more than the probe itself.
    sqlite3_exec(db, "PRAGMA mmap_size = 2147418112", nullptr, nullptr, nullptr);
    return std::unique_ptr<ReviewStore>(std::make_unique<SqliteReviewStore>(db, path));
}

}  // namespace assay
