// PostgreSQL AlertStore (alert_store.h, postgres/monitor_stores.h). "Fires
// once, resolves once" across workers: begin() opens a transaction and takes
// a transaction-level advisory lock, so the read of the open alerts and the
// transitions written from it (AlertManager::apply) run one worker at a time,
// each seeing the commits before it (READ COMMITTED, the read comes after the
// lock): a second worker finds the alert already firing and only touches it,
// or already resolved and leaves it. The partial unique index
// alerts_firing_once (one firing row per rule and group) makes the database
// refuse a second firing row even without the lock; resolve() only changes a
// firing row.
#include "store/alert_store.h"

#include "store/alert_outbox_sql.h"
#include "store/postgres/conn.h"
#include "store/postgres/monitor_stores.h"
#include "store/postgres/open.h"

namespace assay {

namespace {

using pg::PgConn;
using pg::PgParams;
using pg::PgResult;

// pg_advisory_xact_lock(k_alert_lock_class, 0): alert transitions.
constexpr int k_alert_lock_class = 0x414c5401;  // "ALT\1"

const char* k_cols =
    "id, rule, kind, group_key, coalesce(tenant, ''), state, fired_ms, resolved_ms, last_eval_ms, "
    "coalesce(value, 0), coalesce(baseline, 0), coalesce(p_value, 1), coalesce(count, 0), "
    "coalesce(baseline_count, 0), message, fire_delivered, resolve_delivered, "
    "coalesce(delivery_error, ''), coalesce(delivery_claimed_by, ''), "
    "coalesce(delivery_claimed_until_ms, 0)";

AlertRecord read_row(const PgResult& r, int row) {
    AlertRecord a;
    a.id = r.integer(row, 0);
    a.rule = r.text(row, 1);
    a.kind = r.text(row, 2);
    a.group_key = r.text(row, 3);
    a.tenant = r.text(row, 4);
    a.state = r.text(row, 5);
    a.fired_ms = r.integer(row, 6);
    if (!r.null(row, 7)) {
        a.resolved_ms = r.integer(row, 7);
    }
    a.last_eval_ms = r.integer(row, 8);
    a.value = r.real(row, 9);
    a.baseline = r.real(row, 10);
    a.p_value = r.real(row, 11);
    a.count = r.integer(row, 12);
    a.baseline_count = r.integer(row, 13);
    a.message = r.text(row, 14);
    a.fire_delivered = static_cast<Delivery>(r.integer(row, 15));
    a.resolve_delivered = static_cast<Delivery>(r.integer(row, 16));
    a.delivery_error = r.text(row, 17);
    a.delivery_claimed_by = r.text(row, 18);
    a.delivery_claimed_until_ms = r.integer(row, 19);
    return a;
}

class PostgresAlertStore final : public AlertStore {
public:
    explicit PostgresAlertStore(std::unique_ptr<PgConn> c) : m_c(std::move(c)) {}

    Status begin() override {
        ASSAY_RETURN_IF_ERROR(m_c->exec("BEGIN", "beginning alert transitions").status());
        PgParams p;
        const std::string sql =
            "SELECT pg_advisory_xact_lock(" + p.integer(k_alert_lock_class) + "::integer, 0)";
        auto r = m_c->exec(sql, p, "locking alert transitions");
        if (!r.ok()) {
            (void)m_c->exec("ROLLBACK", "rolling back");  // the lock error matters more
            return r.status();
        }
        return {};
    }
    Status commit() override { return m_c->exec("COMMIT", "committing alerts").status(); }
    Status rollback() override { return m_c->exec("ROLLBACK", "rolling back alerts").status(); }

    Result<std::vector<AlertRecord>> open_alerts(const std::string& rule) override {
        PgParams p;
        const std::string sql = std::string("SELECT ") + k_cols +
                                " FROM alerts WHERE rule = " + p.text(rule) +
                                " AND state = 'firing' ORDER BY id";
        return select(sql, p);
    }

    Result<std::optional<int64_t>> last_resolved(const std::string& rule,
                                                 const std::string& group_key) override {
        PgParams p;
        const std::string sql = "SELECT max(resolved_ms) FROM alerts WHERE rule = " + p.text(rule) +
                                " AND group_key = " + p.text(group_key) + " AND state = 'resolved'";
        auto r = m_c->exec(sql, p, "reading alerts");
        if (!r.ok()) {
            return r.status();
        }
        if (r->null(0, 0)) {
            return std::optional<int64_t>();
        }
        return std::optional<int64_t>(r->integer(0, 0));
    }

