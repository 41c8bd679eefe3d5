#include "store/aggregate_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/clock.h"
#include "store/aggregate_buckets.h"
#include "store/sqlite/conn.h"
#include "store/sqlite/monitor_stores.h"

namespace assay {

namespace {

using namespace aggregate_buckets;

// Hour rows of one hour bucket [?1, ?1 + 1h) from scores and traces.
const char* k_insert_hour = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, count, sum, sum_sq, passed, failed, seen, in_scope, sampled, pending, skipped, errors)
SELECT v.scorer, v.version, coalesce(t.feature, ''), coalesce(t.prompt_version, ''),
  coalesce(t.tenant, ''), coalesce(t.model, ''), 'hour', ?1,
  count(CASE WHEN s.decision = 0 THEN 1 END), total(s.value), total(s.value * s.value),
  count(CASE WHEN s.decision = 0 AND s.passed = 1 THEN 1 END),
  count(CASE WHEN s.decision = 0 AND s.passed = 0 THEN 1 END),
  count(*), count(CASE WHEN s.decision <> 1 THEN 1 END),
  count(CASE WHEN s.decision NOT IN (1, 2) THEN 1 END), count(CASE WHEN s.decision = 4 THEN 1 END),
  count(CASE WHEN s.decision IN (3, 5) THEN 1 END), count(CASE WHEN s.decision = 6 THEN 1 END)
FROM traces t
JOIN scores s ON s.trace = t.id
JOIN scorer_versions v ON v.id = s.scorer_version
WHERE t.ts_ms >= ?1 AND t.ts_ms < ?1 + 3600000
GROUP BY 1, 2, 3, 4, 5, 6
)sql";

const char* k_upsert_judge_hour = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, judge_calls, judge_input_tokens, judge_output_tokens, judge_cost_usd, judge_errors)
SELECT v.scorer, v.version, coalesce(t.feature, ''), coalesce(t.prompt_version, ''),
  coalesce(t.tenant, ''), coalesce(t.model, ''), 'hour', ?1,
  count(*), total(j.input_tokens), total(j.output_tokens), total(j.cost_usd),
  count(j.error_type)
FROM judgements j
JOIN traces t ON t.id = j.trace
JOIN scorer_versions v ON v.id = j.scorer_version
WHERE t.ts_ms >= ?1 AND t.ts_ms < ?1 + 3600000
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT DO UPDATE SET judge_calls = excluded.judge_calls,
  judge_input_tokens = excluded.judge_input_tokens, judge_output_tokens = excluded.judge_output_tokens,
  judge_cost_usd = excluded.judge_cost_usd, judge_errors = excluded.judge_errors
)sql";

// Day rows of day ?1 from its hour rows.
const char* k_insert_day = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, count, sum, sum_sq, passed, failed, seen, in_scope, sampled, pending, skipped,
  errors, judge_calls, judge_input_tokens, judge_output_tokens, judge_cost_usd, judge_errors)
SELECT scorer, scorer_version, feature, prompt_version, tenant, model, 'day', ?1,
  sum(count), total(sum), total(sum_sq), sum(passed), sum(failed), sum(seen), sum(in_scope),
  sum(sampled), sum(pending), sum(skipped), sum(errors), sum(judge_calls), sum(judge_input_tokens),
  sum(judge_output_tokens), total(judge_cost_usd), sum(judge_errors)
FROM aggregates
WHERE bucket = 'hour' AND bucket_start_ms >= ?1 AND bucket_start_ms < ?1 + 86400000
GROUP BY scorer, scorer_version, feature, prompt_version, tenant, model
)sql";

class SqliteAggregateStore final : public AggregateStore {
public:
    explicit SqliteAggregateStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    Status refresh(int64_t since_ms) override {
        auto r = refresh_from(since_ms);
        return r.ok() ? Status() : r.status();
    }

