#include "store/alert_store.h"

#include <sqlite3.h>

#include "store/alert_outbox_sql.h"
#include "store/sqlite/conn.h"
#include "store/sqlite/monitor_stores.h"

namespace assay {

namespace {

const char* k_cols =
    "id, rule, kind, group_key, coalesce(tenant, ''), state, fired_ms, resolved_ms, last_eval_ms, "
    "coalesce(value, 0), coalesce(baseline, 0), coalesce(p_value, 1), coalesce(count, 0), "
    "coalesce(baseline_count, 0), message, fire_delivered, resolve_delivered, "
    "coalesce(delivery_error, ''), coalesce(delivery_claimed_by, ''), "
    "coalesce(delivery_claimed_until_ms, 0)";

AlertRecord read_row(const SqlStmt& s) {
    AlertRecord a;
    a.id = s.col_int(0);
    a.rule = s.col_text(1);
    a.kind = s.col_text(2);
    a.group_key = s.col_text(3);
    a.tenant = s.col_text(4);
    a.state = s.col_text(5);
    a.fired_ms = s.col_int(6);
    if (!s.col_null(7)) {
        a.resolved_ms = s.col_int(7);
    }
    a.last_eval_ms = s.col_int(8);
    a.value = s.col_double(9);
    a.baseline = s.col_double(10);
    a.p_value = s.col_double(11);
    a.count = s.col_int(12);
    a.baseline_count = s.col_int(13);
    a.message = s.col_text(14);
    a.fire_delivered = static_cast<Delivery>(s.col_int(15));
    a.resolve_delivered = static_cast<Delivery>(s.col_int(16));
    a.delivery_error = s.col_text(17);
    a.delivery_claimed_by = s.col_text(18);
    a.delivery_claimed_until_ms = s.col_int(19);
    return a;
}

class SqliteAlertStore final : public AlertStore {
public:
    explicit SqliteAlertStore(std::unique_ptr<SqliteConn> c) : m_c(std::move(c)) {}

    Status begin() override { return m_c->exec("BEGIN IMMEDIATE"); }
    Status commit() override { return m_c->exec("COMMIT"); }
    Status rollback() override { return m_c->exec("ROLLBACK"); }

    Result<std::vector<AlertRecord>> open_alerts(const std::string& rule) override {
        return select(std::string("SELECT ") + k_cols +
                          " FROM alerts WHERE rule = ?1 AND state = 'firing' ORDER BY id",
                      rule);
    }

    Result<std::optional<int64_t>> last_resolved(const std::string& rule,
                                                 const std::string& group_key) override {
        auto st = m_c->prepare(
            "SELECT max(resolved_ms) FROM alerts WHERE rule = ?1 AND group_key = ?2 AND state = "
            "'resolved'");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, rule);
        st->bind_text(2, group_key);
        if (st->step() != SQLITE_ROW) {
            return m_c->error("reading alerts");
        }
        if (st->col_null(0)) {
            return std::optional<int64_t>();
        }
        return std::optional<int64_t>(st->col_int(0));
    }

    Result<int64_t> insert(const AlertRecord& a) override {
        auto st = m_c->prepare(
            "INSERT INTO alerts (rule, kind, group_key, tenant, state, fired_ms, last_eval_ms, "
            "value, baseline, "
            "count, baseline_count, p_value, message) VALUES (?1, ?2, ?3, ?4, 'firing', ?5, ?5, "
            "?6, ?7, ?8, ?9, ?10, ?11)");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_text(1, a.rule);
        st->bind_text(2, a.kind);
        st->bind_text(3, a.group_key);
        if (a.tenant.empty()) {
            st->bind_null(4);
        } else {
            st->bind_text(4, a.tenant);
        }
        st->bind_int(5, a.fired_ms);
        st->bind_double(6, a.value);
        st->bind_double(7, a.baseline);
        st->bind_int(8, a.count);
        st->bind_int(9, a.baseline_count);
        st->bind_double(10, a.p_value);
        st->bind_text(11, a.message);
        ASSAY_RETURN_IF_ERROR(m_c->run(*st, "inserting an alert"));
        return static_cast<int64_t>(sqlite3_last_insert_rowid(m_c->raw()));
    }

