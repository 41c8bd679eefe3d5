// PostgreSQL AggregateStore (aggregate_store.h, postgres/monitor_stores.h):
// the same buckets as SQLite, recomputed whole from scores, traces and
// judgements. "Once across workers": each hour is recomputed in its own
// transaction that first takes a transaction-level advisory lock on the
// hour's day, so two workers recomputing the same day run one after the
// other; and every row is replaced from the source rows (DELETE + INSERT ...
// SELECT), never incremented, so the second one writes the same rows again.
#include "store/aggregate_store.h"

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "store/aggregate_buckets.h"
#include "store/postgres/conn.h"
#include "store/postgres/monitor_stores.h"
#include "store/postgres/open.h"

namespace assay {

namespace {

using namespace aggregate_buckets;

using pg::PgConn;
using pg::PgParams;

// pg_advisory_xact_lock(k_day_lock_class, day number): the recompute of one day.
constexpr int k_day_lock_class = 0x41474701;  // "AGG\1"

// Hour rows of one hour bucket [$1, $1 + 1h) from scores and traces.
const char* k_insert_hour = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, count, sum, sum_sq, passed, failed, seen, in_scope, sampled, pending, skipped, errors)
SELECT v.scorer, v.version, coalesce(t.feature, ''), coalesce(t.prompt_version, ''),
  coalesce(t.tenant, ''), coalesce(t.model, ''), 'hour', $1::bigint,
  count(CASE WHEN s.decision = 0 THEN 1 END), coalesce(sum(s.value), 0),
  coalesce(sum(s.value * s.value), 0),
  count(CASE WHEN s.decision = 0 AND s.passed = 1 THEN 1 END),
  count(CASE WHEN s.decision = 0 AND s.passed = 0 THEN 1 END),
  count(*), count(CASE WHEN s.decision <> 1 THEN 1 END),
  count(CASE WHEN s.decision NOT IN (1, 2) THEN 1 END), count(CASE WHEN s.decision = 4 THEN 1 END),
  count(CASE WHEN s.decision IN (3, 5) THEN 1 END), count(CASE WHEN s.decision = 6 THEN 1 END)
FROM traces t
JOIN scores s ON s.trace = t.id
JOIN scorer_versions v ON v.id = s.scorer_version
WHERE t.ts_ms >= $1::bigint AND t.ts_ms < $1::bigint + 3600000
GROUP BY 1, 2, 3, 4, 5, 6
)sql";

const char* k_upsert_judge_hour = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, judge_calls, judge_input_tokens, judge_output_tokens, judge_cost_usd, judge_errors)
SELECT v.scorer, v.version, coalesce(t.feature, ''), coalesce(t.prompt_version, ''),
  coalesce(t.tenant, ''), coalesce(t.model, ''), 'hour', $1::bigint,
  count(*), coalesce(sum(j.input_tokens), 0), coalesce(sum(j.output_tokens), 0),
  coalesce(sum(j.cost_usd), 0), count(j.error_type)
FROM judgements j
JOIN traces t ON t.id = j.trace
JOIN scorer_versions v ON v.id = j.scorer_version
WHERE t.ts_ms >= $1::bigint AND t.ts_ms < $1::bigint + 3600000
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (bucket, bucket_start_ms, scorer, scorer_version, feature, prompt_version, tenant,
  model) DO UPDATE SET judge_calls = excluded.judge_calls,
  judge_input_tokens = excluded.judge_input_tokens, judge_output_tokens = excluded.judge_output_tokens,
  judge_cost_usd = excluded.judge_cost_usd, judge_errors = excluded.judge_errors
)sql";

// Day rows of day $1 from its hour rows.
const char* k_insert_day = R"sql(
INSERT INTO aggregates (scorer, scorer_version, feature, prompt_version, tenant, model, bucket,
  bucket_start_ms, count, sum, sum_sq, passed, failed, seen, in_scope, sampled, pending, skipped,
  errors, judge_calls, judge_input_tokens, judge_output_tokens, judge_cost_usd, judge_errors)
SELECT scorer, scorer_version, feature, prompt_version, tenant, model, 'day', $1::bigint,
  sum(count), sum(sum), sum(sum_sq), sum(passed), sum(failed), sum(seen), sum(in_scope),
  sum(sampled), sum(pending), sum(skipped), sum(errors), sum(judge_calls), sum(judge_input_tokens),
  sum(judge_output_tokens), sum(judge_cost_usd), sum(judge_errors)
FROM aggregates
WHERE bucket = 'hour' AND bucket_start_ms >= $1::bigint AND bucket_start_ms < $1::bigint + 86400000
GROUP BY scorer, scorer_version, feature, prompt_version, tenant, model
)sql";

class PostgresAggregateStore final : public AggregateStore {
public:
    explicit PostgresAggregateStore(std::unique_ptr<PgConn> c) : m_c(std::move(c)) {}