    Status refresh() override {
        auto st = m_c->prepare("SELECT value FROM monitor_state WHERE key = ?1");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, k_watermark_key);
        int64_t since = 0;
        if (st->step() == SQLITE_ROW) {
            since = st->col_int(0) - k_slack_ms;
        }
        st->reset();
        auto max_at = refresh_from(since);
        if (!max_at.ok()) {
            return max_at.status();
        }
        // A row stamped in the future (clock skew) must not hold the
        // watermark ahead of rows written later with a correct clock.
        const int64_t mark = std::min(*max_at, now_ms());
        if (mark <= 0) {
            return {};
        }
        auto up = m_c->prepare(
            "INSERT INTO monitor_state (key, value) VALUES (?1, ?2) "
            "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)");
        if (!up.ok()) {
            return up.status();
        }
        up->bind_text(1, k_watermark_key);
        up->bind_int(2, mark);
        return m_c->run(*up, "advancing the aggregates watermark");
    }

    Status refresh_times(const std::vector<int64_t>& ts_ms) override {
        return recompute_chunked(hours_of(ts_ms));
    }

    Result<std::vector<GroupStats>> query(const AggregateQuery& q) override {
        ASSAY_RETURN_IF_ERROR(check_group_by(q.by));
        const bool days = q.from_ms % k_day == 0 && q.to_ms % k_day == 0;
        std::string cols;
        for (const auto& d : q.by) {
            cols += ", " + d;
        }
        std::string sql =
            "SELECT scorer, scorer_version" + cols +
            ", sum(count), total(sum), total(sum_sq), sum(passed), sum(failed), sum(seen), "
            "sum(in_scope), sum(sampled), sum(pending), sum(skipped), sum(errors), "
            "sum(judge_calls), "
            "sum(judge_input_tokens), sum(judge_output_tokens), total(judge_cost_usd), "
            "sum(judge_errors), min(bucket_start_ms), max(bucket_start_ms) FROM aggregates "
            "WHERE bucket = ?1 AND bucket_start_ms >= ?2 AND bucket_start_ms < ?3 "
            "AND (?4 = '' OR scorer = ?4) AND (?5 = '' OR scorer_version = ?5) "
            "GROUP BY scorer, scorer_version" +
            cols + " ORDER BY scorer, scorer_version" + cols;
        auto st = m_c->prepare(sql);
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, days ? "day" : "hour");
        st->bind_int(2, q.from_ms);
        st->bind_int(3, q.to_ms);
        st->bind_text(4, q.scorer);
        st->bind_text(5, q.scorer_version);
        std::vector<GroupStats> out;
        int rc;
        while ((rc = st->step()) == SQLITE_ROW) {
            GroupStats g;
            int i = 0;
            g.scorer = st->col_text(i++);
            g.scorer_version = st->col_text(i++);
            for (size_t k = 0; k < q.by.size(); ++k) {
                g.group.push_back(st->col_text(i++));
            }
            g.count = st->col_int(i++);
            g.sum = st->col_double(i++);
            g.sum_sq = st->col_double(i++);
            g.passed = st->col_int(i++);
            g.failed = st->col_int(i++);
            g.seen = st->col_int(i++);
            g.in_scope = st->col_int(i++);
            g.sampled = st->col_int(i++);
            g.pending = st->col_int(i++);
            g.skipped = st->col_int(i++);
            g.errors = st->col_int(i++);
            g.judge_calls = st->col_int(i++);
            g.judge_input_tokens = st->col_int(i++);
            g.judge_output_tokens = st->col_int(i++);
            g.judge_cost_usd = st->col_double(i++);
            g.judge_errors = st->col_int(i++);
            g.first_ms = st->col_int(i++);
            g.last_ms = st->col_int(i++);
            out.push_back(std::move(g));
        }
        if (rc != SQLITE_DONE) {
            return m_c->error("querying aggregates");
        }
        return out;
    }

    Result<std::optional<DataRange>> data_range() override {
        // Two queries: each is one probe of the primary key (bucket, bucket_start_ms, ...).
        int64_t ends[2] = {0, 0};
        for (int i = 0; i < 2; ++i) {
            auto st = m_c->prepare(
                i == 0 ? "SELECT min(bucket_start_ms) FROM aggregates WHERE bucket = 'hour'"
                       : "SELECT max(bucket_start_ms) FROM aggregates WHERE bucket = 'hour'");
            if (!st.ok()) {
                return st.status();
            }
            if (st->step() != SQLITE_ROW) {
                return m_c->error("reading the aggregates' time range");
            }
            if (st->col_null(0)) {
                return std::optional<DataRange>();
            }
            ends[i] = st->col_int(0);
        }
        return std::optional<DataRange>(DataRange{ends[0], ends[1] + k_hour});
    }

    Result<JudgeWindowStats> judge_window(const std::string& judge, int64_t from_ms,
                                          int64_t to_ms) override {
        JudgeWindowStats w;
        auto has = m_c->has_table("judgements");
        if (!has.ok()) {
            return has.status();
        }
        if (!*has) {
            return w;
        }
        w.table_present = true;
        auto st = m_c->prepare(
            "SELECT count(*), coalesce(sum(error_type IS NOT NULL), 0), total(input_tokens), "
            "total(output_tokens), total(cost_usd) FROM judgements "
            "WHERE at_ms >= ?1 AND at_ms < ?2 AND (?3 = '' OR judge = ?3)");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, from_ms);
        st->bind_int(2, to_ms);
        st->bind_text(3, judge);
        if (st->step() != SQLITE_ROW) {
            return m_c->error("querying judgements");
        }
        w.calls = st->col_int(0);
        w.errors = st->col_int(1);
        w.input_tokens = static_cast<int64_t>(st->col_double(2));
        w.output_tokens = static_cast<int64_t>(st->col_double(3));
        w.cost_usd = st->col_double(4);
        return w;
    }