    Status touch(const AlertRecord& a) override {
        auto st = m_c->prepare(
            "UPDATE alerts SET last_eval_ms = ?2, value = ?3, baseline = ?4, count = ?5, "
            "baseline_count = ?6, "
            "p_value = ?7 WHERE id = ?1");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, a.id);
        st->bind_int(2, a.last_eval_ms);
        st->bind_double(3, a.value);
        st->bind_double(4, a.baseline);
        st->bind_int(5, a.count);
        st->bind_int(6, a.baseline_count);
        st->bind_double(7, a.p_value);
        return m_c->run(*st, "updating an alert");
    }

    Status resolve(int64_t id, int64_t at_ms, const std::string& message) override {
        auto st = m_c->prepare(
            "UPDATE alerts SET state = 'resolved', resolved_ms = ?2, last_eval_ms = ?2, "
            "message = message || ' | resolved: ' || ?3 WHERE id = ?1 AND state = 'firing'");
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, id);
        st->bind_int(2, at_ms);
        st->bind_text(3, message);
        return m_c->run(*st, "resolving an alert");
    }

    Result<std::optional<AlertRecord>> claim_delivery(int64_t id, const std::string& claimant,
                                                      const std::string& dead_holder,
                                                      int64_t now_ms, int64_t until_ms) override {
        auto st = m_c->prepare(alert_claim_sql(k_cols, "?1", "?2", "?3", "?4", "?5"));
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, id);
        st->bind_text(2, claimant);
        st->bind_text(3, dead_holder);
        st->bind_int(4, now_ms);
        st->bind_int(5, until_ms);
        const int rc = st->step();
        if (rc == SQLITE_ROW) {
            AlertRecord a = read_row(*st);
            if (st->step() != SQLITE_DONE) {
                return m_c->error("claiming an alert delivery");
            }
            return std::optional<AlertRecord>(std::move(a));
        }
        if (rc != SQLITE_DONE) {
            return m_c->error("claiming an alert delivery");
        }
        return std::optional<AlertRecord>();
    }

    Result<bool> set_delivery(int64_t id, bool resolve_notice, Delivery d, const std::string& error,
                              const std::string& claimant) override {
        auto st = m_c->prepare(alert_set_delivery_sql(resolve_notice, "?1", "?2", "?3", "?4"));
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, id);
        st->bind_int(2, static_cast<int>(d));
        if (error.empty()) {
            st->bind_null(3);
        } else {
            st->bind_text(3, error);
        }
        st->bind_text(4, claimant);
        ASSAY_RETURN_IF_ERROR(m_c->run(*st, "recording an alert delivery"));
        return m_c->changes() == 1;
    }

    Status release_delivery(int64_t id, const std::string& claimant) override {
        auto st = m_c->prepare(alert_release_sql("?1", "?2"));
        if (!st.ok()) {
            return st.status();
        }
        st->bind_int(1, id);
        st->bind_text(2, claimant);
        return m_c->run(*st, "releasing an alert delivery");
    }

    Result<std::vector<AlertRecord>> undelivered() override {
        return select(std::string("SELECT ") + k_cols + " FROM alerts WHERE " +
                          k_alert_notice_pending + " ORDER BY id",
                      std::nullopt);
    }

    Result<std::vector<AlertRecord>> list(int limit) override {
        return select(std::string("SELECT ") + k_cols + " FROM alerts ORDER BY id DESC LIMIT " +
                          std::to_string(limit <= 0 ? -1 : limit),
                      std::nullopt);
    }

private:
    Result<std::vector<AlertRecord>> select(const std::string& sql,
                                            std::optional<std::string> arg) {
        auto st = m_c->prepare(sql);
        if (!st.ok()) {
            return st.status();
        }
        if (arg) {
            st->bind_text(1, *arg);
        }
        std::vector<AlertRecord> out;
        int rc;
        while ((rc = st->step()) == SQLITE_ROW) {
            out.push_back(read_row(*st));
        }
        if (rc != SQLITE_DONE) {
            return m_c->error("reading alerts");
        }
        return out;
    }

    std::unique_ptr<SqliteConn> m_c;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> open_sqlite_alert_store(const std::string& sqlite_path) {
    auto c = SqliteConn::open(sqlite_path);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<AlertStore>(new SqliteAlertStore(std::move(c.value())));
}

}  // namespace assay