    Status refresh(int64_t since_ms) override {
        auto r = refresh_from(since_ms);
        return r.ok() ? Status() : r.status();
    }

    Status refresh() override {
        PgParams p;
        const std::string sql =
            "SELECT value FROM monitor_state WHERE key = " + p.text(k_watermark_key);
        auto r = m_c->exec(sql, p, "reading the aggregates watermark");
        if (!r.ok()) {
            return r.status();
        }
        const int64_t since = r->rows() > 0 ? r->integer(0, 0) - k_slack_ms : 0;
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
        PgParams u;
        const std::string up = "INSERT INTO monitor_state (key, value) VALUES (" +
                               u.text(k_watermark_key) + ", " + u.integer(mark) +
                               ") ON CONFLICT (key) DO UPDATE SET value = "
                               "greatest(monitor_state.value, excluded.value)";
        return m_c->exec(up, u, "advancing the aggregates watermark").status();
    }

    Status refresh_times(const std::vector<int64_t>& ts_ms) override {
        return recompute_each(hours_of(ts_ms));
    }

    Result<std::vector<GroupStats>> query(const AggregateQuery& q) override {
        ASSAY_RETURN_IF_ERROR(check_group_by(q.by));
        const bool days = q.from_ms % k_day == 0 && q.to_ms % k_day == 0;
        std::string cols;
        for (const auto& d : q.by) {
            cols += ", " + d;  // one of valid_dim's names, never user text
        }
        PgParams p;
        const std::string bucket = p.text(days ? "day" : "hour");
        const std::string from = p.integer(q.from_ms);
        const std::string to = p.integer(q.to_ms);
        const std::string scorer = p.text(q.scorer);
        const std::string version = p.text(q.scorer_version);
        const std::string sql =
            "SELECT scorer, scorer_version" + cols +
            ", sum(count), coalesce(sum(sum), 0), coalesce(sum(sum_sq), 0), sum(passed), "
            "sum(failed), sum(seen), sum(in_scope), sum(sampled), sum(pending), sum(skipped), "
            "sum(errors), sum(judge_calls), sum(judge_input_tokens), sum(judge_output_tokens), "
            "coalesce(sum(judge_cost_usd), 0), sum(judge_errors), min(bucket_start_ms), "
            "max(bucket_start_ms) FROM aggregates WHERE bucket = " +
            bucket + " AND bucket_start_ms >= " + from + " AND bucket_start_ms < " + to + " AND (" +
            scorer + "::text = '' OR scorer = " + scorer + "::text) AND (" + version +
            "::text = '' OR scorer_version = " + version +
            "::text) GROUP BY scorer, scorer_version" + cols +
            " ORDER BY scorer COLLATE \"C\", scorer_version COLLATE \"C\"" + collated(q.by);
        auto r = m_c->exec(sql, p, "querying aggregates");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<GroupStats> out;
        for (int row = 0; row < r->rows(); ++row) {
            GroupStats g;
            int i = 0;
            g.scorer = r->text(row, i++);
            g.scorer_version = r->text(row, i++);
            for (size_t k = 0; k < q.by.size(); ++k) {
                g.group.push_back(r->text(row, i++));
            }
            g.count = r->integer(row, i++);
            g.sum = r->real(row, i++);
            g.sum_sq = r->real(row, i++);
            g.passed = r->integer(row, i++);
            g.failed = r->integer(row, i++);
            g.seen = r->integer(row, i++);
            g.in_scope = r->integer(row, i++);
            g.sampled = r->integer(row, i++);
            g.pending = r->integer(row, i++);
            g.skipped = r->integer(row, i++);
            g.errors = r->integer(row, i++);
            g.judge_calls = r->integer(row, i++);
            g.judge_input_tokens = r->integer(row, i++);
            g.judge_output_tokens = r->integer(row, i++);
            g.judge_cost_usd = r->real(row, i++);
            g.judge_errors = r->integer(row, i++);
            g.first_ms = r->integer(row, i++);
            g.last_ms = r->integer(row, i++);
            out.push_back(std::move(g));
        }
        return out;
    }

    Result<std::optional<DataRange>> data_range() override {
        auto r = m_c->exec(
            "SELECT min(bucket_start_ms), max(bucket_start_ms) FROM aggregates WHERE bucket = "
            "'hour'",
            "reading the aggregates' time range");
        if (!r.ok()) {
            return r.status();
        }
        if (r->null(0, 0)) {
            return std::optional<DataRange>();
        }
        return std::optional<DataRange>(DataRange{r->integer(0, 0), r->integer(0, 1) + k_hour});
    }

