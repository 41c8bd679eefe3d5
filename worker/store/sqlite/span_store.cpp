// SQLite implementation of SpanStore (store/span_store.h): one connection of
// its own, guarded by a mutex, to the same file as the main Store.
#include "store/span_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <string>

#include "store/sqlite/busy_wait.h"
#include "store/sqlite/monitor_stores.h"
#include "store/sqlite/open_error.h"
#include "store/sqlite/stmt.h"
#include "store/sqlite/wal_checkpointer.h"
#include "store/store_location.h"

namespace assay {

namespace {

using sqlite_detail::Stmt;

const char* k_put = R"sql(
INSERT INTO otlp_spans (trace_key, span_id, received_ms, span_json, span_count)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (trace_key, span_id) DO UPDATE SET received_ms = excluded.received_ms,
  span_json = excluded.span_json, span_count = excluded.span_count
)sql";
const char* k_load =
    "SELECT trace_key, span_id, received_ms, span_json, span_count FROM otlp_spans "
    "ORDER BY received_ms, id";
// erase() deletes k_erase_chunk traces per statement (IN with that many
// parameters; a last, shorter chunk repeats one of its keys in the unused
// slots, which deletes nothing more).
constexpr int k_erase_chunk = 64;
std::string erase_sql(const char* table) {
    std::string sql = std::string("DELETE FROM ") + table + " WHERE trace_key IN (?1";
    for (int i = 2; i <= k_erase_chunk; ++i) {
        sql += ", ?" + std::to_string(i);
    }
    return sql + ")";
}
const std::string k_erase = erase_sql("otlp_spans");
const std::string k_erase_claims = erase_sql("otlp_claims");
// claim(): what decides one trace (stored, live claim, rows, newest row).
const char* k_claim_probe = R"sql(
SELECT EXISTS (SELECT 1 FROM traces WHERE trace_id = ?1),
  coalesce((SELECT claimant FROM otlp_claims WHERE trace_key = ?1 AND until_ms > ?2), ''),
  (SELECT coalesce(sum(span_count), 0) FROM otlp_spans WHERE trace_key = ?1),
  (SELECT coalesce(max(received_ms), 0) FROM otlp_spans WHERE trace_key = ?1)
)sql";
const char* k_claim_write = R"sql(
INSERT INTO otlp_claims (trace_key, claimant, until_ms) VALUES (?1, ?2, ?3)
ON CONFLICT (trace_key) DO UPDATE SET claimant = excluded.claimant, until_ms = excluded.until_ms
)sql";
const char* k_rows_of =
    "SELECT trace_key, span_id, received_ms, span_json, span_count FROM otlp_spans "
    "WHERE trace_key = ?1 "
    "ORDER BY received_ms, id";
// The sweep reads the whole table in row order (no index by arrival time:
// every span would pay for one); by rowid rather than through the key's index,
// which would look each row up again: 50 ms for 200,000 pending spans against
// 290 (intake.h, otlp_sweep_interval_ms).
const char* k_stale = R"sql(
SELECT s.trace_key FROM otlp_spans s NOT INDEXED
WHERE s.received_ms <= ?1
  AND NOT EXISTS (SELECT 1 FROM otlp_claims c WHERE c.trace_key = s.trace_key AND c.until_ms > ?2)
GROUP BY s.trace_key ORDER BY min(s.received_ms) LIMIT ?3
)sql";
const char* k_count = "SELECT coalesce(sum(span_count), 0) FROM otlp_spans";
const char* k_trace_stored = "SELECT 1 FROM traces WHERE trace_id = ?1";
const char* k_dead = R"sql(
INSERT INTO dead_letters (received_ms, source, line, error, raw, raw_bytes) VALUES (?1, ?2, NULL, ?3, ?4, ?5)
)sql";

class SqliteSpanStore final : public SpanStore {
public:
    explicit SqliteSpanStore(sqlite3* db) : m_db(db) {}
    ~SqliteSpanStore() override {
        m_put.reset();
        m_load.reset();
        m_erase.reset();
        m_erase_claims.reset();
        m_claim_probe.reset();
        m_claim_write.reset();
        m_rows_of.reset();
        m_stale.reset();
        m_count.reset();
        m_trace_stored.reset();
        m_dead.reset();
        m_checkpointer.reset();  // first: the close checkpoints the rest
        sqlite3_close_v2(m_db);
    }

    void attach_checkpointer(const std::string& path, int busy_timeout_ms) {
        m_checkpointer =
            WalCheckpointer::attach(m_db, path, WalCheckpointer::k_default_bytes, busy_timeout_ms);
    }

    Status prepare() {
        struct Item {
            std::unique_ptr<Stmt>& stmt;
            const char* sql;
        };
        for (Item it : {Item{m_put, k_put}, Item{m_load, k_load}, Item{m_erase, k_erase.c_str()},
                        Item{m_erase_claims, k_erase_claims.c_str()},
                        Item{m_claim_probe, k_claim_probe}, Item{m_claim_write, k_claim_write},
                        Item{m_rows_of, k_rows_of}, Item{m_stale, k_stale}, Item{m_count, k_count},
                        Item{m_trace_stored, k_trace_stored}, Item{m_dead, k_dead}}) {
            it.stmt = std::make_unique<Stmt>();
            if (it.stmt->prepare(m_db, it.sql) != SQLITE_OK) {
                return error("preparing span store statements");
            }
        }
        return {};
    }

