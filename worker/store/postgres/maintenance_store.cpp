// PostgreSQL MaintenanceStore (maintenance_store.h, postgres/monitor_stores.h):
// retention and erasure with bounded transactions. Pruning rewrites at most
// 2000 traces per transaction, resuming after the last (ts_ms, id); an
// erasure deletes at most k_erase_batch traces per transaction, each with
// every row that names it, and the rows found by content (dead letters,
// pending spans, a tenant's aggregates and alerts) k_delete_batch at a time.
// Every step is idempotent, so running an interrupted erasure again finishes it.
#include "store/maintenance_store.h"

#include <string>
#include <vector>

#include "store/erase_match.h"
#include "store/postgres/array_param.h"
#include "store/postgres/conn.h"
#include "store/postgres/monitor_stores.h"
#include "store/postgres/open.h"

namespace assay {

namespace {

using pg::PgConn;
using pg::PgParams;

constexpr int64_t k_prune_batch = 2000;
constexpr int64_t k_erase_batch = 1000;
constexpr int64_t k_delete_batch = 5000;

// A UTC time in milliseconds as SQLite's strftime('%Y-%m-%dT%H:%M:%fZ') writes it.
std::string iso_ms(const std::string& ms) {
    return "to_char(timestamp 'epoch' + " + ms +
           " * interval '1 millisecond', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

int hex_digit(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// bytea read as encode(raw, 'hex') back to its bytes.
std::string from_hex(const std::string& hex) {
    std::string out;
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(hex_digit(hex[i]) * 16 + hex_digit(hex[i + 1]));
    }
    return out;
}

class PostgresMaintenanceStore final : public MaintenanceStore {
public:
    explicit PostgresMaintenanceStore(std::unique_ptr<PgConn> c) : m_c(std::move(c)) {}

    Result<PruneReport> prune_raw(int64_t before_ms, int64_t now_ms) override {
        PruneReport r;
        int64_t after_ts = INT64_MIN, after_id = INT64_MIN;
        for (;;) {
            PgParams p;
            const std::string now = p.integer(now_ms);
            const std::string before = p.integer(before_ms);
            const std::string ts = p.integer(after_ts);
            const std::string id = p.integer(after_id);
            // Stubs start with {"raw_pruned":true and are short; anything else is raw text.
            const std::string sql =
                "UPDATE traces SET raw = '{\"raw_pruned\":true,\"trace_id\":' || "
                "to_json(trace_id)::text || ',\"timestamp\":\"' || " +
                iso_ms("ts_ms") + " || '\",\"pruned_at\":\"' || " + iso_ms(now + "::bigint") +
                " || '\"}' WHERE id IN (SELECT id FROM traces WHERE ts_ms < " + before +
                " AND (ts_ms, id) > (" + ts + "::bigint, " + id +
                "::bigint) AND (left(raw, 18) <> '{\"raw_pruned\":true' OR length(raw) > 512) "
                "ORDER BY ts_ms, id LIMIT " +
                std::to_string(k_prune_batch) + " FOR UPDATE) RETURNING ts_ms, id";
            auto u = m_c->exec(sql, p, "pruning raw trace text");
            if (!u.ok()) {
                return u.status();
            }
            if (u->rows() == 0) {
                break;
            }
            for (int i = 0; i < u->rows(); ++i) {  // the cursor: the largest (ts_ms, id)
                const int64_t t = u->integer(i, 0), k = u->integer(i, 1);
                if (t > after_ts || (t == after_ts && k > after_id)) {
                    after_ts = t;
                    after_id = k;
                }
            }
            r.traces_pruned += u->rows();
        }
        for (;;) {
            PgParams p;
            const std::string sql =
                "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE "
                "received_ms < " +
                p.integer(before_ms) + " LIMIT " + std::to_string(k_delete_batch) + ")";
            auto d = m_c->exec(sql, p, "pruning dead letters");
            if (!d.ok()) {
                return d.status();
            }
            r.dead_letters_deleted += d->affected();
            if (d->affected() < k_delete_batch) {
                break;
            }
        }
        return r;
    }

    Result<EraseReport> erase(const std::string& field, const std::string& id) override {
        ASSAY_RETURN_IF_ERROR(check_erase_request(field, id));
        EraseReport r;
        ASSAY_RETURN_IF_ERROR(erase_traces(field == "user" ? "user_id" : "tenant", id, r));
        ASSAY_RETURN_IF_ERROR(erase_dead_letters(field, id, r));
        ASSAY_RETURN_IF_ERROR(erase_pending_spans(id, r));
        if (field == "tenant") {
            ASSAY_RETURN_IF_ERROR(delete_batched("aggregates", id, r.aggregates));
            ASSAY_RETURN_IF_ERROR(delete_batched("alerts", id, r.alerts));
        }
        return r;
    }

    Result<StoreSize> size() override {
        auto r = m_c->exec(
            "SELECT current_setting('block_size')::bigint, "
            "pg_database_size(current_database()) / current_setting('block_size')::bigint",
            "reading the database size");
        if (!r.ok()) {
            return r.status();
        }
        StoreSize s;
        s.page_size = r->integer(0, 0);
        s.page_count = r->integer(0, 1);
        return s;  // freelist_count: PostgreSQL reuses free space in place (0)
    }

    Status vacuum() override {
        // Plain VACUUM (no exclusive lock): the space of deleted rows is
        // reusable and their index entries are gone. Bytes may stay in free
        // space until overwritten; VACUUM FULL (an exclusive lock) is the
        // operator's call (README, PostgreSQL).
        return m_c
            ->exec(
                "VACUUM traces, scores, judge_queue, judgements, labels, dead_letters, "
                "otlp_spans, aggregates, alerts",
                "vacuuming")
            .status();
    }

private:
    // The traces of `column` = id, k_erase_batch per transaction, each with
    // its scores, judge-queue entries, judgements and labels.
    Status erase_traces(const char* column, const std::string& id, EraseReport& r) {
        for (;;) {
            pg::PgTxn txn(*m_c);
            ASSAY_RETURN_IF_ERROR(txn.begin());
            PgParams p;
            const std::string sql = std::string("SELECT id, ts_ms FROM traces WHERE ") + column +
                                    " = " + p.text(id) + " ORDER BY id LIMIT " +
                                    std::to_string(k_erase_batch) + " FOR UPDATE";
            auto found = m_c->exec(sql, p, "finding the traces to erase");
            if (!found.ok()) {
                return found.status();
            }
            if (found->rows() == 0) {
                return {};  // the transaction rolls back: nothing was written
            }
            std::vector<int64_t> ids;
            for (int i = 0; i < found->rows(); ++i) {
                ids.push_back(found->integer(i, 0));
                r.trace_ts_ms.push_back(found->integer(i, 1));
            }
            struct Table {
                const char* name;
                const char* column;
                int64_t& count;
            };
            for (const Table& t :
                 {Table{"scores", "trace", r.scores}, Table{"judge_queue", "trace", r.judge_queue},
                  Table{"judgements", "trace", r.judgements}, Table{"labels", "trace", r.labels},
                  Table{"traces", "id", r.traces}}) {
                PgParams d;
                const std::string del = std::string("DELETE FROM ") + t.name + " WHERE " +
                                        t.column + " = ANY(" + pg::integer_array(d, ids) + ")";
                auto done = m_c->exec(del, d, std::string("erasing from ") + t.name);
                if (!done.ok()) {
                    return done.status();
                }
                t.count += done->affected();
            }
            ASSAY_RETURN_IF_ERROR(txn.commit());
        }
    }

    // Dead letters are matched on their content (erase_match.h): read in
    // pages by id, deleted k_delete_batch at a time.
    Status erase_dead_letters(const std::string& field, const std::string& id, EraseReport& r) {
        std::vector<int64_t> doomed;
        int64_t after = INT64_MIN;
        for (;;) {
            PgParams p;
            const std::string sql = "SELECT id, encode(raw, 'hex') FROM dead_letters WHERE id > " +
                                    p.integer(after) + " ORDER BY id LIMIT " +
                                    std::to_string(k_erase_batch);
            auto page = m_c->exec(sql, p, "reading dead letters");
            if (!page.ok()) {
                return page.status();
            }
            for (int i = 0; i < page->rows(); ++i) {
                after = page->integer(i, 0);
                if (dead_letter_matches(from_hex(page->text(i, 1)), field, id)) {
                    doomed.push_back(after);
                }
            }
            if (page->rows() < k_erase_batch) {
                break;
            }
        }
        for (size_t start = 0; start < doomed.size(); start += k_delete_batch) {
            const size_t end = std::min(doomed.size(), start + k_delete_batch);
            PgParams p;
            const std::string sql =
                "DELETE FROM dead_letters WHERE id = ANY(" +
                pg::integer_array(p,
                                  std::vector<int64_t>(doomed.begin() + static_cast<long>(start),
                                                       doomed.begin() + static_cast<long>(end))) +
                ")";
            auto d = m_c->exec(sql, p, "erasing dead letters");
            if (!d.ok()) {
                return d.status();
            }
            r.dead_letters += d->affected();
        }
        return {};
    }

    // A pending span that holds the id as a JSON string (an attribute value
    // such as user.id or tenant) takes its whole pending trace with it.
    Status erase_pending_spans(const std::string& id, EraseReport& r) {
        const std::string quoted = json_quoted(id);
        for (;;) {
            PgParams p;
            // Rows deleted, and the spans they held (span_count each).
            const std::string sql =
                "WITH d AS (DELETE FROM otlp_spans WHERE trace_key IN (SELECT DISTINCT trace_key "
                "FROM otlp_spans WHERE strpos(span_json, " +
                p.text(quoted) + ") > 0 LIMIT " + std::to_string(k_erase_batch / 10) +
                ") RETURNING span_count) SELECT count(*), coalesce(sum(span_count), 0) FROM d";
            auto d = m_c->exec(sql, p, "erasing pending OTLP spans");
            if (!d.ok()) {
                return d.status();
            }
            if (d->integer(0, 0) == 0) {
                return {};
            }
            r.otlp_spans += d->integer(0, 1);
        }
    }

    // DELETE FROM `table` WHERE tenant = id, k_delete_batch rows per statement.
    Status delete_batched(const std::string& table, const std::string& id, int64_t& count) {
        for (;;) {
            PgParams p;
            const std::string sql =
                "DELETE FROM " + table + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table +
                " WHERE tenant = " + p.text(id) + " LIMIT " + std::to_string(k_delete_batch) + "))";
            auto d = m_c->exec(sql, p, "erasing the tenant's " + table);
            if (!d.ok()) {
                return d.status();
            }
            count += d->affected();
            if (d->affected() < k_delete_batch) {
                return {};
            }
        }
    }

    std::unique_ptr<PgConn> m_c;
};

}  // namespace

Result<std::unique_ptr<MaintenanceStore>> open_postgres_maintenance_store(const std::string& uri) {
    auto c = pg::connect_store(uri);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<MaintenanceStore>(new PostgresMaintenanceStore(std::move(c.value())));
}

}  // namespace assay
