#include "store/maintenance_store.h"

#include <sqlite3.h>

#include <cstdint>

#include "store/erase_match.h"
#include "store/sqlite/conn.h"
#include "store/sqlite/monitor_stores.h"

namespace assay {

namespace {

// Stubs start with this and are short; anything else is still raw text.
const char* k_prune_select = R"sql(
INSERT INTO prune_rows SELECT id, trace_id, ts_ms, received_ms, feature, tenant, user_id, session_id,
  prompt_name, prompt_version, model, environment, expected_format, finish_reason, error_type,
  latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, cost_usd
FROM traces WHERE ts_ms < ?1 AND (ts_ms, id) > (?2, ?3)
  AND (substr(raw, 1, 18) <> '{"raw_pruned":true' OR length(raw) > 512)
ORDER BY ts_ms, id LIMIT 2000
)sql";

// The rows are deleted and re-inserted with the same id rather than updated
// in place: SQLite rebalances b-tree pages after a delete but not after an
// update that shrinks a row, so in-place updates would leave one almost
// empty page per pruned trace and the file would keep growing.
const char* k_prune_reinsert = R"sql(
INSERT INTO traces (id, trace_id, ts_ms, received_ms, feature, tenant, user_id, session_id,
  prompt_name, prompt_version, model, environment, expected_format, finish_reason, error_type,
  latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, cost_usd, raw)
SELECT id, trace_id, ts_ms, received_ms, feature, tenant, user_id, session_id,
  prompt_name, prompt_version, model, environment, expected_format, finish_reason, error_type,
  latency_ms, ttft_ms, input_tokens, output_tokens, cached_tokens, cost_usd,
  json_object('raw_pruned', json('true'), 'trace_id', trace_id,
    'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch'),
    'pruned_at', strftime('%Y-%m-%dT%H:%M:%fZ', ?1 / 1000.0, 'unixepoch'))
FROM prune_rows ORDER BY id
)sql";

class SqliteMaintenanceStore final : public MaintenanceStore {
public:
    explicit SqliteMaintenanceStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    // Works in transactions of at most 2000 traces (a first run on a big
    // store never holds the write lock for long), resuming after the last
    // (ts_ms, id) pruned.
    Result<PruneReport> prune_raw(int64_t before_ms, int64_t now_ms) override {
        PruneReport r;
        ASSAY_RETURN_IF_ERROR(
            m_c->exec("CREATE TEMP TABLE IF NOT EXISTS prune_rows AS SELECT id, trace_id, ts_ms, "
                      "received_ms, feature, "
                      "tenant, user_id, session_id, prompt_name, prompt_version, model, "
                      "environment, expected_format, "
                      "finish_reason, error_type, latency_ms, ttft_ms, input_tokens, "
                      "output_tokens, cached_tokens, cost_usd "
                      "FROM traces WHERE 0"));
        int64_t after_ts = INT64_MIN, after_id = INT64_MIN;
        for (;;) {
            SqlTxn txn(*m_c);
            ASSAY_RETURN_IF_ERROR(txn.begin());
            ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM prune_rows"));
            auto sel = m_c->prepare(k_prune_select);
            if (!sel.ok()) {
                return sel.status();
            }
            sel->bind_int(1, before_ms);
            sel->bind_int(2, after_ts);
            sel->bind_int(3, after_id);
            ASSAY_RETURN_IF_ERROR(m_c->run(*sel, "selecting traces to prune"));
            const int64_t n = m_c->changes();
            if (n == 0) {
                break;  // the transaction rolls back: nothing was written
            }
            auto last = m_c->prepare(
                "SELECT ts_ms, id FROM prune_rows ORDER BY ts_ms DESC, id DESC LIMIT 1");
            if (!last.ok() || last->step() != SQLITE_ROW) {
                return last.ok() ? m_c->error("reading the prune cursor") : last.status();
            }
            after_ts = last->col_int(0);
            after_id = last->col_int(1);
            last->reset();
            ASSAY_RETURN_IF_ERROR(
                m_c->exec("DELETE FROM traces WHERE id IN (SELECT id FROM prune_rows)"));
            auto ins = m_c->prepare(k_prune_reinsert);
            if (!ins.ok()) {
                return ins.status();
            }
            ins->bind_int(1, now_ms);
            ASSAY_RETURN_IF_ERROR(m_c->run(*ins, "storing pruned trace stubs"));
            ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM prune_rows"));
            ASSAY_RETURN_IF_ERROR(txn.commit());
            r.traces_pruned += n;
        }
        auto dl = m_c->prepare("DELETE FROM dead_letters WHERE received_ms < ?1");
        if (!dl.ok()) {
            return dl.status();
        }
        dl->bind_int(1, before_ms);
        ASSAY_RETURN_IF_ERROR(m_c->run(*dl, "pruning dead letters"));
        r.dead_letters_deleted = m_c->changes();
        return r;
    }