    Status put(const std::vector<PendingSpanRow>& rows) override {
        std::lock_guard<std::mutex> lock(m_mu);
        return in_transaction("storing pending spans", [&]() -> Status {
            for (const auto& r : rows) {
                m_put->reset();
                m_put->bind_text(1, r.trace_key);
                m_put->bind_text(2, r.span_id);
                m_put->bind_int(3, r.received_ms);
                m_put->bind_text(4, r.span_json);
                m_put->bind_int(5, r.span_count);
                if (m_put->step() != SQLITE_DONE) {
                    return error("storing span " + r.span_id + " of trace " + r.trace_key);
                }
            }
            return {};
        });
    }

    Result<std::vector<PendingSpanRow>> load() override {
        std::lock_guard<std::mutex> lock(m_mu);
        std::vector<PendingSpanRow> out;
        m_load->reset();
        int rc = 0;
        while ((rc = m_load->step()) == SQLITE_ROW) {
            out.push_back({m_load->col_text(0), m_load->col_text(1), m_load->col_int(2),
                           m_load->col_text(3), m_load->col_int(4)});
        }
        m_load->reset();
        if (rc != SQLITE_DONE) {
            return error("loading pending spans");
        }
        return out;
    }

    Status erase(const std::vector<std::string>& trace_keys) override {
        if (trace_keys.empty()) {
            return {};
        }
        std::lock_guard<std::mutex> lock(m_mu);
        return in_transaction("erasing pending spans", [&]() -> Status {
            for (size_t first = 0; first < trace_keys.size(); first += k_erase_chunk) {
                const size_t n = std::min(trace_keys.size() - first, size_t{k_erase_chunk});
                for (Stmt* del : {m_erase.get(), m_erase_claims.get()}) {
                    del->reset();
                    for (int slot = 0; slot < k_erase_chunk; ++slot) {
                        const size_t i = first + std::min(static_cast<size_t>(slot), n - 1);
                        del->bind_text(slot + 1, trace_keys[i]);
                    }
                    if (del->step() != SQLITE_DONE) {
                        return error("erasing the pending spans of traces " + trace_keys[first] +
                                     (n > 1 ? " … " + trace_keys[first + n - 1] : std::string()));
                    }
                }
            }
            return {};
        });
    }

    Result<std::vector<SpanClaim>> claim(const std::vector<SpanClaimAsk>& asks,
                                         const std::string& claimant, int64_t now_ms,
                                         int64_t idle_ms, int64_t lease_ms) override {
        std::vector<SpanClaim> out;
        if (asks.empty()) {
            return out;
        }
        std::lock_guard<std::mutex> lock(m_mu);
        // BEGIN IMMEDIATE: one writer at a time on the file, so the claims
        // of every process sharing it are serialised.
        Status st = in_transaction("claiming traces", [&]() -> Status {
            out.clear();
            for (const SpanClaimAsk& a : asks) {
                SpanClaim c;
                m_claim_probe->reset();
                m_claim_probe->bind_text(1, a.trace_key);
                m_claim_probe->bind_int(2, now_ms);
                if (m_claim_probe->step() != SQLITE_ROW) {
                    return error("claiming trace " + a.trace_key);
                }
                const bool stored = m_claim_probe->col_int(0) != 0;
                const std::string holder = m_claim_probe->col_text(1);
                const bool held = !holder.empty() && holder != a.dead_holder;
                c.stored_spans = m_claim_probe->col_int(2);
                const int64_t newest = m_claim_probe->col_int(3);
                m_claim_probe->reset();
                if (stored) {
                    c.outcome = SpanClaimOutcome::stored;
                } else if (held) {
                    c.outcome = SpanClaimOutcome::taken;
                    c.holder = holder;
                } else if (!a.expired && c.stored_spans > 0 && newest > now_ms - idle_ms) {
                    c.outcome = SpanClaimOutcome::busy;
                } else {
                    c.outcome = SpanClaimOutcome::claimed;
                    m_claim_write->reset();
                    m_claim_write->bind_text(1, a.trace_key);
                    m_claim_write->bind_text(2, claimant);
                    m_claim_write->bind_int(3, now_ms + lease_ms);
                    if (m_claim_write->step() != SQLITE_DONE) {
                        return error("claiming trace " + a.trace_key);
                    }
                }
                const bool want_rows =
                    c.outcome == SpanClaimOutcome::busy ||
                    (c.outcome == SpanClaimOutcome::claimed && c.stored_spans > a.local_spans);
                if (want_rows) {
                    ASSAY_RETURN_IF_ERROR(rows_of(a.trace_key, c.rows));
                }
                out.push_back(std::move(c));
            }
            return {};
        });
        if (!st.ok()) {
            return st;
        }
        return out;
    }