private:
    // Recomputes the hours changed since since_ms; returns the largest at_ms
    // read (the next watermark), or 0.
    Result<int64_t> refresh_from(int64_t since_ms) {
        auto has_j = m_c->has_table("judgements");
        if (!has_j.ok()) {
            return has_j.status();
        }
        // The hours touched since the watermark, and the newest row time:
        // score rows from changed_hours (one row per hour of trace time with
        // the newest at_ms of its score rows, kept by the store's writers),
        // judgements from their table.
        std::set<int64_t> hours;
        int64_t max_at = 0;
        std::vector<std::string> sqls = {
            "SELECT hour_ms FROM changed_hours WHERE changed_ms >= ?1",
            "SELECT max(changed_ms) FROM changed_hours WHERE changed_ms >= ?1"};
        if (*has_j) {
            sqls.push_back(
                "SELECT DISTINCT t.ts_ms - (t.ts_ms % 3600000) FROM judgements j "
                "JOIN traces t ON t.id = j.trace WHERE j.at_ms >= ?1");
            sqls.push_back("SELECT max(at_ms) FROM judgements WHERE at_ms >= ?1");
        }
        for (size_t q = 0; q < sqls.size(); ++q) {
            auto st = m_c->prepare(sqls[q]);
            if (!st.ok()) {
                return st.status();
            }
            st->bind_int(1, since_ms);
            int rc;
            while ((rc = st->step()) == SQLITE_ROW) {
                if (q % 2 == 0) {
                    hours.insert(floor_to(st->col_int(0), k_hour));
                } else {
                    max_at = std::max(max_at, st->col_int(0));
                }
            }
            if (rc != SQLITE_DONE) {
                return m_c->error("finding changed aggregate buckets");
            }
        }
        ASSAY_RETURN_IF_ERROR(recompute_chunked(hours));
        return max_at;
    }

    // One write transaction per k_chunk_hours hours, so a large rebuild (the
    // first refresh of a big store) never holds the write lock for long and
    // the worker's commits keep flowing. Each hour is replaced whole, so a
    // crash between chunks leaves nothing double-counted; the watermark only
    // advances after the last chunk.
    Status recompute_chunked(const std::set<int64_t>& hours) {
        // One hour per write transaction: the worker's commits wait for the
        // write lock while a bucket is recomputed, so keep each one short.
        constexpr size_t k_chunk_hours = 1;
        std::set<int64_t> chunk;
        for (auto it = hours.begin(); it != hours.end();) {
            chunk.insert(*it);
            ++it;
            if (chunk.size() == k_chunk_hours || it == hours.end()) {
                SqlTxn txn(*m_c);
                ASSAY_RETURN_IF_ERROR(txn.begin());
                ASSAY_RETURN_IF_ERROR(recompute(chunk));
                ASSAY_RETURN_IF_ERROR(txn.commit());
                chunk.clear();
            }
        }
        return {};
    }

    // Replaces the hour rows of `hours` and the day rows of their days.
    Status recompute(const std::set<int64_t>& hours) {
        if (hours.empty()) {
            return {};
        }
        auto has_j = m_c->has_table("judgements");
        if (!has_j.ok()) {
            return has_j.status();
        }
        auto del =
            m_c->prepare("DELETE FROM aggregates WHERE bucket = ?1 AND bucket_start_ms = ?2");
        auto ins = m_c->prepare(k_insert_hour);
        auto day = m_c->prepare(k_insert_day);
        if (!del.ok() || !ins.ok() || !day.ok()) {
            return !del.ok() ? del.status() : !ins.ok() ? ins.status() : day.status();
        }
        std::optional<SqlStmt> judge;
        if (*has_j) {
            auto j = m_c->prepare(k_upsert_judge_hour);
            if (!j.ok()) {
                return j.status();
            }
            judge.emplace(std::move(j.value()));
        }
        std::set<int64_t> days;
        for (int64_t h : hours) {
            days.insert(floor_to(h, k_day));
            del->bind_text(1, "hour");
            del->bind_int(2, h);
            ASSAY_RETURN_IF_ERROR(m_c->run(*del, "clearing an hour bucket"));
            ins->bind_int(1, h);
            ASSAY_RETURN_IF_ERROR(m_c->run(*ins, "aggregating an hour bucket"));
            if (judge) {
                judge->bind_int(1, h);
                ASSAY_RETURN_IF_ERROR(m_c->run(*judge, "aggregating judgements of an hour bucket"));
            }
        }
        for (int64_t d : days) {
            del->bind_text(1, "day");
            del->bind_int(2, d);
            ASSAY_RETURN_IF_ERROR(m_c->run(*del, "clearing a day bucket"));
            day->bind_int(1, d);
            ASSAY_RETURN_IF_ERROR(m_c->run(*day, "aggregating a day bucket"));
        }
        return {};
    }

    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

double GroupStats::variance() const {
    if (count < 2) {
        return 0.0;
    }
    const double n = static_cast<double>(count);
    const double v = (sum_sq - sum * sum / n) / (n - 1.0);
    return v > 0 ? v : 0.0;
}

std::optional<double> GroupStats::pass_rate() const {
    if (passed + failed == 0) {
        return std::nullopt;
    }
    return static_cast<double>(passed) / static_cast<double>(passed + failed);
}

double GroupStats::estimated_scored() const {
    if (sampled <= 0) {
        return static_cast<double>(count);
    }
    return static_cast<double>(count) * static_cast<double>(in_scope) /
           static_cast<double>(sampled);
}

Result<std::unique_ptr<AggregateStore>> open_sqlite_aggregate_store(
    const std::string& sqlite_path) {
    auto c = SqliteConn::open(sqlite_path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<AggregateStore>(new SqliteAggregateStore(std::move(c.value())));
}

}  // namespace assay