    Result<EraseReport> erase(const std::string& field, const std::string& id) override {
        ASSAY_RETURN_IF_ERROR(check_erase_request(field, id));
        EraseReport r;
        ASSAY_RETURN_IF_ERROR(m_c->exec("PRAGMA secure_delete = ON"));
        ASSAY_RETURN_IF_ERROR(m_c->exec(
            "CREATE TEMP TABLE IF NOT EXISTS erase_ids (id INTEGER PRIMARY KEY, ts_ms INTEGER)"));
        SqlTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM erase_ids"));
        {
            auto st = m_c->prepare(
                field == "user"
                    ? "INSERT INTO erase_ids SELECT id, ts_ms FROM traces WHERE user_id = ?1"
                    : "INSERT INTO erase_ids SELECT id, ts_ms FROM traces WHERE tenant = ?1");
            if (!st.ok()) {
                return st.status();
            }
            st->bind_text(1, id);
            ASSAY_RETURN_IF_ERROR(m_c->run(*st, "finding the traces to erase"));
        }
        {
            auto st = m_c->prepare("SELECT ts_ms FROM erase_ids");
            if (!st.ok()) {
                return st.status();
            }
            while (st->step() == SQLITE_ROW) {
                r.trace_ts_ms.push_back(st->col_int(0));
            }
        }
        auto del = [&](const std::string& table, int64_t& count) -> Status {
            auto has = m_c->has_table(table);
            if (!has.ok()) {
                return has.status();
            }
            if (!*has) {
                return {};
            }
            const std::string col = table == "traces" ? "id" : "trace";
            ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM " + table + " WHERE " + col +
                                            " IN (SELECT id FROM erase_ids)"));
            count = m_c->changes();
            return {};
        };
        ASSAY_RETURN_IF_ERROR(del("scores", r.scores));
        ASSAY_RETURN_IF_ERROR(del("judge_queue", r.judge_queue));
        ASSAY_RETURN_IF_ERROR(del("judgements", r.judgements));
        ASSAY_RETURN_IF_ERROR(del("labels", r.labels));
        ASSAY_RETURN_IF_ERROR(del("traces", r.traces));
        {
            std::vector<int64_t> doomed;
            auto st = m_c->prepare("SELECT id, raw FROM dead_letters");
            if (!st.ok()) {
                return st.status();
            }
            int rc;
            while ((rc = st->step()) == SQLITE_ROW) {
                if (dead_letter_matches(st->col_text(1), field, id)) {
                    doomed.push_back(st->col_int(0));
                }
            }
            if (rc != SQLITE_DONE) {
                return m_c->error("reading dead letters");
            }
            auto d = m_c->prepare("DELETE FROM dead_letters WHERE id = ?1");
            if (!d.ok()) {
                return d.status();
            }
            for (int64_t dead_id : doomed) {
                d->bind_int(1, dead_id);
                ASSAY_RETURN_IF_ERROR(m_c->run(*d, "erasing a dead letter"));
            }
            r.dead_letters = static_cast<int64_t>(doomed.size());
        }
        {
            // Spans of OTLP traces not complete yet (otlp_spans): a span that
            // holds the id as a JSON string (an attribute value such as
            // user.id or tenant) takes its whole pending trace with it.
            auto has = m_c->has_table("otlp_spans");
            if (!has.ok()) {
                return has.status();
            }
            if (*has) {
                const std::string quoted = json_quoted(id);
                std::vector<std::string> keys;
                auto st = m_c->prepare(
                    "SELECT DISTINCT trace_key FROM otlp_spans WHERE instr(span_json, ?1) > 0");
                if (!st.ok()) {
                    return st.status();
                }
                st->bind_text(1, quoted);
                int rc;
                while ((rc = st->step()) == SQLITE_ROW) {
                    keys.push_back(st->col_text(0));
                }
                if (rc != SQLITE_DONE) {
                    return m_c->error("reading pending OTLP spans");
                }
                // A row holds span_count spans of its trace (pending_rows.h).
                auto n = m_c->prepare(
                    "SELECT coalesce(sum(span_count), 0) FROM otlp_spans WHERE trace_key = ?1");
                auto d = m_c->prepare("DELETE FROM otlp_spans WHERE trace_key = ?1");
                if (!n.ok()) {
                    return n.status();
                }
                if (!d.ok()) {
                    return d.status();
                }
                for (const auto& key : keys) {
                    n->reset();
                    n->bind_text(1, key);
                    if (n->step() != SQLITE_ROW) {
                        return m_c->error("counting pending OTLP spans");
                    }
                    const int64_t spans = n->col_int(0);
                    n->reset();
                    d->bind_text(1, key);
                    ASSAY_RETURN_IF_ERROR(m_c->run(*d, "erasing pending OTLP spans"));
                    r.otlp_spans += spans;
                }
            }
        }
        if (field == "tenant") {
            for (const char* sql : {"DELETE FROM aggregates WHERE tenant = ?1",
                                    "DELETE FROM alerts WHERE tenant = ?1"}) {
                auto st = m_c->prepare(sql);
                if (!st.ok()) {
                    return st.status();
                }
                st->bind_text(1, id);
                ASSAY_RETURN_IF_ERROR(m_c->run(*st, "erasing tenant rows"));
                (std::string(sql).find("aggregates") != std::string::npos ? r.aggregates
                                                                          : r.alerts) =
                    m_c->changes();
            }
        }
        ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM erase_ids"));
        ASSAY_RETURN_IF_ERROR(txn.commit());
        // Move the overwritten pages out of the WAL into the main file.
        ASSAY_RETURN_IF_ERROR(m_c->truncate_wal());
        return r;
    }

    Result<StoreSize> size() override {
        StoreSize s;
        for (auto [pragma, out] : {std::pair{"PRAGMA page_size", &s.page_size},
                                   std::pair{"PRAGMA page_count", &s.page_count},
                                   std::pair{"PRAGMA freelist_count", &s.freelist_count}}) {
            auto st = m_c->prepare(pragma);
            if (!st.ok()) {
                return st.status();
            }
            if (st->step() != SQLITE_ROW) {
                return m_c->error(pragma);
            }
            *out = st->col_int(0);
        }
        return s;
    }

    Status vacuum() override {
        ASSAY_RETURN_IF_ERROR(m_c->exec("VACUUM"));
        return m_c->truncate_wal();
    }

private:
    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

Result<std::unique_ptr<MaintenanceStore>> open_sqlite_maintenance_store(
    const std::string& sqlite_path) {
    auto c = SqliteConn::open(sqlite_path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<MaintenanceStore>(new SqliteMaintenanceStore(std::move(c.value())));
}

}  // namespace assay