    Result<std::vector<std::string>> stale_traces(int64_t first_before_ms, int64_t now_ms,
                                                  size_t limit) override {
        std::lock_guard<std::mutex> lock(m_mu);
        std::vector<std::string> out;
        m_stale->reset();
        m_stale->bind_int(1, first_before_ms);
        m_stale->bind_int(2, now_ms);
        m_stale->bind_int(3, static_cast<int64_t>(limit));
        int rc = 0;
        while ((rc = m_stale->step()) == SQLITE_ROW) {
            out.push_back(m_stale->col_text(0));
        }
        m_stale->reset();
        if (rc != SQLITE_DONE) {
            return error("finding pending traces no worker completes");
        }
        return out;
    }

    Result<int64_t> count() override {
        std::lock_guard<std::mutex> lock(m_mu);
        m_count->reset();
        if (m_count->step() != SQLITE_ROW) {
            return error("counting pending spans");
        }
        int64_t n = m_count->col_int(0);
        m_count->reset();
        return n;
    }

    Result<bool> trace_stored(const std::string& trace_id) override {
        std::lock_guard<std::mutex> lock(m_mu);
        m_trace_stored->reset();
        m_trace_stored->bind_text(1, trace_id);
        int rc = m_trace_stored->step();
        m_trace_stored->reset();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return error("looking up trace " + trace_id);
        }
        return rc == SQLITE_ROW;
    }

    Status dead_letter(int64_t received_ms, const std::string& source, const std::string& err,
                       const std::string& raw, int64_t raw_bytes) override {
        std::lock_guard<std::mutex> lock(m_mu);
        m_dead->reset();
        m_dead->bind_int(1, received_ms);
        m_dead->bind_text(2, source);
        m_dead->bind_text(3, err);
        m_dead->bind_blob(4, raw);
        m_dead->bind_int(5, raw_bytes);
        int rc = m_dead->step();
        m_dead->reset();
        return rc == SQLITE_DONE ? Status{} : error("storing a dead letter");
    }

private:
    // Appends the rows of `trace_key` (m_mu held).
    Status rows_of(const std::string& trace_key, std::vector<PendingSpanRow>& rows) {
        m_rows_of->reset();
        m_rows_of->bind_text(1, trace_key);
        int rc = 0;
        while ((rc = m_rows_of->step()) == SQLITE_ROW) {
            rows.push_back({m_rows_of->col_text(0), m_rows_of->col_text(1), m_rows_of->col_int(2),
                            m_rows_of->col_text(3), m_rows_of->col_int(4)});
        }
        m_rows_of->reset();
        return rc == SQLITE_DONE ? Status{} : error("reading the pending spans of " + trace_key);
    }
    Status error(const std::string& what) const {
        return Status::io_error("span store: " + what + ": " + sqlite3_errmsg(m_db));
    }
    template <typename F>
    Status in_transaction(const std::string& what, F&& body) {
        if (sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
            return error(what + " (begin)");
        }
        Status st = body();
        if (st.ok() && sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
            st = error(what + " (commit)");
        }
        if (!st.ok()) {
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        return st;
    }

    sqlite3* m_db;
    std::mutex m_mu;
    std::unique_ptr<Stmt> m_put, m_load, m_erase, m_erase_claims, m_claim_probe, m_claim_write,
        m_rows_of, m_stale, m_count, m_trace_stored, m_dead;
    // Checkpoints off this connection's commits (the spans' puts, claims and
    // erases), as the main store's writer does (wal_checkpointer.h).
    std::unique_ptr<WalCheckpointer> m_checkpointer;
};

}  // namespace

Result<std::unique_ptr<SpanStore>> open_sqlite_span_store(const std::string& sqlite_path,
                                                          int busy_timeout_ms) {
    ASSAY_RETURN_IF_ERROR(sqlite_only(sqlite_path, "the OTLP pending-span store"));
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(sqlite_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = sqlite_detail::error_text(db, rc, sqlite_path);
        sqlite3_close_v2(db);
        return Status::io_error("span store: cannot open '" + sqlite_path + "': " + msg);
    }
    auto store = std::make_unique<SqliteSpanStore>(db);
    sqlite_detail::set_busy_wait(db, busy_timeout_ms);
    for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"}) {
        if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
            return Status::io_error(std::string("span store: ") + pragma + ": " +
                                    sqlite_detail::error_text(db, 0, sqlite_path));
        }
    }
    {
        Stmt probe;
        if (probe.prepare(
                db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'otlp_spans'") !=
                SQLITE_OK ||
            probe.step() != SQLITE_ROW) {
            return Status::invalid_argument(
                "span store: '" + sqlite_path +
                "' has no otlp_spans table (open and migrate the store first)");
        }
    }
    if (Status st = store->prepare(); !st.ok()) {
        return st;
    }
    store->attach_checkpointer(sqlite_path, busy_timeout_ms);
    return std::unique_ptr<SpanStore>(std::move(store));
}

}  // namespace assay
