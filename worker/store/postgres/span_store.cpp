// PostgreSQL SpanStore (span_store.h, postgres/monitor_stores.h): one
// connection guarded by a mutex (the HTTP threads and the producer share the
// object). put() is one multi-row upsert per transaction.
#include "store/span_store.h"

#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "store/postgres/array_param.h"
#include "store/postgres/conn.h"
#include "store/postgres/monitor_stores.h"
#include "store/postgres/multi_insert.h"
#include "store/postgres/open.h"

namespace assay {

namespace {

using pg::PgConn;
using pg::PgParams;

class PostgresSpanStore final : public SpanStore {
public:
    explicit PostgresSpanStore(std::unique_ptr<PgConn> c) : m_c(std::move(c)) {}

    Status put(const std::vector<PendingSpanRow>& rows) override {
        // One row per (trace, span key): where it first appears (insertion order,
        // as SQLite's row ids), with the last copy's content (an upsert per
        // row would do the same; one statement cannot update a row twice).
        std::map<std::pair<std::string_view, std::string_view>, size_t> last;
        std::vector<size_t> order;
        for (size_t i = 0; i < rows.size(); ++i) {
            auto [it, fresh] = last.try_emplace({rows[i].trace_key, rows[i].span_id}, i);
            if (fresh) {
                order.push_back(i);
            } else {
                it->second = i;
            }
        }
        std::lock_guard<std::mutex> lock(m_mu);
        pg::PgTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        ASSAY_RETURN_IF_ERROR(pg::multi_insert(
            *m_c, "INSERT INTO otlp_spans (trace_key, span_id, received_ms, span_json, span_count)",
            "ON CONFLICT (trace_key, span_id) DO UPDATE SET received_ms = excluded.received_ms, "
            "span_json = excluded.span_json, span_count = excluded.span_count",
            5, order.size(),
            [&](size_t i, PgParams& p) {
                const PendingSpanRow& r =
                    rows[last[{rows[order[i]].trace_key, rows[order[i]].span_id}]];
                return "(" + p.text(r.trace_key) + ", " + p.text(r.span_id) + ", " +
                       p.integer(r.received_ms) + ", " + p.text(r.span_json) + ", " +
                       p.integer(r.span_count) + ")";
            },
            "span store: storing pending spans"));
        return txn.commit();
    }

    Result<std::vector<PendingSpanRow>> load() override {
        std::lock_guard<std::mutex> lock(m_mu);
        auto r = m_c->exec(
            "SELECT trace_key, span_id, received_ms, span_json, span_count FROM otlp_spans "
            "ORDER BY received_ms, id",
            "span store: loading pending spans");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<PendingSpanRow> out;
        out.reserve(static_cast<size_t>(r->rows()));
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back(
                {r->text(i, 0), r->text(i, 1), r->integer(i, 2), r->text(i, 3), r->integer(i, 4)});
        }
        return out;
    }

    Status erase(const std::vector<std::string>& trace_keys) override {
        if (trace_keys.empty()) {
            return {};
        }
        std::lock_guard<std::mutex> lock(m_mu);
        pg::PgTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        for (const char* table : {"otlp_spans", "otlp_claims"}) {
            PgParams p;
            const std::string sql = std::string("DELETE FROM ") + table +
                                    " WHERE trace_key = ANY(" + pg::text_array(p, trace_keys) + ")";
            ASSAY_RETURN_IF_ERROR(m_c->exec(sql, p, "span store: erasing pending spans").status());
        }
        return txn.commit();
    }