    Result<JudgeWindowStats> judge_window(const std::string& judge, int64_t from_ms,
                                          int64_t to_ms) override {
        JudgeWindowStats w;
        w.table_present = true;  // part of the first PostgreSQL migration
        PgParams p;
        const std::string from = p.integer(from_ms);
        const std::string to = p.integer(to_ms);
        const std::string name = p.text(judge);
        const std::string sql =
            "SELECT count(*), count(error_type), coalesce(sum(input_tokens), 0), "
            "coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0) FROM judgements "
            "WHERE at_ms >= " +
            from + " AND at_ms < " + to + " AND (" + name + "::text = '' OR judge = " + name +
            "::text)";
        auto r = m_c->exec(sql, p, "querying judgements");
        if (!r.ok()) {
            return r.status();
        }
        w.calls = r->integer(0, 0);
        w.errors = r->integer(0, 1);
        w.input_tokens = r->integer(0, 2);
        w.output_tokens = r->integer(0, 3);
        w.cost_usd = r->real(0, 4);
        return w;
    }

private:
    // Byte order for the group columns, as SQLite's default BINARY collation.
    static std::string collated(const std::vector<std::string>& by) {
        std::string s;
        for (const auto& d : by) {
            s += ", " + d + " COLLATE \"C\"";
        }
        return s;
    }

    // Recomputes the hours changed since since_ms; returns the largest at_ms
    // read (the next watermark), or 0.
    Result<int64_t> refresh_from(int64_t since_ms) {
        PgParams p;
        const std::string since = p.integer(since_ms);
        // Score rows through changed_hours (one row per hour of trace time
        // with the newest at_ms of its score rows, kept by the writers),
        // judgements from their table.
        const std::string sql =
            "SELECT hour_ms, 0::bigint FROM changed_hours WHERE changed_ms >= " + since +
            " UNION SELECT DISTINCT t.ts_ms - (t.ts_ms % 3600000), 0 FROM judgements j "
            "JOIN traces t ON t.id = j.trace WHERE j.at_ms >= " +
            since +
            " UNION SELECT NULL, greatest((SELECT max(changed_ms) FROM changed_hours WHERE "
            "changed_ms >= " +
            since + "), (SELECT max(at_ms) FROM judgements WHERE at_ms >= " + since + "))";
        auto r = m_c->exec(sql, p, "finding changed aggregate buckets");
        if (!r.ok()) {
            return r.status();
        }
        std::set<int64_t> hours;
        int64_t max_at = 0;
        for (int i = 0; i < r->rows(); ++i) {
            if (r->null(i, 0)) {
                max_at = std::max(max_at, r->integer(i, 1));
            } else {
                hours.insert(floor_to(r->integer(i, 0), k_hour));
            }
        }
        ASSAY_RETURN_IF_ERROR(recompute_each(hours));
        return max_at;
    }

    // One transaction per hour (a large rebuild never holds locks for long;
    // a crash between hours leaves nothing double-counted, and the watermark
    // only advances after the last one).
    Status recompute_each(const std::set<int64_t>& hours) {
        for (int64_t h : hours) {
            pg::PgTxn txn(*m_c);
            ASSAY_RETURN_IF_ERROR(txn.begin());
            ASSAY_RETURN_IF_ERROR(recompute_hour(h));
            ASSAY_RETURN_IF_ERROR(txn.commit());
        }
        return {};
    }

    // Replaces the rows of hour `h` and of its day, under the day's lock.
    Status recompute_hour(int64_t h) {
        const int64_t day = floor_to(h, k_day);
        {
            PgParams p;
            const std::string sql = "SELECT pg_advisory_xact_lock(" + p.integer(k_day_lock_class) +
                                    "::integer, " + p.integer(day / k_day) + "::integer)";
            ASSAY_RETURN_IF_ERROR(m_c->exec(sql, p, "locking a day of aggregates").status());
        }
        ASSAY_RETURN_IF_ERROR(clear("hour", h));
        ASSAY_RETURN_IF_ERROR(fill(k_insert_hour, h, "aggregating an hour bucket"));
        ASSAY_RETURN_IF_ERROR(
            fill(k_upsert_judge_hour, h, "aggregating judgements of an hour bucket"));
        ASSAY_RETURN_IF_ERROR(clear("day", day));
        return fill(k_insert_day, day, "aggregating a day bucket");
    }

    Status clear(const char* bucket, int64_t start) {
        PgParams p;
        const std::string sql = "DELETE FROM aggregates WHERE bucket = " + p.text(bucket) +
                                " AND bucket_start_ms = " + p.integer(start);
        return m_c->exec(sql, p, std::string("clearing a bucket (") + bucket + ")").status();
    }

    // Runs one of the k_insert_* / k_upsert_* statements for the bucket at $1.
    Status fill(const char* sql, int64_t start, const char* what) {
        PgParams p;
        p.integer(start);
        return m_c->exec(sql, p, what).status();
    }

    std::unique_ptr<PgConn> m_c;
};

}  // namespace

Result<std::unique_ptr<AggregateStore>> open_postgres_aggregate_store(const std::string& uri) {
    auto c = pg::connect_store(uri);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<AggregateStore>(new PostgresAggregateStore(std::move(c.value())));
}

}  // namespace assay
