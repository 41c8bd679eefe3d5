#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "store/maintenance_store.h"
#include "store/sqlite_conn.h"

namespace assay {

namespace {

// Stubs start with this and are short; anything else is still raw text.
const char* k_prune = R"sql(
UPDATE traces SET raw = json_object('raw_pruned', json('true'), 'trace_id', trace_id,
  'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch'),
  'pruned_at', strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0, 'unixepoch'))
WHERE ts_ms < ?1 AND (substr(raw, 1, 18) <> '{"raw_pruned":true' OR length(raw) > 512)
)sql";

// Whether a dead letter's raw bytes belong to the user/tenant `id`.
bool dead_letter_matches(const std::string& raw, const std::string& field, const std::string& id) {
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("metadata") && j["metadata"].is_object()) {
        const auto& m = j["metadata"];
        const char* key = field == "user" ? "user_id" : "tenant";
        if (!m.contains(key)) {
            return false;
        }
        const auto& v = m[key];
        return v.is_string() ? v.get<std::string>() == id : v.dump() == id;
    }
    // Not a trace-shaped object (invalid JSON, cut at the size limit, OTLP):
    // erase it when the id appears as a JSON string anywhere in it.
    const std::string quoted = nlohmann::json(id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return raw.find(quoted) != std::string::npos;
}

class SqliteMaintenanceStore final : public MaintenanceStore {
public:
    explicit SqliteMaintenanceStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    Result<PruneReport> prune_raw(int64_t before_ms, int64_t now_ms) override {
        PruneReport r;
        SqlTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        auto st = m_c->prepare(k_prune);
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, before_ms);
        st->bind_int(2, now_ms);
        ASSAY_RETURN_IF_ERROR(m_c->run(*st, "pruning raw trace text"));
        r.traces_pruned = m_c->changes();
        auto dl = m_c->prepare("DELETE FROM dead_letters WHERE received_ms < ?1");
        if (!dl.ok()) {
            return dl.status();
        }
        dl->bind_int(1, before_ms);
        ASSAY_RETURN_IF_ERROR(m_c->run(*dl, "pruning dead letters"));
        r.dead_letters_deleted = m_c->changes();
        ASSAY_RETURN_IF_ERROR(txn.commit());
        return r;
    }

    Result<EraseReport> erase(const std::string& field, const std::string& id) override {
        if (id.empty()) {
            return Status::invalid_argument("erase: the id is empty");
        }
        if (field != "user" && field != "tenant") {
            return Status::invalid_argument("erase: field must be user or tenant");
        }
        EraseReport r;
        ASSAY_RETURN_IF_ERROR(m_c->exec("PRAGMA secure_delete = ON"));
        ASSAY_RETURN_IF_ERROR(m_c->exec("CREATE TEMP TABLE IF NOT EXISTS erase_ids (id INTEGER PRIMARY KEY, ts_ms INTEGER)"));
        SqlTxn txn(*m_c);
        ASSAY_RETURN_IF_ERROR(txn.begin());
        ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM erase_ids"));
        {
            auto st = m_c->prepare(field == "user"
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
            ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM " + table + " WHERE " + col + " IN (SELECT id FROM erase_ids)"));
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
        if (field == "tenant") {
            for (const char* sql : {"DELETE FROM aggregates WHERE tenant = ?1", "DELETE FROM alerts WHERE tenant = ?1"}) {
                auto st = m_c->prepare(sql);
                if (!st.ok()) {
                    return st.status();
                }
                st->bind_text(1, id);
                ASSAY_RETURN_IF_ERROR(m_c->run(*st, "erasing tenant rows"));
                (std::string(sql).find("aggregates") != std::string::npos ? r.aggregates : r.alerts) = m_c->changes();
            }
        }
        ASSAY_RETURN_IF_ERROR(m_c->exec("DELETE FROM erase_ids"));
        ASSAY_RETURN_IF_ERROR(txn.commit());
        // Move the overwritten pages out of the WAL into the main file.
        ASSAY_RETURN_IF_ERROR(m_c->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
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

    Status vacuum() override { return m_c->exec("VACUUM"); }

private:
    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

Result<std::unique_ptr<MaintenanceStore>> open_maintenance_store(const std::string& sqlite_path) {
    auto c = SqliteConn::open(sqlite_path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<MaintenanceStore>(new SqliteMaintenanceStore(std::move(c.value())));
}

}  // namespace assay