    Result<std::vector<SpanClaim>> claim(const std::vector<SpanClaimAsk>& asks,
                                         const std::string& claimant, int64_t now_ms,
                                         int64_t idle_ms, int64_t lease_ms) override {
        std::vector<SpanClaim> out;
        if (asks.empty()) {
            return out;
        }
        std::vector<std::string> keys;
        keys.reserve(asks.size());
        for (const SpanClaimAsk& a : asks) {
            keys.push_back(a.trace_key);
        }
        std::lock_guard<std::mutex> lock(m_mu);
        pg::PgTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        // Claims of every worker one after the other (the lock conflicts
        // with itself only: puts and erases go on).
        ASSAY_RETURN_IF_ERROR(m_c->exec("LOCK TABLE otlp_claims IN SHARE ROW EXCLUSIVE MODE",
                                        "span store: claiming traces (lock)")
                                  .status());
        PgParams p;
        const std::string arr = pg::text_array(p, keys);
        const std::string now = p.integer(now_ms);
        auto probe = m_c->exec(
            "SELECT EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = k.key), "
            "coalesce((SELECT c.claimant FROM otlp_claims c WHERE c.trace_key = k.key AND "
            "c.until_ms > " +
                now +
                "), ''), "
                "(SELECT coalesce(sum(span_count), 0) FROM otlp_spans s WHERE s.trace_key = "
                "k.key), "
                "(SELECT coalesce(max(received_ms), 0) FROM otlp_spans s WHERE s.trace_key = "
                "k.key) "
                "FROM unnest(" +
                arr + ") WITH ORDINALITY AS k(key, n) ORDER BY k.n",
            p, "span store: claiming traces");
        if (!probe.ok()) {
            return probe.status();
        }
        std::set<std::string_view> claimed_now;
        std::vector<std::string> to_claim, with_rows;
        for (size_t i = 0; i < asks.size(); ++i) {
            const int row = static_cast<int>(i);
            const SpanClaimAsk& a = asks[i];
            SpanClaim c;
            c.stored_spans = probe->integer(row, 2);
            const int64_t newest = probe->integer(row, 3);
            if (probe->text(row, 0) == "t") {
                c.outcome = SpanClaimOutcome::stored;
            } else if (claimed_now.count(a.trace_key) != 0) {
                c.outcome = SpanClaimOutcome::taken;
                c.holder = claimant;
            } else if (const std::string h = probe->text(row, 1);
                       !h.empty() && h != a.dead_holder) {
                c.outcome = SpanClaimOutcome::taken;
                c.holder = h;
            } else if (!a.expired && c.stored_spans > 0 && newest > now_ms - idle_ms) {
                c.outcome = SpanClaimOutcome::busy;
            } else {
                c.outcome = SpanClaimOutcome::claimed;
                claimed_now.insert(a.trace_key);
                to_claim.push_back(a.trace_key);
            }
            if (c.outcome == SpanClaimOutcome::busy ||
                (c.outcome == SpanClaimOutcome::claimed && c.stored_spans > a.local_spans)) {
                with_rows.push_back(a.trace_key);
            }
            out.push_back(std::move(c));
        }
        if (!to_claim.empty()) {
            PgParams w;
            const std::string sql =
                "INSERT INTO otlp_claims (trace_key, claimant, until_ms) SELECT k, " +
                w.text(claimant) + ", " + w.integer(now_ms + lease_ms) + " FROM unnest(" +
                pg::text_array(w, to_claim) +
                ") AS k ON CONFLICT (trace_key) DO UPDATE SET claimant = excluded.claimant, "
                "until_ms = excluded.until_ms";
            ASSAY_RETURN_IF_ERROR(m_c->exec(sql, w, "span store: claiming traces").status());
        }
        if (!with_rows.empty()) {
            PgParams r;
            auto rows = m_c->exec(
                "SELECT trace_key, span_id, received_ms, span_json, span_count FROM otlp_spans "
                "WHERE trace_key = ANY(" +
                    pg::text_array(r, with_rows) + ") ORDER BY received_ms, id",
                r, "span store: reading the pending spans of claimed traces");
            if (!rows.ok()) {
                return rows.status();
            }
            std::unordered_map<std::string, std::vector<PendingSpanRow>> by_key;
            for (int i = 0; i < rows->rows(); ++i) {
                PendingSpanRow row{rows->text(i, 0), rows->text(i, 1), rows->integer(i, 2),
                                   rows->text(i, 3), rows->integer(i, 4)};
                by_key[row.trace_key].push_back(std::move(row));
            }
            for (size_t i = 0; i < asks.size(); ++i) {
                const SpanClaimOutcome o = out[i].outcome;
                if ((o == SpanClaimOutcome::busy || (o == SpanClaimOutcome::claimed &&
                                                     out[i].stored_spans > asks[i].local_spans)) &&
                    by_key.count(asks[i].trace_key) != 0) {
                    out[i].rows = std::move(by_key[asks[i].trace_key]);
                }
            }
        }
        ASSAY_RETURN_IF_ERROR(txn.commit());
        return out;
    }

    Result<std::vector<std::string>> stale_traces(int64_t first_before_ms, int64_t now_ms,
                                                  size_t limit) override {
        std::lock_guard<std::mutex> lock(m_mu);
        PgParams p;
        const std::string sql =
            "SELECT s.trace_key FROM otlp_spans s WHERE s.received_ms <= " +
            p.integer(first_before_ms) +
            " AND NOT EXISTS (SELECT 1 FROM otlp_claims c WHERE c.trace_key = s.trace_key AND "
            "c.until_ms > " +
            p.integer(now_ms) + ") GROUP BY s.trace_key ORDER BY min(s.received_ms) LIMIT " +
            p.integer(static_cast<int64_t>(limit));
        auto r = m_c->exec(sql, p, "span store: finding pending traces no worker completes");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<std::string> out;
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back(r->text(i, 0));
        }
        return out;
    }

    Result<int64_t> count() override {
        std::lock_guard<std::mutex> lock(m_mu);
        auto r = m_c->exec("SELECT coalesce(sum(span_count), 0) FROM otlp_spans",
                           "span store: counting pending spans");
        if (!r.ok()) {
            return r.status();
        }
        return r->integer(0, 0);
    }

    Result<bool> trace_stored(const std::string& trace_id) override {
        std::lock_guard<std::mutex> lock(m_mu);
        PgParams p;
        const std::string sql = "SELECT 1 FROM traces WHERE trace_id = " + p.text(trace_id);
        auto r = m_c->exec(sql, p, "span store: looking up trace " + trace_id);
        if (!r.ok()) {
            return r.status();
        }
        return r->rows() > 0;
    }

    Status dead_letter(int64_t received_ms, const std::string& source, const std::string& error,
                       const std::string& raw, int64_t raw_bytes) override {
        std::lock_guard<std::mutex> lock(m_mu);
        PgParams p;
        const std::string sql =
            "INSERT INTO dead_letters (received_ms, source, line, error, raw, raw_bytes) VALUES (" +
            p.integer(received_ms) + ", " + p.text(source) + ", NULL, " + p.text(error) + ", " +
            p.bytes(raw) + ", " + p.integer(raw_bytes) + ")";
        return m_c->exec(sql, p, "span store: storing a dead letter").status();
    }

private:
    std::mutex m_mu;
    std::unique_ptr<PgConn> m_c;
};

}  // namespace

Result<std::unique_ptr<SpanStore>> open_postgres_span_store(const std::string& uri) {
    auto c = pg::connect_store(uri);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<SpanStore>(new PostgresSpanStore(std::move(c.value())));
}

}  // namespace assay