    Result<int64_t> insert(const AlertRecord& a) override {
        PgParams p;
        std::string sql =
            "INSERT INTO alerts (rule, kind, group_key, tenant, state, fired_ms, last_eval_ms, "
            "value, baseline, count, baseline_count, p_value, message) VALUES (" +
            p.text(a.rule) + ", " + p.text(a.kind) + ", " + p.text(a.group_key) + ", " +
            p.text_or_null(a.tenant) + ", 'firing', ";
        const std::string fired = p.integer(a.fired_ms);
        sql += fired + ", " + fired + ", " + p.real(a.value) + ", " + p.real(a.baseline) + ", " +
               p.integer(a.count) + ", " + p.integer(a.baseline_count) + ", " + p.real(a.p_value) +
               ", " + p.text(a.message) + ") RETURNING id";
        auto r = m_c->exec(sql, p, "inserting an alert");
        if (!r.ok()) {
            return r.status();
        }
        return r->integer(0, 0);
    }

    Status touch(const AlertRecord& a) override {
        PgParams p;
        const std::string sql =
            "UPDATE alerts SET last_eval_ms = " + p.integer(a.last_eval_ms) +
            ", value = " + p.real(a.value) + ", baseline = " + p.real(a.baseline) +
            ", count = " + p.integer(a.count) +
            ", baseline_count = " + p.integer(a.baseline_count) +
            ", p_value = " + p.real(a.p_value) + " WHERE id = " + p.integer(a.id);
        return m_c->exec(sql, p, "updating an alert").status();
    }

    Status resolve(int64_t id, int64_t at_ms, const std::string& message) override {
        PgParams p;
        const std::string at = p.integer(at_ms);
        const std::string sql = "UPDATE alerts SET state = 'resolved', resolved_ms = " + at +
                                ", last_eval_ms = " + at +
                                ", message = message || ' | resolved: ' || " + p.text(message) +
                                " WHERE id = " + p.integer(id) + " AND state = 'firing'";
        return m_c->exec(sql, p, "resolving an alert").status();
    }

    Result<std::optional<AlertRecord>> claim_delivery(int64_t id, const std::string& claimant,
                                                      const std::string& dead_holder,
                                                      int64_t now_ms, int64_t until_ms) override {
        PgParams p;
        const std::string id_p = p.integer(id), claimant_p = p.text(claimant),
                          dead_p = p.text(dead_holder), now_p = p.integer(now_ms),
                          until_p = p.integer(until_ms);
        auto rows = select(alert_claim_sql(k_cols, id_p, claimant_p, dead_p, now_p, until_p), p);
        if (!rows.ok()) {
            return rows.status();
        }
        if (rows->empty()) {
            return std::optional<AlertRecord>();
        }
        return std::optional<AlertRecord>(std::move(rows->front()));
    }

    Result<bool> set_delivery(int64_t id, bool resolve_notice, Delivery d, const std::string& error,
                              const std::string& claimant) override {
        PgParams p;
        const std::string id_p = p.integer(id), d_p = p.integer(static_cast<int>(d)),
                          error_p = p.text_or_null(error), claimant_p = p.text(claimant);
        auto r = m_c->exec(alert_set_delivery_sql(resolve_notice, id_p, d_p, error_p, claimant_p),
                           p, "recording an alert delivery");
        if (!r.ok()) {
            return r.status();
        }
        return r->affected() == 1;
    }

    Status release_delivery(int64_t id, const std::string& claimant) override {
        PgParams p;
        const std::string id_p = p.integer(id), claimant_p = p.text(claimant);
        return m_c->exec(alert_release_sql(id_p, claimant_p), p, "releasing an alert delivery")
            .status();
    }

    Result<std::vector<AlertRecord>> undelivered() override {
        return select(std::string("SELECT ") + k_cols + " FROM alerts WHERE " +
                          k_alert_notice_pending + " ORDER BY id",
                      PgParams());
    }

    Result<std::vector<AlertRecord>> list(int limit) override {
        PgParams p;
        const std::string lim = limit <= 0 ? p.null() : p.integer(limit);
        return select(std::string("SELECT ") + k_cols + " FROM alerts ORDER BY id DESC LIMIT " +
                          lim + "::bigint",
                      p);
    }

private:
    Result<std::vector<AlertRecord>> select(const std::string& sql, const PgParams& p) {
        auto r = m_c->exec(sql, p, "reading alerts");
        if (!r.ok()) {
            return r.status();
        }
        std::vector<AlertRecord> out;
        out.reserve(static_cast<size_t>(r->rows()));
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back(read_row(*r, i));
        }
        return out;
    }

    std::unique_ptr<PgConn> m_c;
};

}  // namespace

Result<std::unique_ptr<AlertStore>> open_postgres_alert_store(const std::string& uri) {
    auto c = pg::connect_store(uri);
    if (!c.ok()) {
        return c.status();
    }
    return std::unique_ptr<AlertStore>(new PostgresAlertStore(std::move(c.value())));
}

}  // namespace assay
