// PostgreSQL SpanStore (span_store.h, postgres/monitor_stores.h): one
// connection guarded by a mutex (the HTTP threads and the producer share the
// object). put() is one multi-row upsert per transaction.
#include "store/span_store.h"

#include <map>
#include <mutex>

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
        // One row per (trace, span): where it first appears (insertion order,
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
            *m_c, "INSERT INTO otlp_spans (trace_key, span_id, received_ms, span_json)",
            "ON CONFLICT (trace_key, span_id) DO UPDATE SET received_ms = excluded.received_ms, "
            "span_json = excluded.span_json",
            4, order.size(),
            [&](size_t i, PgParams& p) {
                const PendingSpanRow& r =
                    rows[last[{rows[order[i]].trace_key, rows[order[i]].span_id}]];
                return "(" + p.text(r.trace_key) + ", " + p.text(r.span_id) + ", " +
                       p.integer(r.received_ms) + ", " + p.text(r.span_json) + ")";
            },
            "span store: storing pending spans"));
        return txn.commit();
    }

    Result<std::vector<PendingSpanRow>> load() override {
        std::lock_guard<std::mutex> lock(m_mu);
        auto r = m_c->exec(
            "SELECT trace_key, span_id, received_ms, span_json FROM otlp_spans "
            "ORDER BY received_ms, id",
            "span store: loading pending spans");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<PendingSpanRow> out;
        out.reserve(static_cast<size_t>(r->rows()));
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back({r->text(i, 0), r->text(i, 1), r->integer(i, 2), r->text(i, 3)});
        }
        return out;
    }

    Status erase(const std::vector<std::string>& trace_keys) override {
        if (trace_keys.empty()) {
            return {};
        }
        std::lock_guard<std::mutex> lock(m_mu);
        PgParams p;
        const std::string sql =
            "DELETE FROM otlp_spans WHERE trace_key = ANY(" + pg::text_array(p, trace_keys) + ")";
        return m_c->exec(sql, p, "span store: erasing pending spans").status();
    }

    Result<int64_t> count() override {
        std::lock_guard<std::mutex> lock(m_mu);
        auto r = m_c->exec("SELECT count(*) FROM otlp_spans", "span store: counting pending spans");
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
